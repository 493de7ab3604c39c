import { createServer, type Server } from 'node:http';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAwsClients } from '../../../../handlers/adapters/aws-client-set';
import { TRANSIENT_SERVER_ERRORS } from '../../../../handlers/domain/errors';

/**
 * An overloaded endpoint (or a proxy in front of it) answers 500 with an HTML page. The SDK cannot parse that and
 * reports a SyntaxError; the clients must surface it under a name the state machine retries.
 */
let server: Server;
let endpoint: string;
let requests = 0;
const saved = { ...process.env };

beforeAll(async () => {
  server = createServer((_req, res) => {
    requests += 1;
    res.writeHead(500, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>500 Internal Server Error</title>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});

afterAll(async () => {
  process.env = saved;
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('AWS clients and unreadable server errors', () => {
  it('renames an unparseable 5xx to ServiceUnavailable after the SDK retries, keeping the cause', async () => {
    // Prepare
    Object.assign(process.env, { AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1' });
    const clients = createAwsClients();
    requests = 0;

    // Act
    const error = await clients
      .dynamodb()
      .send(new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } }))
      .then(
        () => new Error('the call unexpectedly succeeded') as Error & { cause?: Error },
        (e: unknown) => e as Error & { cause?: Error },
      );

    // Assess
    expect(error.name).toBe('ServiceUnavailable');
    expect((TRANSIENT_SERVER_ERRORS as readonly string[]).includes(error.name)).toBe(true);
    expect(error.cause?.name).toBe('SyntaxError');
    expect(requests).toBeGreaterThan(1); // the SDK retried before giving up
  });
});
