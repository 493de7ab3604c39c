import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DescribeNetworkInterfacesCommand, DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_BUNDLE_FILE } from '../../infra/bundling/lambda-bundle';
import { functionDescription } from '../../infra/constructs/forensic-function';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import { executeLocal, executeLocalRelease, type LocalEnvironment, type RunLocalReleaseResult, type RunLocalResult } from '../../cli/local/local-runner';
import { findingEventFor, seedVictim, type Victim } from '../../cli/local/seed-victim';
import { ACQUISITION_STEPS } from '../../workflows/acquisition-steps';
import { RELEASE_STEPS } from '../../workflows/release-steps';
import { prepareE2eEnvironment } from '../support/e2e-emulator';

/**
 * The artifacts that deploy, run: one acquisition and its release on the emulator where every Task runs the bundle
 * `cdk synth` staged for its function (the cloud assembly's assets), not the TypeScript source the other e2e files
 * run. It catches what only the bundles can get wrong: the SDK schema rewrite on the wire, ESM/CommonJS interop, an asset given to the
 * wrong function. Needs a synthesized assembly: `.ci/run` synthesizes, then runs this file with FORENSICS_ASSEMBLY
 * set (`npm run test:assembly` does both); `npm test` alone skips it, saying so.
 */
const ASSEMBLY = process.env.FORENSICS_ASSEMBLY ? resolve(process.env.FORENSICS_ASSEMBLY) : undefined;

type LambdaHandler = (event: unknown, context: unknown) => Promise<unknown>;

/** Console state name → the bundle staged for its function, found by the function's description and asset metadata. */
function stagedBundles(assembly: string, workflow: 'acquisition' | 'release' = 'acquisition'): Map<string, string> {
  const template = JSON.parse(readFileSync(join(assembly, 'IrStack.template.json'), 'utf8')) as {
    Resources: Record<string, { Type: string; Properties?: { Description?: string }; Metadata?: Record<string, string> }>;
  };
  const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
  const bundles = new Map<string, string>();
  for (const { state } of Object.values(workflow === 'acquisition' ? ACQUISITION_STEPS : RELEASE_STEPS)) {
    const asset = functions.find((f) => f.Properties?.Description === functionDescription(workflow, state))?.Metadata?.['aws:asset:path'];
    if (asset) bundles.set(state, join(assembly, asset, LAMBDA_BUNDLE_FILE));
  }
  return bundles;
}

