import { S3Client } from '@aws-sdk/client-s3';
import { type ClientScope, clientConfig, homeRegion } from '../aws-clients';

/**
 * The S3 client of the home region, where the evidence bucket is. It also lists and copies from the buckets the scope
 * preserves logs from (trail, flow logs), which may be in another region: S3 answers a request sent to the wrong
 * region with a 301 redirect naming the bucket's region, which `followRegionRedirects` follows (CopyObject itself
 * is sent to the destination's region and reads a source in any region).
 */
export function s3Client(scope: ClientScope): S3Client {
  return scope.client('s3', () =>
    // Path-style keeps emulator endpoints working; real S3 accepts it for these bucket names too.
    new S3Client({ ...clientConfig(homeRegion(), scope.options), forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL), followRegionRedirects: true }),
  );
}

/** The scope's S3 client for `region`: a bucket's own region (bucket-level calls such as GetBucketPolicy). */
export function s3ClientIn(scope: ClientScope, region: string): S3Client {
  return scope.client(`s3:${region}`, () => new S3Client({ ...clientConfig(region, scope.options), forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) }));
}
