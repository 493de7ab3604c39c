import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@aws-sdk/types';
import { arnParts } from '../domain/identifier-formats';
import { workflowSessionTagKey } from '../domain/authorizing-tags';
import { ConfigurationError } from '../domain/errors';
import type { Clock } from '../domain/ports';
import { type ClientScope, createClientScope, ownClients } from './aws-clients';
import { stsClient } from './clients/sts';

/**
 * Credentials for the workload account of a case: the responder role assumed in the finding's account.
 *
 * - Role: `arn:<partition>:iam::<target account>:role/<RESPONDER_ROLE_NAME>`, session name = the case id, so
 *   CloudTrail in the workload account shows which case did what; `sts:ExternalId` from RESPONDER_EXTERNAL_ID.
 * - Cached per account *and session name* (one container serves several cases; sharing a session between cases
 *   would attribute one case's calls to another in CloudTrail) until `REFRESH_MARGIN_MS` before expiry.
 * - Single-account mode: with no responder role configured and the target in the IR account itself, the Lambda's
 *   own credentials are used (no hop: nothing to deploy in the IR account besides the IR stack). With a role
 *   configured the same assume-role path is used for every account, the IR account included (the preferred,
 *   uniform path). A target in another account with no role configured is a configuration error.
 */
export interface ResponderSettings {
  /** RESPONDER_ROLE_NAME; undefined = own credentials (IR account only). */
  readonly roleName?: string;
  /** TAG_PREFIX: the session tag `<prefix>:workflow` says which workflow a session serves. @default forensics */
  readonly tagPrefix?: string;
  readonly externalId?: string;
  /** The IR account (the evidence key's account); undefined when not known (then own credentials are used). */
  readonly irAccountId?: string;
  readonly partition: string;
}

/** Refresh this long before the session expires, so no call runs on credentials about to lapse. */
export const REFRESH_MARGIN_MS = 5 * 60_000;
/** One hour: the default maximum for a role (and the chaining limit); a step never runs that long. */
export const SESSION_SECONDS = 3600;
const CACHE_MAX = 64;

/**
 * Which workflow a responder session serves, sent as the session tag `<prefix>:workflow`. The responder role's trust
 * lets only the acquisition step roles tag `acquisition` and only the release step role tag `release`, and its
 * containment calls (PutRolePolicy, TagRole) need an acquisition session, its release calls (DeleteRolePolicy,
 * UntagRole) a release session (infra/responder-stack.ts).
 */
export type ResponderWorkflow = 'acquisition' | 'release';

/** STS session names allow `[\w+=,.@-]{2,64}`; a case id already fits, anything else is made to. */
export function sessionNameOf(caseId: string): string {
  const cleaned = caseId.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return cleaned.length >= 2 ? cleaned : `forensics-${cleaned}`;
}

/** Re-exported where the responder settings read it. */
export { arnParts };

export class ResponderCredentials {
  private readonly cache = new Map<string, Promise<AwsCredentialIdentity>>();

  constructor(
    private readonly settings: ResponderSettings,
    private readonly sts: () => STSClient = () => stsClient(),
    private readonly clock: Clock = () => new Date(),
  ) {}

  roleArn(accountId: string): string {
    if (!this.settings.roleName) throw new ConfigurationError('RESPONDER_ROLE_NAME is not set');
    return `arn:${this.settings.partition}:iam::${accountId}:role/${this.settings.roleName}`;
  }

  /** True when calls on `accountId` use the Lambda's own credentials (single-account mode without a role). */
  usesOwnCredentials(accountId: string): boolean {
    if (this.settings.roleName) return false;
    if (this.settings.irAccountId === undefined || this.settings.irAccountId === accountId) return true;
    throw new ConfigurationError(
      `target account ${accountId} is not the IR account (${this.settings.irAccountId}) and RESPONDER_ROLE_NAME ` +
        'is not set: cross-account acquisition needs the responder role (deploy the responder stack).',
    );
  }

