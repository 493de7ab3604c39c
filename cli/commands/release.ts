import { userInfo } from 'node:os';
import type { Command } from 'commander';
import type { Clock } from '../../handlers/domain/ports';
import type { ReleaseResult } from '../../handlers/use-cases/release-containment';
import { assertLoopbackEndpoint } from '../local/moto-server';

/**
 * `forensics release <caseId> --reason TEXT`: undoes a case's containment (original security groups on every ENI,
 * the case's deny policies removed, back into its Auto Scaling group and target groups) and marks the case RELEASED.
 *
 * Runs the release use case directly with the CALLER's credentials (no release state machine yet): the caller needs
 * the permissions listed in docs/permissions.md ("Release"). Evidence is never touched.
 */
export interface ReleaseCommandOptions {
  reason: string;
  endpoint?: string;
  table?: string;
  bucket?: string;
  stack?: string;
  region?: string;
  profile?: string;
  requestedBy?: string;
}

export async function runRelease(caseId: string, opts: ReleaseCommandOptions): Promise<ReleaseResult> {
  if (!opts.reason.trim()) throw new ReleaseUsageError('--reason: must not be empty');
  if (opts.endpoint) assertLoopbackEndpoint(opts.endpoint);
  // Same discovery as every other command: flag, then FORENSICS_TABLE / FORENSICS_BUCKET, then the stack outputs.
  const { resolveDeployment } = await import('../deployment/discover');
  const deployment = await resolveDeployment(
    {
      ...(opts.stack ? { stack: opts.stack } : {}),
      ...(opts.region ? { region: opts.region } : {}),
      ...(opts.profile ? { profile: opts.profile } : {}),
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      ...(opts.table ? { table: opts.table } : {}),
      ...(opts.bucket ? { bucket: opts.bucket } : {}),
    },
    ['table', 'bucket'],
  );
  const table = deployment.table;
  const bucket = deployment.bucket;
  if (!table || !bucket) throw new ReleaseUsageError('cannot find the case table and evidence bucket: use --stack, --table/--bucket or FORENSICS_TABLE/FORENSICS_BUCKET');
  if (opts.endpoint) process.env.AWS_ENDPOINT_URL = opts.endpoint;
  if (deployment.region) process.env.AWS_REGION = deployment.region;
  if (opts.profile) process.env.AWS_PROFILE = opts.profile;
  // Loaded here, not at startup: the other commands of the CLI do not pay for the SDK clients.
  const [{ createAwsClients }, { DynamoCaseTable }, { S3EvidenceStore }, { releaseAdaptersFor }, { ChainedCustodyLog }, { releaseContainment }] =
    await Promise.all([
      import('../../handlers/adapters/aws-clients'),
      import('../../handlers/adapters/case-table'),
      import('../../handlers/adapters/evidence-store'),
      import('../../handlers/adapters/release-adapters'),
      import('../../handlers/use-cases/custody-log'),
      import('../../handlers/use-cases/release-containment'),
    ]);
  const clients = createAwsClients();
  const clock: Clock = () => new Date();
  const cases = new DynamoCaseTable(clients.dynamodb(), table, clock);
  const store = new S3EvidenceStore(clients.s3(), bucket);
  const requestedBy = opts.requestedBy ?? safeUser();
  return releaseContainment(
    {
      cases,
      custody: new ChainedCustodyLog({ cases, store, clock, actor: {} }),
      adaptersFor: (target) => releaseAdaptersFor(target, clients),
      clock,
    },
    { caseId, reason: opts.reason, actor: `forensics-cli release${requestedBy ? ` (${requestedBy})` : ''}`, ...(requestedBy ? { requestedBy } : {}) },
  );
}

export class ReleaseUsageError extends Error {
  override readonly name = 'UsageError';
}

function safeUser(): string | undefined {
  try {
    return userInfo().username;
  } catch {
    return undefined;
  }
}

export function registerReleaseCommand(program: Command): void {
  program
    .command('release')
    .description("Undo a case's containment (network, credentials, Auto Scaling, target groups); evidence stays as it is.")
    .argument('<caseId>', 'the case to release')
    .requiredOption('--reason <text>', 'why the instance is cleared (recorded in the custody log)')
    .option('--endpoint <url>', 'AWS-compatible emulator endpoint (loopback only)')
    .option('--stack <name>', 'IR stack whose outputs name the table and bucket (default: ForensicAcquisition)')
    .option('--region <region>', 'region of the IR deployment')
    .option('--profile <name>', 'shared-config profile')
    .option('--table <name>', 'case table name (default: $FORENSICS_TABLE, else the stack output)')
    .option('--bucket <name>', 'evidence bucket name (default: $FORENSICS_BUCKET, else the stack output)')
    .option('--requested-by <who>', 'responder recorded with the release (default: the OS user)')
    .action(async (caseId: string, opts: ReleaseCommandOptions) => {
      try {
        const result = await runRelease(caseId, opts);
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } catch (err) {
        const e = err as Error;
        process.stderr.write(`forensics: ${e.name}: ${e.message.split('\n')[0]}\n`);
        process.exitCode = err instanceof ReleaseUsageError || e.name === 'UsageError' || /^--endpoint/.test(e.message) ? 2 : 1;
      }
    });
}
