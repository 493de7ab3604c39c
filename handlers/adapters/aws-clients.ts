import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';

/**
 * Where the Lambda's SDK clients come from: a `ClientScope` (one set of credentials, and the clients made with them,
 * created once per container and per region and reused across invocations). Each client has its own small module
 * (handlers/adapters/clients/), so a function bundles only the SDK clients it uses; this module imports none.
 *
 * The SDK retries throttling a few times inside the Lambda (standard mode, exponential backoff with jitter);
 * what still fails surfaces by its AWS error name, which the state machine retries again with its own backoff.
 * `AWS_ENDPOINT_URL` points every client at an AWS-compatible emulator (the local runner and the tests).
 */
export interface ClientScope {
  /** The credentials of every client of the scope (undefined: the SDK's default chain, the Lambda's own role). */
  readonly options: AwsClientOptions;
  /** The scope's client under `key` (e.g. `ec2:eu-west-1`), made by `make` on first use, with the call hooks. */
  client<T>(key: string, make: () => T): T;
}

const MAX_ATTEMPTS = 5;

/** Options of `createClientScope`: by default the SDK's default credential chain (the Lambda's own role). */
export interface AwsClientOptions {
  /** Credentials for every client of the set, e.g. the responder role assumed in a workload account. */
  readonly credentials?: AwsCredentialIdentityProvider;
}

/** The configuration every client of a scope is created with. */
export function clientConfig(region: string, options: AwsClientOptions = {}) {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  return {
    region,
    maxAttempts: MAX_ATTEMPTS,
    ...(endpoint ? { endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
}

/** The Lambda's own region: where the IR-side clients (S3, DynamoDB, SNS, IAM's signing region) point. */
export function homeRegion(): string {
  return process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

// ── Client hook: the one seam for the benchmark and the fault-injection tests; unset, and so free, in production. ──

/** What a client hook is given: any SDK client of this module (it reaches the client's `middlewareStack`). */
export interface HookableClient {
  readonly middlewareStack: unknown;
}

/** Called once with each client this module creates from then on (e.g. to add a call middleware to it). */
export type ClientHook = (client: HookableClient) => void;

let clientHook: ClientHook | undefined;

/**
 * Sets (or clears, with `undefined`) the client hook and drops the memoized container-wide clients, so the next
 * `ownClients()` creates hooked ones. No handler calls it: test/support/aws-call-hooks.ts does, for the tests and
 * the benchmark. Without a hook a client gets nothing beyond the SDK's own middleware and the error renaming below.
 */
export function configureClients(hook: ClientHook | undefined): void {
  clientHook = hook;
  shared = undefined;
}

/**
 * A 5xx answer whose body the SDK cannot parse (an HTML error page from a proxy, a load balancer or an overloaded
 * endpoint) surfaces as a `SyntaxError`, a name no retry rule would match. After the SDK's own retries, such an
 * error is renamed `ServiceUnavailable` (original kept as `cause`) so the state machine retries it like any other
 * transient server error instead of failing an acquisition over it.
 */
export class UnreadableServerError extends Error {
  override readonly name = 'ServiceUnavailable';
}

function withServerErrorNames<T>(client: T): T {
  (client as unknown as { middlewareStack: { add: (m: unknown, o: object) => void } }).middlewareStack.add(
    (next: (args: unknown) => Promise<unknown>) => async (args: unknown) => {
      try {
        return await next(args);
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; $response?: { statusCode?: number } };
        const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
        if (status !== undefined && status >= 500 && (e.name === 'SyntaxError' || e.name === 'Error' || e.name === 'UnknownError')) {
          throw new UnreadableServerError(`HTTP ${status} with an unreadable body: ${String((err as Error).message).replace(/\s*\n\s*/g, ' ')}`, { cause: err });
        }
        throw err;
      }
    },
    // Initialize step: outside the SDK's retry loop, so only what the SDK gave up on is renamed.
    { step: 'initialize', name: 'forensicsServerErrorNames', priority: 'high', override: true },
  );
  return client;
}

/** Every client made here: the error renaming, then the client hook when one is set. */
function withCallHooks<T extends HookableClient>(client: T): T {
  withServerErrorNames(client);
  clientHook?.(client);
  return client;
}

/** A new scope: its clients carry `options.credentials`, or the SDK's default chain. */
export function createClientScope(options: AwsClientOptions = {}): ClientScope {
  const clients = new Map<string, unknown>();
  return {
    options,
    client<T>(key: string, make: () => T): T {
      let client = clients.get(key) as T | undefined;
      if (!client) {
        client = withCallHooks(make() as T & HookableClient);
        clients.set(key, client);
      }
      return client;
    },
  };
}

let shared: ClientScope | undefined;

/** The container-wide scope of the Lambda's own credentials, used by the Lambda entry points. */
export function ownClients(): ClientScope {
  shared ??= createClientScope();
  return shared;
}
