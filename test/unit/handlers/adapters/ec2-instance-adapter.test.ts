import { DescribeInstanceTypesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { Ec2InstanceAdapter } from '../../../../handlers/adapters/ec2-instance-adapter';
import { awsError } from '../../../support/ec2-test-fixtures';

const ec2 = mockClient(EC2Client);
afterEach(() => ec2.reset());

describe('Ec2InstanceAdapter, DescribeInstanceTypes', () => {
  it('answers the instance store and the memory plan from one call per type (they are asked in the same round trip)', async () => {
    // Prepare
    ec2.on(DescribeInstanceTypesCommand).resolves({
      InstanceTypes: [
        {
          InstanceType: 'm5d.large',
          InstanceStorageSupported: true,
          InstanceStorageInfo: { TotalSizeInGB: 75, Disks: [{ Count: 1, SizeInGB: 75, Type: 'ssd' }] },
          MemoryInfo: { SizeInMiB: 8192 },
          ProcessorInfo: { SupportedArchitectures: ['x86_64'] },
        },
      ],
    });
    const adapter = new Ec2InstanceAdapter(new EC2Client({ region: 'eu-west-1' }));

    // Act
    const [storage, memory] = await Promise.all([adapter.describeInstanceStorage('m5d.large'), adapter.describeInstanceTypeMemory('m5d.large')]);

    // Assess
    expect(ec2.commandCalls(DescribeInstanceTypesCommand).map((c) => c.args[0].input)).toEqual([{ InstanceTypes: ['m5d.large'] }]);
    expect(storage).toMatchObject({ supported: true, totalSizeGB: 75 });
    expect(memory).toEqual({ memoryMiB: 8192, architectures: ['x86_64'] });
  });

  it('does not keep a failed answer: the next ask calls again', async () => {
    // Prepare
    ec2.on(DescribeInstanceTypesCommand).rejectsOnce(awsError('RequestLimitExceeded')).resolves({ InstanceTypes: [{ MemoryInfo: { SizeInMiB: 1024 } }] });
    const adapter = new Ec2InstanceAdapter(new EC2Client({ region: 'eu-west-1', maxAttempts: 1 }));

    // Act
    await expect(adapter.describeInstanceTypeMemory('t3.micro')).rejects.toMatchObject({ name: 'RequestLimitExceeded' });
    const memory = await adapter.describeInstanceTypeMemory('t3.micro');

    // Assess
    expect(memory.memoryMiB).toBe(1024);
    expect(ec2.commandCalls(DescribeInstanceTypesCommand)).toHaveLength(2);
  });
});
