import { CloudFormationClient, DescribeStacksCommand, type Stack } from '@aws-sdk/client-cloudformation';
import { IR_STACK_OUTPUTS } from '../../deployment/stack-outputs';
import { attempt, cannotRun, type DoctorCheck, fail, type Outcome, pass, warn } from '../check';
import type { ClientSettings } from '../context';

/**
 * `stack`: the IR stack exists, is in a usable state, and has every output the CLI reads (a deployment that failed
 * half-way, or a stack from an older version, is found here rather than in the middle of an incident).
 */

export interface StackFacts {
  stackName: string;
  region: string;
  describe: Outcome<Stack | undefined>;
}

export async function gatherStack(settings: ClientSettings, stackName: string, region: string): Promise<StackFacts> {
  const cfn = new CloudFormationClient(settings);
  try {
    const describe = await attempt('cloudformation:DescribeStacks', async () => (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0]);
    return { stackName, region, describe };
  } finally {
    cfn.destroy();
  }
}

/** Statuses in which the stack's resources are all there and as last deployed. */
const HEALTHY = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE']);
/** The last update failed and was rolled back: the previous version runs, the intended one does not. */
const ROLLED_BACK = new Set(['UPDATE_ROLLBACK_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE']);

export function evaluateStack(facts: StackFacts, emulator: boolean): DoctorCheck {
  const name = 'stack';
  const where = `${facts.stackName} in ${facts.region}`;
  if (!facts.describe.ok) {
    if (facts.describe.error.notFound) {
      return fail(name, `stack ${where} does not exist — deploy it (npx cdk deploy) or pass --stack NAME / --region`);
    }
    return cannotRun(name, facts.describe.error, `stack ${where}`, emulator);
  }
  const stack = facts.describe.value;
  if (!stack) return fail(name, `stack ${where} does not exist — deploy it (npx cdk deploy) or pass --stack NAME / --region`);
  const status = stack.StackStatus ?? 'UNKNOWN';
  const outputs = new Set((stack.Outputs ?? []).filter((o) => o.OutputValue).map((o) => o.OutputKey));
  const missing = Object.values(IR_STACK_OUTPUTS).filter((key) => !outputs.has(key));
  if (!HEALTHY.has(status) && !ROLLED_BACK.has(status)) {
    const fix = status.endsWith('_IN_PROGRESS') ? 'wait for the operation to finish, then run doctor again' : 'fix the failed resources (CloudFormation events) and deploy again';
    return (status.endsWith('_IN_PROGRESS') ? warn : fail)(name, `stack ${where} is ${status} — ${fix}`);
  }
  if (missing.length > 0) {
    return fail(name, `stack ${where} (${status}) lacks the output(s) ${missing.join(', ')} — deploy the current version (npx cdk deploy)`);
  }
  if (ROLLED_BACK.has(status)) {
    return warn(name, `stack ${where} is ${status}: its last update failed and was rolled back — the previous version runs; fix and deploy again`);
  }
  return pass(name, `stack ${where} is ${status} with all ${outputs.size} outputs the CLI reads`);
}

/** The stack's outputs by key (empty when the stack could not be read). */
export function stackOutputs(facts: StackFacts): Record<string, string> {
  if (!facts.describe.ok || !facts.describe.value) return {};
  const out: Record<string, string> = {};
  for (const o of facts.describe.value.Outputs ?? []) if (o.OutputKey && o.OutputValue) out[o.OutputKey] = o.OutputValue;
  return out;
}