  /** A provider the SDK calls before each request; it answers from the cache until shortly before expiry. */
  providerFor(accountId: string, caseId: string, workflow: ResponderWorkflow = 'acquisition'): AwsCredentialIdentityProvider {
    return () => this.credentials(accountId, sessionNameOf(caseId), workflow);
  }

  async credentials(accountId: string, sessionName: string, workflow: ResponderWorkflow = 'acquisition'): Promise<AwsCredentialIdentity> {
    const key = `${accountId}/${sessionName}/${workflow}`;
    const cached = this.cache.get(key);
    if (cached) {
      const creds = await cached.catch(() => undefined);
      if (creds?.expiration && creds.expiration.getTime() - REFRESH_MARGIN_MS > this.clock().getTime()) return creds;
      this.cache.delete(key);
    }
    const pending = this.assume(accountId, sessionName, workflow);
    if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, pending);
    pending.catch(() => this.cache.delete(key));
    return pending;
  }

  private async assume(accountId: string, sessionName: string, workflow: ResponderWorkflow): Promise<AwsCredentialIdentity> {
    const out = await this.sts().send(
      new AssumeRoleCommand({
        RoleArn: this.roleArn(accountId),
        RoleSessionName: sessionName,
        DurationSeconds: SESSION_SECONDS,
        ...(this.settings.externalId ? { ExternalId: this.settings.externalId } : {}),
        Tags: [{ Key: workflowSessionTagKey(this.settings.tagPrefix ?? 'forensics'), Value: workflow }],
      }),
    );
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error(`AssumeRole of ${this.roleArn(accountId)} returned no credentials`);
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      expiration: c.Expiration ?? new Date(this.clock().getTime() + SESSION_SECONDS * 1000),
    };
  }
}

/** The settings from the handler environment (the IR account and partition come from the evidence key's ARN). */
export function responderSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): ResponderSettings {
  const key = arnParts(env.EVIDENCE_KEY_ARN ?? '');
  return {
    ...(env.RESPONDER_ROLE_NAME ? { roleName: env.RESPONDER_ROLE_NAME } : {}),
    ...(env.RESPONDER_EXTERNAL_ID ? { externalId: env.RESPONDER_EXTERNAL_ID } : {}),
    ...(env.TAG_PREFIX ? { tagPrefix: env.TAG_PREFIX } : {}),
    ...(key ? { irAccountId: key.accountId } : {}),
    partition: key?.partition ?? 'aws',
  };
}

let shared: { responder: ResponderCredentials; signature: string } | undefined;
const clientSets = new Map<string, ClientScope>();

/** The container-wide responder credentials, rebuilt when the environment changed (local runner, tests). */
export function responderCredentials(): ResponderCredentials {
  const settings = responderSettingsFromEnv();
  const signature = JSON.stringify([settings, process.env.AWS_ENDPOINT_URL ?? '']);
  if (!shared || shared.signature !== signature) {
    shared = { responder: new ResponderCredentials(settings), signature };
    clientSets.clear();
  }
  return shared.responder;
}

/**
 * Clients for the target's account (every region; the adapters pick the target's): the Lambda's own shared clients
 * in single-account mode without a role, otherwise clients signed with the responder role's session for this case
 * and workflow (acquisition steps, or release).
 * Memoized per account and case, so each step invocation reuses its clients and its cached session.
 */
export function workloadClientsFor(
  target: { accountId: string },
  caseId: string,
  responder: ResponderCredentials = responderCredentials(),
  own: () => ClientScope = ownClients,
  workflow: ResponderWorkflow = 'acquisition',
): ClientScope {
  if (responder.usesOwnCredentials(target.accountId)) return own();
  const key = `${target.accountId}/${sessionNameOf(caseId)}/${workflow}`;
  let set = clientSets.get(key);
  if (!set) {
    set = createClientScope({ credentials: responder.providerFor(target.accountId, caseId, workflow) });
    if (clientSets.size >= CACHE_MAX) clientSets.delete(clientSets.keys().next().value as string);
    clientSets.set(key, set);
  }
  return set;
}

/** Tests and the local runner: forget the cached responder sessions and client sets. */
export function resetResponderCredentials(): void {
  shared = undefined;
  clientSets.clear();
}
