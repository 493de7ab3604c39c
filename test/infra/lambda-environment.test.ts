import { beforeAll, describe, expect, it } from 'vitest';
import { QUARANTINE_PROFILE_OUTPUT as CLI_QUARANTINE_OUTPUT } from '../../cli/deployment/stack-outputs';
import { QUARANTINE_PROFILE_OUTPUT } from '../../infra/quarantine-profile';
import { type CfnTemplate, resourcesOfType, type Synthesized, synth } from '../support/synthesis';

/**
 * Every resource a step function's environment names is also named by a stack output: a
 * deployment's outputs then resolve the whole Lambda environment, which is how the local runner gives the handlers
 * exactly the deployed environment (cli/local/lambda-environment.ts), and how a responder finds each resource.
 */
let quarantine: Synthesized;

// One synthesis, with the option that adds a reference: the default template's outputs are pinned by
// ir-stack.test.ts (exactly IR_STACK_OUTPUTS) and its environments resolved end to end by local-deployment.e2e.test.ts.
beforeAll(() => {
  quarantine = synth({ 'forensics:quarantineProfile': true });
});

/** `Ref:X` / `GetAtt:X.Attr` of every resource reference inside a value (pseudo parameters left out). */
function references(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) references(v, into);
  else if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if (typeof obj.Ref === 'string' && !obj.Ref.startsWith('AWS::')) into.add(`Ref:${obj.Ref}`);
    const getAtt = obj['Fn::GetAtt'];
    if (Array.isArray(getAtt)) into.add(`GetAtt:${String(getAtt[0])}.${String(getAtt[1])}`);
    for (const v of Object.values(obj)) references(v, into);
  }
  return into;
}

/**
 * The functions a state machine invokes: what the local runner runs (infra/synthesize.ts). The redrive function is
 * started by EventBridge, not by a state machine, and the local runner stands in for it (cli/local/local-redrive.ts):
 * its environment (the record-failure function's name) is not resolved from the outputs.
 */
function stepFunctionIds(json: CfnTemplate): Set<string> {
  const machines = resourcesOfType(json, 'AWS::StepFunctions::StateMachine').map(([, m]) => m.Properties?.DefinitionString);
  const ids = [...references(machines)].map((ref) => /^GetAtt:(.+)\.Arn$/.exec(ref)?.[1]);
  return new Set(ids.filter((id): id is string => id !== undefined && resourcesOfType(json, 'AWS::Lambda::Function').some(([fid]) => fid === id)));
}

function unnamedByOutputs(json: CfnTemplate): string[] {
  const named = references(Object.values(json.Outputs ?? {}).map((o) => o.Value));
  const used = new Set<string>();
  const steps = stepFunctionIds(json);
  expect(steps.size).toBeGreaterThan(10);
  for (const [id, fn] of resourcesOfType(json, 'AWS::Lambda::Function')) {
    if (!steps.has(id)) continue;
    references((fn.Properties?.Environment as { Variables?: unknown } | undefined)?.Variables, used);
  }
  return [...used].filter((r) => !named.has(r)).sort();
}

describe('function environments are resolvable from the stack outputs', () => {
  it('with the quarantine profile: every reference in a step function\'s environment is an output, its ARN (isolate step) included', () => {
    expect(unnamedByOutputs(quarantine.json)).toEqual([]);
    expect(quarantine.json.Outputs?.[QUARANTINE_PROFILE_OUTPUT]?.Value).toEqual({
      'Fn::GetAtt': [resourcesOfType(quarantine.json, 'AWS::IAM::InstanceProfile').find(([id]) => id.startsWith('QuarantineProfile'))?.[0], 'Arn'],
    });
    expect(CLI_QUARANTINE_OUTPUT).toBe(QUARANTINE_PROFILE_OUTPUT);
  });
});
