import { type ClientScope, ownClients } from '../adapters/aws-clients';
import { ec2Client } from '../adapters/clients/ec2';
import { Ec2SnapshotAdapter } from '../adapters/ec2-snapshot-adapter';
import { arnParts } from '../domain/identifier-formats';
import type { HandlerEnvironment } from '../config/env';
import { homeRegionOf } from '../domain/evidence-regions';
import { drillSnapshotLock } from '../domain/drill';
import type { CaseOptions, Target } from '../domain/types';
import type { ChainSettings } from '../use-cases/evidence-chain';

/** A drill case's evidence snapshots: governance lock for the drill's retention, never compliance (domain/drill.ts). */
export function withDrillLock(chain: ChainSettings, options: Partial<CaseOptions> | undefined): ChainSettings {
  const lock = drillSnapshotLock(chain.lock, options);
  return lock === chain.lock ? chain : { ...chain, ...(lock ? { lock } : {}) };
}

/** Defaults of the snapshot lock (docs/permissions.md, README "Configuration"). */
export const DEFAULT_LOCK = { mode: 'compliance', durationDays: 365, coolOffHours: 24 } as const;

/**
 * The IR side of the evidence chain for a target: EC2 in the HOME region (the evidence key's region, else the
 * Lambda's own) with the Lambda's own credentials (the IR account: the evidence key's account) — where the evidence
 * snapshots are copied to and locked whatever the target's region — and the lock settings from the environment.
 */
export function chainSettingsFor(
  target: Target,
  env: HandlerEnvironment,
  clients: ClientScope = ownClients(),
  lambdaRegion: string | undefined = process.env.AWS_REGION,
): ChainSettings {
  const mode = env.SNAPSHOT_LOCK_MODE ?? DEFAULT_LOCK.mode;
  const homeRegion = homeRegionOf(env.EVIDENCE_KEY_ARN, lambdaRegion) ?? target.region;
  return {
    irSnapshots: new Ec2SnapshotAdapter(ec2Client(clients, homeRegion)),
    homeRegion,
    // An evidence key given as an alias names no account: then the target is taken as the IR account.
    irAccountId: arnParts(env.EVIDENCE_KEY_ARN)?.accountId ?? target.accountId,
    ...(mode === 'none'
      ? {}
      : {
          lock: {
            mode,
            durationDays: env.SNAPSHOT_LOCK_DAYS ?? DEFAULT_LOCK.durationDays,
            coolOffHours: env.SNAPSHOT_LOCK_COOL_OFF_HOURS ?? DEFAULT_LOCK.coolOffHours,
          },
        }),
    removeIntermediate: env.REMOVE_INTERMEDIATE_COPIES === 'true',
  };
}
