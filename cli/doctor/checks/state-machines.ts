import { DescribeStateMachineCommand, type DescribeStateMachineCommandOutput, SFNClient } from '@aws-sdk/client-sfn';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass, warn } from '../check';
import type { DoctorContext } from '../context';

/**
 * The two state machines (`state-machine.acquisition`, `state-machine.release`) exist and are ACTIVE, and each logs
 * its executions (`….logging`: level ALL with a log group, as the stack deploys them — the execution history is gone
 * 90 days after an execution ends; the log group keeps it as long as the evidence).
 */

export interface MachineFacts {
  role: 'acquisition' | 'release';
  arn: string | undefined;
  describe: Outcome<DescribeStateMachineCommandOutput> | undefined;
}

export async function gatherMachines(ctx: DoctorContext): Promise<MachineFacts[]> {
  const machines: { role: MachineFacts['role']; arn: string | undefined }[] = [
    { role: 'acquisition', arn: ctx.resources.stateMachineArn },
    { role: 'release', arn: ctx.resources.releaseStateMachineArn },
  ];
  const sfn = new SFNClient(ctx.client());
  try {
    return await Promise.all(
      machines.map(async (m) => ({
        ...m,
        describe: m.arn ? await attempt('states:DescribeStateMachine', () => sfn.send(new DescribeStateMachineCommand({ stateMachineArn: m.arn }))) : undefined,
      })),
    );
  } finally {
    sfn.destroy();
  }
}

const OUTPUT = { acquisition: 'StateMachineArn', release: 'ReleaseStateMachineArn' } as const;
const FLAG = { acquisition: '--state-machine-arn', release: '--release-state-machine-arn' } as const;

export function evaluateMachines(facts: readonly MachineFacts[], emulator: boolean): DoctorCheck[] {
  return facts.flatMap((m) => {
    const name = `state-machine.${m.role}`;
    const logName = `${name}.logging`;
    if (!m.arn || !m.describe) {
      const detail = `the ${m.role} state machine is unknown: no ${OUTPUT[m.role]} stack output — deploy the stack or pass ${FLAG[m.role]}`;
      return [fail(name, detail), fail(logName, `not checked: ${detail}`)];
    }
    if (!m.describe.ok) {
      const check = m.describe.error.notFound
        ? fail(name, `${m.arn} does not exist — deploy the stack`)
        : cannotRun(name, m.describe.error, `the ${m.role} state machine`, emulator);
      return [check, fail(logName, `not checked: ${check.detail}`)];
    }
    const sm = m.describe.value;
    const status = sm.status ?? 'ACTIVE';
    const exists = status === 'ACTIVE'
      ? pass(name, `${sm.name ?? m.arn} is ACTIVE (${sm.type ?? 'STANDARD'})`)
      : fail(name, `${sm.name ?? m.arn} is ${status} — deploy the stack again`);
    const logging = sm.loggingConfiguration;
    const destinations = (logging?.destinations ?? []).map((d) => d.cloudWatchLogsLogGroup?.logGroupArn).filter(Boolean);
    const level = logging?.level ?? 'OFF';
    const logs =
      level === 'ALL' && destinations.length > 0
        ? pass(logName, `execution logs at level ALL${logging?.includeExecutionData ? ' with execution data' : ''} to ${destinations[0]}`)
        : warn(logName, `execution logging is ${level}${destinations.length === 0 ? ' without a log group' : ''}: the execution history is lost 90 days after an execution ends — redeploy the stack (level ALL)`);
    return [exists, logs];
  });
}
