import { describe, expect, it } from 'vitest';
import { ownClients } from '../../../../../handlers/adapters/aws-clients';
import { s3Client } from '../../../../../handlers/adapters/clients/s3';

describe('the home-region S3 client', () => {
  it('follows S3\'s region redirect, so a trail or flow-log bucket in another region is listed and read', async () => {
    // Prepare
    process.env.AWS_REGION ??= 'us-east-1';

    // Act
    const client = s3Client(ownClients());

    // Assess
    expect(client.config.followRegionRedirects).toBe(true);
    expect(await client.config.region()).toBe(process.env.AWS_REGION);
  });
});
