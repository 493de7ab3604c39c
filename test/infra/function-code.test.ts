import { beforeAll, describe, expect, it } from 'vitest';
import { resourcesOfType, type Synthesized, synth } from '../support/synthesis';

/**
 * Each function deploys its own bundle. CDK caches staged assets by source path and bundling options, and the house
 * construct's bundling is a hook (a function, which that cache key ignores): a key without the entry would give every
 * function the first one's code — a state machine of Triage handlers.
 */
let app: Synthesized;
beforeAll(() => {
  app = synth();
});

describe('function code', () => {
  it('every forensic function has its own code asset, and its handler is index.handler', () => {
    // Prepare
    const functions = resourcesOfType(app.json, 'AWS::Lambda::Function').filter(([, f]) => String(f.Properties?.Description ?? '').startsWith('Forensic '));
    // Act
    const keys = functions.map(([, f]) => JSON.stringify((f.Properties?.Code as { S3Key?: unknown } | undefined)?.S3Key));
    // Assess
    expect(functions.length).toBeGreaterThan(15);
    expect(new Set(keys).size).toBe(functions.length);
    expect(new Set(functions.map(([, f]) => f.Properties?.Handler))).toEqual(new Set(['index.handler']));
  });
});
