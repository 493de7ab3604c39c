import { type KMSClient, ListAliasesCommand, type ListAliasesCommandOutput, ListKeysCommand, type ListKeysCommandOutput } from '@aws-sdk/client-kms';
import { ListBucketsCommand, type S3Client } from '@aws-sdk/client-s3';
import { ListSecretsCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeParametersCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { InventoryItem } from '../domain/rotate-list';

/** Items listed when the bound is reached; the caller records the cut. */
export interface InventoryPage {
  items: InventoryItem[];
  truncated: boolean;
}

/**
 * What could hold a credential or protected data in one account and region, listed read-only (never a value read):
 * Secrets Manager secrets (ListSecrets), SSM SecureString parameters (DescribeParameters filtered on Type), customer
 * managed KMS keys (ListKeys with ListAliases: keys whose aliases are all `alias/aws/…` are AWS managed, skipped) and
 * S3 buckets (ListBuckets, the account's buckets in every region: listed once, from the instance's region).
 */
export class ReadInventoryAdapter {
  constructor(
    private readonly clients: { secrets: SecretsManagerClient; ssm: SSMClient; kms: KMSClient; s3: S3Client },
    readonly accountId: string,
    readonly region: string,
    readonly partition = 'aws',
  ) {}

  async secrets(max: number): Promise<InventoryPage> {
    const items: InventoryItem[] = [];
    let token: string | undefined;
    do {
      const page = await this.clients.secrets.send(new ListSecretsCommand({ MaxResults: 100, ...(token ? { NextToken: token } : {}) }));
      for (const s of page.SecretList ?? []) {
        if (s.ARN && s.Name) items.push({ kind: 'secret', arn: s.ARN, name: s.Name, region: this.region });
      }
      token = page.NextToken;
    } while (token && items.length < max);
    return { items: items.slice(0, max), truncated: items.length > max || Boolean(token) };
  }

  async secureStringParameters(max: number): Promise<InventoryPage> {
    const items: InventoryItem[] = [];
    let token: string | undefined;
    do {
      const page = await this.clients.ssm.send(
        new DescribeParametersCommand({
          ParameterFilters: [{ Key: 'Type', Option: 'Equals', Values: ['SecureString'] }],
          MaxResults: 50,
          ...(token ? { NextToken: token } : {}),
        }),
      );
      for (const p of page.Parameters ?? []) {
        if (!p.Name) continue;
        const arn = p.ARN ?? `arn:${this.partition}:ssm:${this.region}:${this.accountId}:parameter/${p.Name.replace(/^\//, '')}`;
        items.push({ kind: 'parameter', arn, name: p.Name, region: this.region });
      }
      token = page.NextToken;
    } while (token && items.length < max);
    return { items: items.slice(0, max), truncated: items.length > max || Boolean(token) };
  }

  async customerKeys(max: number): Promise<InventoryPage> {
    const aliases = new Map<string, string[]>();
    let marker: string | undefined;
    do {
      const page: ListAliasesCommandOutput = await this.clients.kms.send(new ListAliasesCommand({ Limit: 100, ...(marker ? { Marker: marker } : {}) }));
      for (const a of page.Aliases ?? []) {
        if (a.TargetKeyId && a.AliasName) aliases.set(a.TargetKeyId, [...(aliases.get(a.TargetKeyId) ?? []), a.AliasName]);
      }
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker);
    const items: InventoryItem[] = [];
    let truncated = false;
    marker = undefined;
    do {
      const page: ListKeysCommandOutput = await this.clients.kms.send(new ListKeysCommand({ Limit: 100, ...(marker ? { Marker: marker } : {}) }));
      for (const k of page.Keys ?? []) {
        if (!k.KeyId || !k.KeyArn) continue;
        const names = aliases.get(k.KeyId) ?? [];
        if (names.length > 0 && names.every((n) => n.startsWith('alias/aws/'))) continue;
        if (items.length >= max) {
          truncated = true;
          break;
        }
        items.push({ kind: 'kms-key', arn: k.KeyArn, name: names.find((n) => !n.startsWith('alias/aws/')) ?? k.KeyId, region: this.region });
      }
      marker = page.Truncated ? page.NextMarker : undefined;
    } while (marker && !truncated);
    return { items, truncated: truncated || Boolean(marker) };
  }

  async buckets(max: number): Promise<InventoryPage> {
    const items: InventoryItem[] = [];
    let token: string | undefined;
    do {
      const page = await this.clients.s3.send(new ListBucketsCommand({ MaxBuckets: 1000, ...(token ? { ContinuationToken: token } : {}) }));
      for (const b of page.Buckets ?? []) {
        if (b.Name) items.push({ kind: 's3-bucket', arn: `arn:${this.partition}:s3:::${b.Name}`, name: b.Name, region: b.BucketRegion ?? this.region });
      }
      token = page.ContinuationToken;
    } while (token && items.length < max);
    return { items: items.slice(0, max), truncated: items.length > max || Boolean(token) };
  }
}
