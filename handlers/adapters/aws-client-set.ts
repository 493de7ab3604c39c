import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { IAMClient } from '@aws-sdk/client-iam';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SNSClient } from '@aws-sdk/client-sns';
import { type AwsClientOptions, type ClientScope, createClientScope, ownClients } from './aws-clients';
import { autoScalingClient } from './clients/auto-scaling';
import { dynamoDbClient } from './clients/dynamodb';
import { ec2Client } from './clients/ec2';
import { elbv2Client } from './clients/elbv2';
import { iamClient } from './clients/iam';
import { s3Client } from './clients/s3';
import { snsClient } from './clients/sns';

/**
 * Every client of a scope behind one object, for the CLI and the tests. It imports every SDK client, so no Lambda
 * entry may import it (test/unit/module-layers.test.ts): the handlers take each client from its own module.
 */
export interface AwsClients {
  readonly scope: ClientScope;
  ec2(region: string): EC2Client;
  autoScaling(region: string): AutoScalingClient;
  elbv2(region: string): ElasticLoadBalancingV2Client;
  s3(): S3Client;
  dynamodb(): DynamoDBClient;
  sns(): SNSClient;
  /** IAM is global: one client, signed for the home region (the partition's global endpoint). */
  iam(): IAMClient;
}

/** The clients of `scope` as one set. */
export function clientSet(scope: ClientScope): AwsClients {
  return {
    scope,
    ec2: (region) => ec2Client(scope, region),
    autoScaling: (region) => autoScalingClient(scope, region),
    elbv2: (region) => elbv2Client(scope, region),
    s3: () => s3Client(scope),
    dynamodb: () => dynamoDbClient(scope),
    sns: () => snsClient(scope),
    iam: () => iamClient(scope),
  };
}

/** A new set of clients with `options.credentials` (e.g. the caller's own, or an assumed role's). */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  return clientSet(createClientScope(options));
}

/** The process's own clients (the container-wide scope) as one set. */
export function awsClients(): AwsClients {
  return clientSet(ownClients());
}
