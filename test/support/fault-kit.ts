import { createHash } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeSnapshotsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetObjectCommand, GetObjectLegalHoldCommand, ListObjectVersionsCommand, S3Client } from '@aws-sdk/client-s3';
import { emulatorClientConfig } from '../../cli/local/emulator-resources';
import type { LocalEnvironment } from '../../cli/local/local-runner';
import { DynamoCaseTable } from '../../handlers/adapters/case-table';
import type { AwsCallMiddleware } from './aws-call-hooks';
import type { CaseRecord } from '../../handlers/domain/ports';

/**
 * What the fault-injection and concurrency tests read back from the emulator after a run — through their own SDK
 * clients, never through the runner's summary: the case item, the custody log (with its hash chain and legal
 * holds), and the snapshots of the case.
 */
export interface CustodyEntry {
  key: string;
  versions: number;
  legalHold: string | undefined;
  record: { seq?: number; step: string; action: string; status: string; prevSha256: string; result?: unknown; request?: unknown };
  sha256: string;
}

export class EvidenceReader {
  readonly ec2: EC2Client;
  readonly s3: S3Client;
  readonly cases: DynamoCaseTable;

  constructor(private readonly env: LocalEnvironment) {
    const config = emulatorClientConfig(env);
    this.ec2 = new EC2Client(config);
    this.s3 = new S3Client({ ...config, forcePathStyle: true });
    this.cases = new DynamoCaseTable(new DynamoDBClient(config), env.handlerEnv.CASE_TABLE_NAME);
  }

  get bucket(): string {
    return this.env.handlerEnv.EVIDENCE_BUCKET;
  }

  /** The case item `pk = CASE#<caseId>`, `sk = CASE`. */
  async caseItem(caseId: string): Promise<CaseRecord> {
    const item = await this.cases.getCase(caseId);
    if (!item) throw new Error(`no case item for ${caseId}`);
    return item;
  }

  async body(key: string): Promise<string> {
    const obj = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return (await obj.Body?.transformToString()) ?? '';
  }

  async legalHold(key: string): Promise<string | undefined> {
    const out = await this.s3.send(new GetObjectLegalHoldCommand({ Bucket: this.bucket, Key: key }));
    return out.LegalHold?.Status;
  }

  /** Every custody record of the case, in key order, with its version count and legal hold. */
  async custody(caseId: string): Promise<CustodyEntry[]> {
    const listed = await this.s3.send(
      new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: `cases/${caseId}/custody/` }),
    );
    const versions = new Map<string, number>();
    for (const v of listed.Versions ?? []) versions.set(v.Key ?? '', (versions.get(v.Key ?? '') ?? 0) + 1);
    const entries: CustodyEntry[] = [];
    for (const key of [...versions.keys()].sort()) {
      const text = await this.body(key);
      entries.push({
        key,
        versions: versions.get(key) ?? 0,
        legalHold: await this.legalHold(key),
        record: JSON.parse(text) as CustodyEntry['record'],
        sha256: createHash('sha256').update(text).digest('hex'),
      });
    }
    return entries;
  }

  /** Problems with the custody log: a broken hash chain, an overwritten record, a record without legal hold. */
  static chainProblems(entries: CustodyEntry[]): string[] {
    const problems: string[] = [];
    let prev = '0'.repeat(64);
    for (const e of entries) {
      if (e.record.prevSha256 !== prev) problems.push(`${e.key}: prevSha256 does not match the previous record`);
      if (e.versions !== 1) problems.push(`${e.key}: ${e.versions} versions`);
      if (e.legalHold !== 'ON') problems.push(`${e.key}: legal hold ${e.legalHold ?? 'absent'}`);
      prev = e.sha256;
    }
    return problems;
  }

  /** Snapshots tagged with the case: the originals and the evidence copies. */
  async snapshots(caseId: string): Promise<{ originals: SnapshotInfo[]; copies: SnapshotInfo[] }> {
    const out = await this.ec2.send(
      new DescribeSnapshotsCommand({ OwnerIds: ['self'], Filters: [{ Name: 'tag:forensics:case-id', Values: [caseId] }] }),
    );
    const all = (out.Snapshots ?? []).map((s) => ({
      snapshotId: s.SnapshotId ?? '',
      volumeId: s.VolumeId ?? '',
      state: s.State ?? '',
      kmsKeyId: s.KmsKeyId,
      evidence: s.Tags?.some((t) => t.Key === 'forensics:evidence') ?? false,
    }));
    return { originals: all.filter((s) => !s.evidence), copies: all.filter((s) => s.evidence) };
  }
}

export interface SnapshotInfo {
  snapshotId: string;
  volumeId: string;
  state: string;
  kmsKeyId: string | undefined;
  evidence: boolean;
}

/**
 * Tracks the snapshots the handlers create (CreateSnapshots originals, CopySnapshot evidence copies) and lets a
 * test rewrite how DescribeSnapshots reports them — what moto cannot do by itself (its snapshots complete at once).
 */
export class SnapshotRewriter {
  readonly originals = new Map<string, string>(); // snapshot id → volume id
  readonly copies = new Map<string, string>(); // copy id → source snapshot id
  constructor(
    private readonly rewrite: (
      s: { SnapshotId?: string; VolumeId?: string; State?: string; StateMessage?: string; Progress?: string },
      kind: 'original' | 'copy',
      self: SnapshotRewriter,
    ) => void,
  ) {}

  readonly middleware: AwsCallMiddleware = async (call, next) => {
    const result = await next();
    const out = result.output as {
      Snapshots?: { SnapshotId?: string; VolumeId?: string; State?: string; StateMessage?: string }[];
      SnapshotId?: string;
    };
    if (call.command === 'CreateSnapshots') {
      for (const s of out.Snapshots ?? []) if (s.SnapshotId) this.originals.set(s.SnapshotId, s.VolumeId ?? '');
    } else if (call.command === 'CopySnapshot' && out.SnapshotId) {
      this.copies.set(out.SnapshotId, String(call.input.SourceSnapshotId ?? ''));
    } else if (call.command === 'DescribeSnapshots') {
      for (const s of out.Snapshots ?? []) {
        const id = s.SnapshotId ?? '';
        if (this.originals.has(id)) this.rewrite(s, 'original', this);
        else if (this.copies.has(id)) this.rewrite(s, 'copy', this);
      }
    }
    return result;
  };
}
