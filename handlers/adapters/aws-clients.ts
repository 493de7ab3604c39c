import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';

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
}

const MAX_ATTEMPTS = 5;

function baseConfig(region: string) {
  const endpoint = process.env.AWS_ENDPOINT_URL;
  return {
    region,
    maxAttempts: MAX_ATTEMPTS,
    ...(endpoint ? { endpoint } : {}),
  };
}

function homeRegion(): string {
  return process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
}

export function createAwsClients(): AwsClients {
  const perRegion = new Map<string, unknown>();
  const memo = <T>(key: string, make: () => T): T => {
    let client = perRegion.get(key) as T | undefined;
    if (!client) {
      client = make();
      perRegion.set(key, client);
    }
    return client;
  };
  return {
    ec2: (region) => memo(`ec2:${region}`, () => new EC2Client(baseConfig(region))),
    autoScaling: (region) => memo(`asg:${region}`, () => new AutoScalingClient(baseConfig(region))),
    elbv2: (region) => memo(`elbv2:${region}`, () => new ElasticLoadBalancingV2Client(baseConfig(region))),
    s3: () =>
      memo('s3', () =>
        // Path-style keeps emulator endpoints working; real S3 accepts it for these bucket names too.
        new S3Client({ ...baseConfig(homeRegion()), forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) }),
      ),
    dynamodb: () => memo('ddb', () => new DynamoDBClient(baseConfig(homeRegion()))),
    sns: () => memo('sns', () => new SNSClient(baseConfig(homeRegion()))),
  };
}

let shared: AwsClients | undefined;

/** The container-wide clients used by the Lambda entry points. */
export function awsClients(): AwsClients {
  shared ??= createAwsClients();
  return shared;
}