describe.skipIf(!ASSEMBLY)(`the synthesized bundles acquire an instance (skipped: set FORENSICS_ASSEMBLY to a synthesized cloud assembly, e.g. cdk.out)`, () => {
  let env: LocalEnvironment;
  let victim: Victim;
  let result: RunLocalResult;
  let released: RunLocalReleaseResult;
  let groupsAfterAcquisition: Map<string, string[]>;
  const ran = new Map<string, number>();

  beforeAll(async () => {
    const assembly = ASSEMBLY as string;
    env = await prepareE2eEnvironment({ handlerLogs: 'silent' });
    // The bundles log through their own copy of the logger: silenced like the source handlers' here.
    const level = process.env.POWERTOOLS_LOG_LEVEL;
    process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
    const acquisition = await importBundles(stagedBundles(assembly), Object.values(ACQUISITION_STEPS));
    const release = await importBundles(stagedBundles(assembly, 'release'), Object.values(RELEASE_STEPS));
    if (level === undefined) delete process.env.POWERTOOLS_LOG_LEVEL;
    else process.env.POWERTOOLS_LOG_LEVEL = level;
    victim = await seedVictim(env, { autoScalingGroup: true });
    result = await executeLocal(env, findingEventFor(victim, env, { id: 'bundles0001finding' }), { wrapHandler: runBundle(acquisition) });
    // Read back before the release undoes it.
    groupsAfterAcquisition = await groupsOf(victim.networkInterfaceIds);
    released = await executeLocalRelease(
      env,
      { caseId: result.caseId ?? '', reason: 'deployed bundles test', requestedBy: 'e2e' },
      { wrapHandler: runBundle(release) },
    );
  }, 600_000);

  async function importBundles(bundles: Map<string, string>, steps: { state: string }[]): Promise<Map<string, LambdaHandler>> {
    const handlers = new Map<string, LambdaHandler>();
    for (const { state } of steps) {
      const file = bundles.get(state);
      if (!file || !existsSync(file)) throw new Error(`${ASSEMBLY}: no staged bundle for "${state}" (synthesize with bundling)`);
      handlers.set(state, ((await import(pathToFileURL(file).href)) as { handler: LambdaHandler }).handler);
    }
    return handlers;
  }

  /** Each ENI's security groups, read through the SDK. */
  async function groupsOf(ids: string[]): Promise<Map<string, string[]>> {
    const enis = await new EC2Client(emulatorClientConfig(env)).send(new DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ids }));
    return new Map((enis.NetworkInterfaces ?? []).map((eni) => [eni.NetworkInterfaceId ?? '', (eni.Groups ?? []).map((g) => g.GroupId ?? '')]));
  }

  /** The runner's hook: each Task runs its bundle (a Task without one fails the run). */
  const runBundle = (handlers: Map<string, LambdaHandler>) => (state: string) => {
    const handler = handlers.get(state);
    if (!handler) throw new Error(`no bundle for Task "${state}"`);
    return (input: unknown) => {
      ran.set(state, (ran.get(state) ?? 0) + 1);
      return handler(input, { functionName: `bundle-${state}`, awsRequestId: `${state}-${ran.get(state)}`, getRemainingTimeInMillis: () => 900_000 });
    };
  };

  afterAll(async () => {
    await env?.stop();
  });

  it('succeeds, every Task having run its function\'s own bundle', () => {
    expect(result.error).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    const bundles = stagedBundles(ASSEMBLY as string);
    expect(new Set([...bundles.values()]).size).toBe(bundles.size);
    const { triage, preserveAndSnapshot, isolateNetwork, recordContainment, sealEvidence } = ACQUISITION_STEPS;
    for (const { state } of [triage, preserveAndSnapshot, isolateNetwork, recordContainment, sealEvidence]) {
      expect(ran.get(state), state).toBeGreaterThan(0);
    }
  });

  it('each staged bundle links its source map, which names the TypeScript entry (stack traces under --enable-source-maps)', () => {
    for (const [workflow, steps] of [['acquisition', ACQUISITION_STEPS], ['release', RELEASE_STEPS]] as const) {
      const bundles = stagedBundles(ASSEMBLY as string, workflow);
      for (const { state, entry } of Object.values(steps)) {
        const file = bundles.get(state) as string;
        expect(readFileSync(file, 'utf8').trimEnd().endsWith(`//# sourceMappingURL=${LAMBDA_BUNDLE_FILE}.map`), file).toBe(true);
        const map = JSON.parse(readFileSync(`${file}.map`, 'utf8')) as { sources: string[]; sourcesContent?: unknown };
        expect(map.sources.some((source) => source.endsWith(entry)), `${state}: ${entry}`).toBe(true);
        expect(map.sourcesContent).toBeUndefined();
      }
    }
  });

  it('left what the emulator reads back: a snapshot of every volume, every ENI isolated (before the release), the manifest under retention and legal hold', async () => {
    const config = emulatorClientConfig(env);
    const ec2 = new EC2Client(config);
    const snapshots = await ec2.send(new DescribeSnapshotsCommand({ Filters: [{ Name: 'volume-id', Values: victim.volumeIds }] }));
    expect(new Set(snapshots.Snapshots?.map((s) => s.VolumeId))).toEqual(new Set(victim.volumeIds));
    const isolation = result.isolation.securityGroupId;
    expect(isolation).toBeTruthy();
    expect([...groupsAfterAcquisition.keys()].sort()).toEqual([...victim.networkInterfaceIds].sort());
    for (const [eni, groups] of groupsAfterAcquisition) expect(groups, eni).toEqual([isolation]);
    const head = await new S3Client({ ...config, forcePathStyle: true }).send(new HeadObjectCommand({ Bucket: result.manifest?.bucket, Key: result.manifest?.key }));
    expect(head.ObjectLockLegalHoldStatus).toBe('ON');
    expect(head.ObjectLockMode).toBe('COMPLIANCE');
  });

  it('release, on the release functions\' bundles, gives every ENI its original groups back', async () => {
    expect(released.error).toBeUndefined();
    expect(released.status).toBe('SUCCEEDED');
    expect(ran.get(RELEASE_STEPS.releaseContainment.state)).toBeGreaterThan(0);
    const groups = await groupsOf(victim.networkInterfaceIds);
    expect(groups.size).toBe(victim.networkInterfaceIds.length);
    for (const [eni, ids] of groups) expect(new Set(ids), eni).toEqual(new Set(victim.originalGroups[eni]));
  });
});
