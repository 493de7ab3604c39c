import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentityProvider } from '@aws-sdk/types';

/**
 * SDK clients, created once per container and per region and reused across invocations.
 *
 * The SDK retries throttling a few times inside the Lambda (standard mode, exponential backoff with jitter);
 * what still fails surfaces by its AWS error name, which the state machine retries again with its own backoff.
 * `AWS_ENDPOINT_URL` points every client at an AWS-compatible emulator (the local runner and the tests).
 */
export interface AwsClients {
  ec2(region: string): EC2Client;
  autoScaling(region: string): AutoScalingClient;
  elbv2(region: string): ElasticLoadBalancingV2Client;
  s3(): S3Client;
  dynamodb(): DynamoDBClient;
  sns(): SNSClient;
  /** IAM is global: one client, signed for the home region (the partition's global endpoint). */
  iam(): IAMClient;
}

const MAX_ATTEMPTS = 5;

/** Options of `createAwsClients`: by default the SDK's default credential chain (the Lambda's own role). */
export interface AwsClientOptions {
  /** Credentials for every client of the set, e.g. the responder role assumed in a workload account. */
  readonly credentials?: AwsCredentialIdentityProvider;
}

function baseConfig(region: string, options: AwsClientOptions = {}) {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  return {
    region,
    maxAttempts: MAX_ATTEMPTS,
    ...(endpoint ? { endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  };
}

function homeRegion(): string {
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
 * Wraps every attempt of every AWS call made through `createAwsClients()` clients, inside the SDK's retry loop and
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

/** Drops the container-wide memoized clients: the next `awsClients()` creates new ones (tests, benchmark). */
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

/** An STS client with the Lambda's own credentials (regional endpoint of `region`), with the call hooks. */
export function createStsClient(region: string = homeRegion()): STSClient {
  return withCallHooks(new STSClient(baseConfig(region)));
}

export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const perRegion = new Map<string, unknown>();
  const memo = <T>(key: string, make: () => T): T => {
    let client = perRegion.get(key) as T | undefined;
    if (!client) {
      client = withCallHooks(make());
      perRegion.set(key, client);
    }
    return client;
  };
  return {
    ec2: (region) => memo(`ec2:${region}`, () => new EC2Client(baseConfig(region, options))),
    autoScaling: (region) => memo(`asg:${region}`, () => new AutoScalingClient(baseConfig(region, options))),
    elbv2: (region) => memo(`elbv2:${region}`, () => new ElasticLoadBalancingV2Client(baseConfig(region, options))),
    s3: () =>
      memo('s3', () =>
        // Path-style keeps emulator endpoints working; real S3 accepts it for these bucket names too.
        new S3Client({ ...baseConfig(homeRegion(), options), forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) }),
      ),
    dynamodb: () => memo('ddb', () => new DynamoDBClient(baseConfig(homeRegion(), options))),
    sns: () => memo('sns', () => new SNSClient(baseConfig(homeRegion(), options))),
    iam: () => memo('iam', () => new IAMClient(baseConfig(homeRegion(), options))),
  };
}

let shared: AwsClients | undefined;

/** The container-wide clients used by the Lambda entry points. */
export function awsClients(): AwsClients {
  shared ??= createAwsClients();
  return shared;
}
