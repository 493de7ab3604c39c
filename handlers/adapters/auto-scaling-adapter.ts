import {
  type AutoScalingClient,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
  EnterStandbyCommand,
} from '@aws-sdk/client-auto-scaling';

/** Auto Scaling membership: found, and ended before isolation so health checks cannot replace (terminate) it. */
export class AutoScalingAdapter {
  constructor(private readonly autoScaling: AutoScalingClient) {}

  async describeMembership(instanceId: string): Promise<{ name: string; lifecycleState: string } | undefined> {
    const out = await this.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] }));
    const found = (out.AutoScalingInstances ?? []).find((i) => i.InstanceId === instanceId);
    return found?.AutoScalingGroupName
      ? { name: found.AutoScalingGroupName, lifecycleState: found.LifecycleState ?? 'unknown' }
      : undefined;
  }

  /** Standby keeps the instance in the group (easy to return on release) but out of health checks and scaling. */
  async enterStandby(groupName: string, instanceId: string): Promise<void> {
    await this.autoScaling.send(
      new EnterStandbyCommand({
        AutoScalingGroupName: groupName,
        InstanceIds: [instanceId],
        ShouldDecrementDesiredCapacity: true,
      }),
    );
  }

  async detach(groupName: string, instanceId: string, decrementDesiredCapacity: boolean): Promise<void> {
    await this.autoScaling.send(
      new DetachInstancesCommand({
        AutoScalingGroupName: groupName,
        InstanceIds: [instanceId],
        ShouldDecrementDesiredCapacity: decrementDesiredCapacity,
      }),
    );
  }
}
