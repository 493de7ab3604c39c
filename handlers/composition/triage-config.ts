import type { HandlerEnvironment } from '../config/env';
import { homeRegionOf } from '../domain/evidence-regions';
import { arnParts } from '../domain/identifier-formats';
import type { TriageConfig } from '../use-cases/triage';

/** The deployment's decision settings and per-case defaults, from the handler environment. */
export function triageConfigFrom(env: HandlerEnvironment, lambdaRegion: string | undefined = process.env.AWS_REGION): TriageConfig {
  const homeRegion = homeRegionOf(env.EVIDENCE_KEY_ARN, lambdaRegion);
  const irAccountId = arnParts(env.EVIDENCE_KEY_ARN)?.accountId;
  return {
    minSeverity: env.MIN_SEVERITY,
    acquireContainerHosts: env.ACQUIRE_CONTAINER_HOSTS === 'true',
    workloadAccounts: env.WORKLOAD_ACCOUNTS.split(','),
    // Organisation mode, exclusions and regions: a target outside them is ignored with a reason here.
    ...(env.ORGANIZATION_ID ? { organizationId: env.ORGANIZATION_ID } : {}),
    ...(env.EXCLUDED_ACCOUNTS ? { excludedAccounts: env.EXCLUDED_ACCOUNTS.split(',') } : {}),
    ...(env.WORKLOAD_REGIONS ? { workloadRegions: env.WORKLOAD_REGIONS.split(',') } : homeRegion ? { workloadRegions: [homeRegion] } : {}),
    ...(homeRegion && irAccountId ? { evidence: { irAccountId, evidenceKeyArn: env.EVIDENCE_KEY_ARN, homeRegion } } : {}),
    defaultOptions: {
      workstation: env.DEFAULT_WORKSTATION === 'true',
      revoke: env.DEFAULT_REVOKE_MODE,
    },
  };
}
