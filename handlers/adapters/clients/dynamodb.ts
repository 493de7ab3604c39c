import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type ClientScope, clientConfig, homeRegion } from '../aws-clients';

/** The scope's DynamoDB client (the home region, where the case table is). */
export function dynamoDbClient(scope: ClientScope): DynamoDBClient {
  return scope.client('ddb', () => new DynamoDBClient(clientConfig(homeRegion(), scope.options)));
}
