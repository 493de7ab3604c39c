import path from 'node:path';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../../handlers/adapters/aws-client-set';
import { ACQUISITION_STEPS, ACQUISITION_SUPPORT_FUNCTIONS } from '../../../../workflows/acquisition-steps';
import { RELEASE_STEPS } from '../../../../workflows/release-steps';

/**
 * The test and benchmark seams (call middleware registry, injected errors) live in test/support/aws-call-hooks.ts;
 * the shipped clients carry only an unset hook. Proven here on the clients and on the bundles the Lambdas ship.
 */
const saved = { ...process.env };
afterAll(() => {
  process.env = saved;
});

const middlewareNames = (client: { middlewareStack: { identify(): string[] } }) =>
  client.middlewareStack.identify().map((entry) => entry.split(' ')[0]);

describe('AWS client hook', () => {
  it('without a hook, a client carries the SDK middleware and the error renaming only', () => {
    // Act
    const ec2 = createAwsClients().ec2('eu-west-1');

    // Assess
    expect(middlewareNames(ec2)).toContain('forensicsServerErrorNames');
    expect(middlewareNames(ec2)).not.toContain('forensicsCallHooks');
  });

  it('the test support hook reaches clients created after it is set, and middleware added later applies to them', async () => {
    // Prepare
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' });
    const { addClientMiddleware, awsError } = await import('../../../support/aws-call-hooks');
    const ec2 = createAwsClients().ec2('eu-west-1');
    const seen: string[] = [];
    const remove = addClientMiddleware(async (call) => {
      seen.push(`${call.service}.${call.command}`);
      throw awsError('UnauthorizedOperation', 'injected', 403);
    });

    // Act
    const answer = ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] }));

    // Assess
    await expect(answer).rejects.toMatchObject({ name: 'UnauthorizedOperation', $metadata: { httpStatusCode: 403 } });
    expect(seen).toEqual(['EC2.DescribeInstances']);
    expect(middlewareNames(ec2)).toContain('forensicsCallHooks');
    remove();
  });

  it('no Lambda bundle carries the call middleware registry or the injected errors', async () => {
    // Prepare: every function's entry, bundled for Node as the stack bundles it.
    const entries = [ACQUISITION_STEPS, ACQUISITION_SUPPORT_FUNCTIONS, RELEASE_STEPS].flatMap((steps) =>
      Object.values(steps).map((step) => step.entry),
    );

    // Act
    const out = await build({
      entryPoints: entries,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outdir: 'bundles',
      // Shared code emitted once: the same modules as the per-function bundles, in a fraction of the time.
      splitting: true,
      write: false,
      logLevel: 'silent',
    });

    // Assess
    const bundles = out.outputFiles.filter((f) => f.path.endsWith('.js'));
    expect(bundles.length).toBeGreaterThanOrEqual(entries.length);
    const seams = ['forensicsCallHooks', 'function addClientMiddleware', 'function awsError'];
    const carrying = bundles.flatMap((b) => seams.filter((seam) => b.text.includes(seam)).map((seam) => `${path.basename(b.path)}: ${seam}`));
    expect(carrying).toEqual([]);
  });
});
