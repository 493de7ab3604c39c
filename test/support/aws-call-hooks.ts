import { configureClients, type HookableClient } from '../../handlers/adapters/aws-clients';

/**
 * Call middleware for the fault-injection tests and the benchmark, on every client that
 * handlers/adapters/aws-clients.ts creates. Importing this module sets that module's client hook (its only seam),
 * which gives each new client one dispatcher; the dispatcher reads the registry below at call time, so middleware
 * added or removed later applies to clients already created. The shipped handlers never import this.
 */

/** One attempt of one AWS call (each SDK retry is a separate attempt), as a call middleware sees it. */
export interface AwsCallInfo {
  /** Client name without the `Client` suffix: `EC2`, `S3`, `DynamoDB`, `SNS`, `AutoScaling`, `ElasticLoadBalancingV2`. */
  readonly service: string;
  /** Command name without the `Command` suffix, e.g. `CreateSnapshots`. */
  readonly command: string;
  /** The command's input (read it; do not change it). */
  readonly input: Record<string, unknown>;
  /**
   * The HTTP request about to be sent (already signed): its headers may be added to, to meet an emulator's own
   * rule where it differs from AWS's (unsigned: the emulator does not check signatures). Absent when not HTTP.
   */
  readonly request?: { headers: Record<string, string> };
}

/** What the SDK's deserialize step returns: the parsed output (which a middleware may rewrite) and the raw response. */
export interface AwsCallResult {
  output: Record<string, unknown>;
  response: unknown;
}

/**
 * Wraps every attempt of every AWS call, inside the SDK's retry loop and just before the HTTP request is sent: it
 * may delay the call, record it, throw instead of calling `next` (an injected error, which the SDK then retries or
 * surfaces exactly like one from AWS), or rewrite the parsed output.
 */
export type AwsCallMiddleware = (call: AwsCallInfo, next: () => Promise<AwsCallResult>) => Promise<AwsCallResult>;

const callMiddleware: AwsCallMiddleware[] = [];

/** Registers a call middleware (the first registered is the outermost); returns a function that removes it. */
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

/** An error shaped like one the SDK deserializes from AWS (name, HTTP status, fault), for injection. */
export function awsError(name: string, message = name, httpStatusCode = 400): Error {
  return Object.assign(new Error(message), {
    name,
    $fault: httpStatusCode >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode },
  });
}

/** The part of an SDK client's middleware stack the dispatcher uses. */
interface DeserializeStack {
  add(
    middleware: (
      next: (args: { input: object }) => Promise<AwsCallResult>,
      context: { clientName?: string; commandName?: string },
    ) => (args: { input: object }) => Promise<AwsCallResult>,
    options: { step: 'deserialize'; name: string; priority: 'high'; override: boolean },
  ): void;
}

function addDispatcher(client: HookableClient): void {
  (client.middlewareStack as DeserializeStack).add(
    (next, context) => async (args) => {
      if (callMiddleware.length === 0) return next(args);
      const call: AwsCallInfo = {
        service: (context.clientName ?? 'Unknown').replace(/Client$/, ''),
        command: (context.commandName ?? 'Unknown').replace(/Command$/, ''),
        input: args.input as Record<string, unknown>,
        ...((args as { request?: { headers?: Record<string, string> } }).request?.headers
          ? { request: (args as unknown as { request: { headers: Record<string, string> } }).request }
          : {}),
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
}

configureClients(addDispatcher);
