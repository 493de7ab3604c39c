import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  SendCommandCommand,
  type SSMClient,
} from '@aws-sdk/client-ssm';
import { errorName } from '../domain/errors';

/** Run Command for the memory capture: whether the instance is managed, the command, its result. */
export class SsmCommandAdapter {
  constructor(private readonly ssm: SSMClient) {}

  /** The instance's SSM registration; null when Systems Manager does not know it. */
  async instanceInformation(instanceId: string): Promise<{ pingStatus: string; platformType: string } | null> {
    const out = await this.ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: [instanceId] }] }));
    const info = (out.InstanceInformationList ?? []).find((i) => i.InstanceId === instanceId);
    return info ? { pingStatus: info.PingStatus ?? 'unknown', platformType: info.PlatformType ?? 'unknown' } : null;
  }

  /**
   * AWS-RunShellScript on one instance: `executionTimeoutSeconds` is the document's hard limit on the run,
   * `deliveryTimeoutSeconds` how long the command may wait for the agent (SendCommand TimeoutSeconds).
   */
  async runShellScript(input: {
    instanceId: string;
    commands: string[];
    executionTimeoutSeconds: number;
    deliveryTimeoutSeconds: number;
    comment: string;
  }): Promise<string> {
    const out = await this.ssm.send(
      new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [input.instanceId],
        Parameters: { commands: input.commands, executionTimeout: [String(input.executionTimeoutSeconds)] },
        TimeoutSeconds: input.deliveryTimeoutSeconds,
        Comment: input.comment.slice(0, 100),
      }),
    );
    const id = out.Command?.CommandId;
    if (!id) throw new Error('SendCommand returned no command id');
    return id;
  }

  /** The invocation's status and output; undefined while Run Command does not list it yet. */
  async invocation(commandId: string, instanceId: string): Promise<{ status: string; stdout: string; stderr: string } | undefined> {
    try {
      const out = await this.ssm.send(new GetCommandInvocationCommand({ CommandId: commandId, InstanceId: instanceId }));
      return { status: out.Status ?? 'Pending', stdout: out.StandardOutputContent ?? '', stderr: out.StandardErrorContent ?? '' };
    } catch (err) {
      if (errorName(err) === 'InvocationDoesNotExist') return undefined;
      throw err;
    }
  }

  async cancel(commandId: string, instanceId: string): Promise<void> {
    await this.ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] }));
  }
}
