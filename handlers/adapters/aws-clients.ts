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
 * `awsClients()` creates hooked ones. No handler calls it: test/support/aws-call-hooks.ts does, for the tests and
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

/** An STS client with the Lambda's own credentials (regional endpoint of `region`), with the client hook. */
export function createStsClient(region: string = homeRegion()): STSClient {
  return withCallHooks(new STSClient(baseConfig(region)));
}

export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const perRegion = new Map<string, unknown>();
  const memo = <T extends HookableClient>(key: string, make: () => T): T => {
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
