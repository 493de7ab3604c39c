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

// ── Call hooks: a seam for the benchmark and the fault-injection tests, inert in production. ──

/** One attempt of one AWS call (each SDK retry is a separate attempt), as a call middleware sees it. */
export interface AwsCallInfo {
  /** Client name without the `Client` suffix: `EC2`, `S3`, `DynamoDB`, `SNS`, `AutoScaling`, `ElasticLoadBalancingV2`. */
  readonly service: string;
  /** Command name without the `Command` suffix, e.g. `CreateSnapshots`. */
  readonly command: string;
  /** The command's input (read it; do not change it). */
  readonly input: Record<string, unknown>;
}

/** What the SDK's deserialize step returns: the parsed output (which a middleware may rewrite) and the raw response. */
export interface AwsCallResult {
  output: Record<string, unknown>;
  response: unknown;
}

/**
 * Wraps every attempt of every AWS call made through `ClientScope` clients, inside the SDK's retry loop and
 * just before the HTTP request is sent: it may delay the call, record it, throw instead of calling `next` (an
 * injected error, which the SDK then retries or surfaces exactly like one from AWS), or rewrite the parsed output.
 */
export type AwsCallMiddleware = (call: AwsCallInfo, next: () => Promise<AwsCallResult>) => Promise<AwsCallResult>;

const callMiddleware: AwsCallMiddleware[] = [];

/**
 * Registers a call middleware for every client of this process, including clients already created and memoized
 * (each client carries one dispatcher that reads this registry at call time). The first registered is the
 * outermost. Returns a function that removes it. Nothing in the handlers registers one: production calls go
 * straight through the dispatcher.
 */
export function addClientMiddleware(middleware: AwsCallMiddleware): () => void {
  callMiddleware.push(middleware);
  return () => {
    const i = callMiddleware.indexOf(middleware);
    if (i >= 0) callMiddleware.splice(i, 1);
  };
}

/** Removes every registered call middleware. */
export function clearClientMiddleware(): void {
  callMiddleware.length = 0;
}

/** Drops the container-wide memoized clients: the next `ownClients()` creates new ones (tests, benchmark). */
export function resetAwsClients(): void {
  shared = undefined;
}

/** An error shaped like one the SDK deserializes from AWS (name, HTTP status, fault), for injection. */
export function awsError(name: string, message = name, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });
}

interface HookableClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: object }) => Promise<AwsCallResult>,
        context: { clientName?: string; commandName?: string },
      ) => (args: { input: object }) => Promise<AwsCallResult>,
      options: { step: 'deserialize'; name: string; priority: 'high'; override: boolean },
    ): void;
  };
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

/** The dispatcher: a pass-through when no call middleware is registered. */
function withCallHooks<T>(client: T): T {
  withServerErrorNames(client);
  (client as unknown as HookableClient).middlewareStack.add(
    (next, context) => async (args) => {
      if (callMiddleware.length === 0) return next(args);
      const call: AwsCallInfo = {
        service: (context.clientName ?? 'Unknown').replace(/Client$/, ''),
        command: (context.commandName ?? 'Unknown').replace(/Command$/, ''),
        input: args.input as Record<string, unknown>,
      };
      const chain = [...callMiddleware].reduceRight<() => Promise<AwsCallResult>>(
        (inner, middleware) => () => middleware(call, inner),
        () => next(args),
      );
      return chain();
    },
    // Deserialize step, high priority: inside the retry loop (finalizeRequest), one run per attempt.
    { step: 'deserialize', name: 'forensicsCallHooks', priority: 'high', override: true },
  );
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
        client = withCallHooks(make());
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
