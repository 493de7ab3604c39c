import { beforeAll, describe, expect, it } from 'vitest';
import { pascal } from '../../infra/constructs/step-permissions';
import { ACQUISITION_STEP_NAMES, ACQUISITION_STEPS } from '../../workflows/acquisition-steps';
import { RELEASE_STEP_NAMES, RELEASE_STEPS } from '../../workflows/release-steps';
import { TASK_TIMEOUT } from '../../workflows/task-defaults';
import { resourcesOfType, type Synthesized, synth } from '../support/synthesis';

let s: Synthesized;
beforeAll(() => {
  s = synth();
});

/** The one function of a step, found by the logical id its construct id gives it. */
const functionOf = (step: string, construct = '') => {
  const found = resourcesOfType(s.json, 'AWS::Lambda::Function').filter(([id]) => id.startsWith(`${construct}${pascal(step)}Step`));
  expect(found, step).toHaveLength(1);
  return found[0]![1];
};

describe('step timeouts come from the step registries', () => {
  it.each(ACQUISITION_STEP_NAMES)('acquisition step %s: the function timeout is the registry one, below the Task timeout', (step) => {
    // Act
    const fn = functionOf(step);

    // Assess
    expect(fn.Properties?.Timeout).toBe(ACQUISITION_STEPS[step].timeoutSeconds);
    expect(ACQUISITION_STEPS[step].timeoutSeconds).toBeLessThan(TASK_TIMEOUT.toSeconds());
  });

  it.each(RELEASE_STEP_NAMES)('release step %s: the function timeout is the registry one, below the Task timeout', (step) => {
    // Act
    const fn = functionOf(step, 'Release');

    // Assess
    expect(fn.Properties?.Timeout).toBe(RELEASE_STEPS[step].timeoutSeconds);
    expect(RELEASE_STEPS[step].timeoutSeconds).toBeLessThan(TASK_TIMEOUT.toSeconds());
  });

  it('the acquisition workflow construct keeps the logical ids the stack gave its resources (an update replaces nothing)', () => {
    // Prepare: built in the stack itself before, the functions were `<Step>Step…` and the machine `AcquisitionStateMachine…`.
    const machines = resourcesOfType(s.json, 'AWS::StepFunctions::StateMachine').map(([id]) => id);

    // Assess
    expect(machines.filter((id) => id.startsWith('AcquisitionStateMachine'))).toHaveLength(1);
    for (const step of ACQUISITION_STEP_NAMES) expect(functionOf(step)).toBeDefined();
    expect(resourcesOfType(s.json, 'AWS::IAM::Role').some(([id]) => id.includes('Default'))).toBe(false);
  });
});
