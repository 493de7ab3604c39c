import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACQUISITION_STEPS } from '../../workflows/acquisition-steps';
import { type Synthesized, renderAsl, resourcesOfType, synth } from '../support/synthesis';

/**
 * The IR stack synthesized with memory capture configured: the settings reach every function, synthesis stays
 * cdk-nag clean, and "Start memory capture" sits after "Isolate network", off the containment path, catching
 * everything into `$.memoryFailure`.
 */
const SHA = 'ab'.repeat(32);
const CONTEXT = {
  'forensics:memoryToolsSnapshots': { 'eu-west-1': 'snap-0123456789abcdef0' },
  'forensics:memoryToolVersion': '0.14.0',
  'forensics:memoryToolSha256': SHA,
  'forensics:memoryCaptureTimeoutMinutes': 45,
};
let s: Synthesized;
beforeAll(() => {
  s = synth(CONTEXT);
});

type State = { Type: string; Next?: string; Catch?: { ErrorEquals: string[]; Next: string; ResultPath?: string }[] };

describe('memory capture in the synthesized stack', () => {
  it('every function gets the memory settings', () => {
    for (const [id, fn] of resourcesOfType(s.json, 'AWS::Lambda::Function')) {
      const vars = (fn.Properties!.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(vars, id).toMatchObject({
        MEMORY_CAPTURE: 'true',
        MEMORY_TOOLS_SNAPSHOTS: JSON.stringify({ 'eu-west-1': 'snap-0123456789abcdef0' }),
        MEMORY_TOOL_VERSION: '0.14.0',
        MEMORY_TOOL_SHA256: SHA,
        MEMORY_CAPTURE_TIMEOUT_MINUTES: '45',
      });
    }
  });

  it('cdk-nag finds nothing unacknowledged', () => {
    const nag = s.report.pluginReports.filter((r) => r.pluginName === 'AwsSolutions');
    expect(nag.flatMap((r) => r.violations.map((v) => `${v.severity} ${v.ruleName}`))).toEqual([]);
    expect(new AwsSolutionsChecks().validateScope(s.app).violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('"Start memory capture" follows "Isolate network", goes on to "Record containment" (also on any failure, at $.memoryFailure), then the scope', () => {
    // Prepare
    const asl = renderAsl(s.json) as unknown as { States: Record<string, State> };
    const isolate = asl.States[ACQUISITION_STEPS.isolateNetwork.state] as State;
    const memory = asl.States[ACQUISITION_STEPS.startMemoryCapture.state] as State;
    const record = asl.States[ACQUISITION_STEPS.recordContainment.state] as State;
    // Assess
    expect(isolate.Next).toBe(ACQUISITION_STEPS.startMemoryCapture.state);
    expect(memory.Next).toBe(ACQUISITION_STEPS.recordContainment.state);
    expect(memory.Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: ACQUISITION_STEPS.recordContainment.state, ResultPath: '$.memoryFailure' }]);
    expect(record.Next).toBe(ACQUISITION_STEPS.scopeIncident.state);
    // The containment's records are never skipped silently: a failure to write them is recorded by "Record failure".
    expect(record.Catch).toEqual([{ ErrorEquals: ['States.ALL'], Next: ACQUISITION_STEPS.recordFailure.state, ResultPath: '$.failure' }]);
  });
});
