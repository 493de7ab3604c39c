/**
 * Shared fakes and fixtures for the evidence-side unit tests (not a test file itself).
 *
 * - `mockEvidenceBucket()`: the real S3EvidenceStore behind aws-sdk-client-mock, with an in-memory bucket that
 *   honours `If-None-Match: *` like S3, so tests can assert the PutObject parameters of every write.
 * - `FakeCaseTable`: an in-memory CaseTable with the same conditional semantics as DynamoCaseTable (the adapter
 *   itself is tested against the DynamoDB mock in case-table.test.ts).
 * - `fullState()`: an execution state as it is after "Check evidence copies", built from the project's own values.
 */
import { HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import { S3EvidenceStore } from '../../handlers/adapters/evidence-store';
import { GENESIS_HEAD } from '../../handlers/domain/custody-record';
import { CustodyConflict } from '../../handlers/domain/errors';
import { CaseNotFound } from '../../handlers/domain/evidence-errors';
import type { CaseRecord, EvidenceCaseTable, OpenCaseResult } from '../../handlers/domain/ports';
import type {
  AcquisitionState,
  CaseRef,
  CaseStatus,
  FindingSummary,
  SealedObject,
  Target,
} from '../../handlers/domain/types';

export const BUCKET = 'ir-evidence-123456789012';
export const T0 = Date.parse('2025-03-01T10:00:00.000Z');

/** A clock that moves one second per call, so every timestamp differs and is predictable. */
export function steppingClock(start = T0 + 60_000): () => Date {
  let t = start;
  return () => {
    const d = new Date(t);
    t += 1000;
    return d;
  };
}

/** The retention the kit's store writes with (a deployment's default). */
export const RETENTION = { mode: 'COMPLIANCE', days: 365 } as const;

export function mockEvidenceBucket(clock: () => Date = () => new Date(T0)) {
  const s3 = mockClient(S3Client);
  const objects = new Map<
    string,
    // `lock` is what the write set; absent on objects a test seeds directly.
    { body: string; versionId: string; lock?: { mode: string; retainUntil: Date; legalHold: string } }
  >();
  let version = 0;
  s3.on(PutObjectCommand).callsFake((input) => {
    const key = input.Key as string;
    // Not S3's rule (S3 accepts a write without them) but this project's: every evidence object carries its own
    // retention and a legal hold, so a writer that forgets fails every evidence-side test.
    if (!input.ObjectLockMode || !(input.ObjectLockRetainUntilDate instanceof Date) || input.ObjectLockLegalHoldStatus !== 'ON') {
      throw new Error(`evidence write without retention and legal hold: ${key}`);
    }
    if (input.IfNoneMatch === '*' && objects.has(key)) {
      throw new S3ServiceException({
        name: 'PreconditionFailed',
        $fault: 'client',
        $metadata: { httpStatusCode: 412 },
        message: 'At least one of the pre-conditions you specified did not hold',
      });
    }
    const body = Buffer.from(input.Body as Uint8Array).toString('utf8');
    const checksum = createHash('sha256').update(body).digest('base64');
    if (input.ChecksumSHA256 && input.ChecksumSHA256 !== checksum) {
      throw new S3ServiceException({ name: 'BadDigest', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    }
    version += 1;
    objects.set(key, {
      body,
      versionId: `v${version}`,
      lock: { mode: input.ObjectLockMode, retainUntil: input.ObjectLockRetainUntilDate, legalHold: input.ObjectLockLegalHoldStatus },
    });
    return { ChecksumSHA256: checksum, VersionId: `v${version}` };
  });
  s3.on(HeadObjectCommand).callsFake((input) => {
    if (!objects.has(input.Key as string)) {
      throw new S3ServiceException({ name: 'NotFound', $fault: 'client', $metadata: { httpStatusCode: 404 } });
    }
    return {};
  });
  const store = new S3EvidenceStore(new S3Client({ region: 'us-east-1' }), BUCKET, RETENTION, clock);
  return { s3, store, objects };
}

export class FakeCaseTable implements EvidenceCaseTable {
  readonly cases = new Map<string, CaseRecord>();
  readonly locks = new Map<string, string>();
  /** Called before advanceCustody applies; lets a test move the head under the writer. */
  beforeAdvance?: (caseId: string) => void;
  readonly calls: string[] = [];

  constructor(private readonly now: () => Date = () => new Date(T0)) {}

  private lockKey(t: Target) {
    return `${t.accountId}#${t.region}#${t.instanceId}`;
  }

  seed(caseRef: CaseRef, patch: Partial<CaseRecord> = {}): CaseRecord {
    const record: CaseRecord = {
      caseId: caseRef.caseId,
      status: 'ACQUIRING',
      target: caseRef.target,
      source: caseRef.source,
      openedAt: caseRef.openedAt,
      updatedAt: caseRef.openedAt,
      executionArn: caseRef.executionArn,
      findings: [caseRef.finding],
      custodySeq: GENESIS_HEAD.seq,
      custodyHeadSha256: GENESIS_HEAD.sha256,
      custody: [],
      evidence: [],
      details: {},
      ...patch,
    };
    this.cases.set(caseRef.caseId, record);
    this.locks.set(this.lockKey(caseRef.target), caseRef.caseId);
    return record;
  }

  async openCase(caseRef: CaseRef): Promise<OpenCaseResult> {
    const holder = this.locks.get(this.lockKey(caseRef.target));
    if (holder) return { opened: false, existingCaseId: holder };
    this.seed(caseRef);
    return { opened: true, caseRef };
  }

  async appendFinding(caseId: string, finding: FindingSummary): Promise<void> {
    const c = this.must(caseId);
    if (!c.findings.some((f) => f.id === finding.id && f.count === finding.count)) c.findings.push(finding);
  }

  async getCase(caseId: string): Promise<CaseRecord | undefined> {
    this.calls.push(`getCase:${caseId}`);
    const c = this.cases.get(caseId);
    return c ? structuredClone(c) : undefined;
  }

  async updateCase(
    caseId: string,
    patch: { status?: CaseStatus; details?: Record<string, unknown>; failure?: CaseRecord['failure'] },
  ): Promise<void> {
    this.calls.push(`updateCase:${Object.keys(patch).join(',')}`);
    const c = this.must(caseId);
    if (patch.status) c.status = patch.status;
    if (patch.failure) c.failure = patch.failure;
    c.details = { ...c.details, ...structuredClone(patch.details ?? {}) };
    c.updatedAt = this.now().toISOString();
  }

  async advanceCustody(
    caseId: string,
    expected: { seq: number; sha256: string },
    appended: SealedObject[],
    newHead: { seq: number; sha256: string },
  ): Promise<void> {
    this.calls.push(`advanceCustody:${expected.seq}->${newHead.seq}`);
    this.beforeAdvance?.(caseId);
    const c = this.must(caseId);
    if (c.custodySeq !== expected.seq || c.custodyHeadSha256 !== expected.sha256) {
      throw new CustodyConflict(`head moved`);
    }
    c.custodySeq = newHead.seq;
    c.custodyHeadSha256 = newHead.sha256;
    c.custody.push(...appended);
  }

  async appendEvidence(caseId: string, objects: SealedObject[]): Promise<void> {
    this.calls.push(`appendEvidence:${objects.map((o) => o.key).join(',')}`);
    const c = this.must(caseId);
    c.evidence = [...(c.evidence ?? []), ...objects];
  }

  async releaseLock(target: Target, caseId: string): Promise<boolean> {
    this.calls.push(`releaseLock:${caseId}`);
    const key = this.lockKey(target);
    if (this.locks.get(key) !== caseId) return false;
    this.locks.delete(key);
    return true;
  }

  private must(caseId: string): CaseRecord {
    const c = this.cases.get(caseId);
    if (!c) throw new CaseNotFound(caseId);
    return c;
  }
}

const iso = (offsetSeconds: number) => new Date(T0 + offsetSeconds * 1000).toISOString();

export const TARGET: Target = { accountId: '111122223333', region: 'eu-west-1', instanceId: 'i-0123456789abcdef0' };

export function caseRef(overrides: Partial<CaseRef> = {}): CaseRef {
  return {
    caseId: 'case-20250301-0001',
    target: TARGET,
    finding: {
      id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      type: 'Backdoor:EC2/C&CActivity.B!DNS',
      severity: 8,
      count: 1,
    },
    source: 'guardduty',
    options: { workstation: false, revoke: 'instance' },
    openedAt: iso(0),
    executionArn: 'arn:aws:states:eu-west-1:999988887777:execution:acquisition:exec-1',
    ...overrides,
  };
}

export const RAW_EVENT = {
  version: '0',
  source: 'aws.guardduty',
  'detail-type': 'GuardDuty Finding',
  detail: { id: 'a1b2c3d4e5f60718293a4b5c6d7e8f90', accountId: TARGET.accountId, region: TARGET.region },
};

export function describedState(): AcquisitionState {
  return {
    outcome: 'ACQUIRE',
    case: caseRef(),
    rawEvent: RAW_EVENT,
    describe: {
      preIncident: {
        capturedAt: iso(2),
        target: TARGET,
        instanceState: 'running',
        instanceType: 't3.micro',
        imageId: 'ami-0abc',
        vpcId: 'vpc-0aaa',
        subnetId: 'subnet-0aaa',
        privateIpAddress: '10.0.1.10',
        tags: { Name: 'web-1' },
        networkInterfaces: [
          {
            networkInterfaceId: 'eni-0aaa',
            deviceIndex: 0,
            vpcId: 'vpc-0aaa',
            groups: [{ groupId: 'sg-0web', groupName: 'web' }],
          },
        ],
        volumes: [
          { volumeId: 'vol-0aaa', deviceName: '/dev/xvda', sizeGiB: 8, encrypted: false, deleteOnTermination: true },
          { volumeId: 'vol-0bbb', deviceName: '/dev/xvdb', sizeGiB: 20, encrypted: true, kmsKeyId: 'alias/aws/ebs', deleteOnTermination: false },
        ],
        instanceStoreDevices: [],
        targetGroups: [],
      },
      isolationGroups: [],
      actions: [
        { step: 'describe-instance', action: 'describe', status: 'succeeded', performedAt: iso(2), request: { instanceId: TARGET.instanceId }, result: { enis: 1, volumes: 2 } },
      ],
    },
  };
}

export function acquiredState(): AcquisitionState {
  return {
    ...describedState(),
    acquisition: {
      snapshotRequestedAt: iso(4),
      snapshots: [
        { volumeId: 'vol-0aaa', snapshotId: 'snap-0aaa', deviceName: '/dev/xvda', sizeGiB: 8 },
        { volumeId: 'vol-0bbb', snapshotId: 'snap-0bbb', deviceName: '/dev/xvdb', sizeGiB: 20 },
      ],
      preservation: [
        { action: 'tag-case-id', status: 'applied' },
        { action: 'termination-protection', status: 'applied', previous: false },
      ],
      actions: [
        { step: 'preserve-and-snapshot', action: 'create-snapshots', status: 'succeeded', performedAt: iso(4), request: { volumes: 2 }, result: { snapshots: ['snap-0aaa', 'snap-0bbb'] } },
      ],
    },
  };
}

export function containedState(): AcquisitionState {
  return {
    ...acquiredState(),
    containment: {
      startedAt: iso(5),
      containedAt: iso(7),
      groups: [{ vpcId: 'vpc-0aaa', transitionGroupId: 'sg-0trans', isolationGroupId: 'sg-0iso', created: true }],
      networkInterfaces: [
        { networkInterfaceId: 'eni-0aaa', vpcId: 'vpc-0aaa', originalGroupIds: ['sg-0web'], transitionGroupId: 'sg-0trans', isolationGroupId: 'sg-0iso', isolatedAt: iso(7) },
      ],
      actions: [
        { step: 'isolate-network', action: 'isolate-eni', status: 'succeeded', performedAt: iso(7), request: { networkInterfaceId: 'eni-0aaa' }, result: { groups: ['sg-0iso'] } },
      ],
    },
  };
}

export function fullState(): AcquisitionState {
  return {
    ...containedState(),
    snapshotProgress: {
      attempt: 3,
      firstCheckAt: iso(8),
      checkedAt: iso(60),
      allSettled: true,
      nextCheckSeconds: 15,
      volumes: [
        { volumeId: 'vol-0aaa', snapshotId: 'snap-0aaa', state: 'completed', progress: '100%' },
        { volumeId: 'vol-0bbb', snapshotId: 'snap-0bbb', state: 'error', stateMessage: 'internal error' },
      ],
    },
    evidence: {
      attempt: 2,
      firstCheckAt: iso(61),
      checkedAt: iso(120),
      allSettled: true,
      nextCheckSeconds: 15,
      copies: [
        { volumeId: 'vol-0aaa', sourceSnapshotId: 'snap-0aaa', evidenceSnapshotId: 'snap-0ccc', kmsKeyId: 'arn:aws:kms:eu-west-1:999988887777:key/evidence', state: 'completed', requestedAt: iso(61), completedAt: iso(110) },
        { volumeId: 'vol-0bbb', sourceSnapshotId: 'snap-0bbb', kmsKeyId: 'arn:aws:kms:eu-west-1:999988887777:key/evidence', state: 'skipped', stateMessage: 'source snapshot in error' },
      ],
    },
  };
}
