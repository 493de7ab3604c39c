import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';

/**
 * The benchmark's reference bundle: a minimal handler that uses only the EC2 client, bundled exactly like the
 * deployed functions (bench/bundles.ts). Every function's bundle and cold import are reported relative to it, so the
 * ratio says what a function carries beyond the one client every workload-side step needs.
 */
const ec2 = new EC2Client({});

export const handler = async (event: { instanceId: string }): Promise<number> => {
  const out = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [event.instanceId] }));
  return out.Reservations?.length ?? 0;
};
