/**
 * Scope documents as the scoping step seals them (handlers/domain/scope-documents.ts), for the tests of the IR
 * team's commands (`case timeline`, `case report`, `case show`, `case verify`). Not a test file itself.
 *
 * The story: instance i-0abc's role session is used from the instance, then its stolen credentials from outside AWS
 * (a user agent carrying markup, as an attacker may send), a secret is read, a role is assumed (one hop) and a bucket
 * object read through it; after containment the role is denied.
 */
import { canonicalBody } from '../../handlers/domain/hashing';
import type { ManifestV1 } from '../../handlers/domain/manifest';
import {
  logsPrefix,
  type ManifestLogs,
  type ManifestRotate,
  type ManifestTimeline,
  type RotateDocument,
  rotateKey,
  type TimelineDocument,
  type TimelineEvent,
  timelineKey,
} from '../../handlers/domain/scope-documents';

export const INSTANCE_ID = 'i-0123456789abcdef0';
export const SCOPE_CASE_ID = `20261128T094419Z-${INSTANCE_ID}`;
export const ROLE_ARN = 'arn:aws:iam::111122223333:role/web-app';
export const CONTAINED_AT = '2026-11-28T09:45:10.000Z';
/** Markup an attacker put in a field CloudTrail records as sent. */
export const HOSTILE_USER_AGENT = '<script>alert("pwned")</script> aws-cli/2.15.0';
export const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/db-AbCdEf';
export const ROTATE_SECRET_COMMAND = `aws secretsmanager rotate-secret --secret-id ${SECRET_ARN} --region eu-west-1`;

const session = { kind: 'instance-role-session', sessionName: INSTANCE_ID, arn: `arn:aws:sts::111122223333:assumed-role/web-app/${INSTANCE_ID}` } as const;

function event(partial: Partial<TimelineEvent> & Pick<TimelineEvent, 'time' | 'eventId' | 'eventName'>): TimelineEvent {
  return {
    region: 'eu-west-1',
    eventSource: 'sts.amazonaws.com',
    sourceIPAddress: '10.0.1.10',
    userAgent: 'aws-sdk-go/1.44',
    accessKeyId: 'ASIAEXAMPLESESSION01',
    actor: session,
    resources: [],
    errorCode: null,
    errorMessage: null,
    readOnly: true,
    flags: [],
    origin: 'lookup-events',
    ...partial,
  };
}

export function timelineDocument(caseId = SCOPE_CASE_ID): TimelineDocument {
  return {
    schemaVersion: '1.0',
    caseId,
    generatedAt: '2026-11-28T09:47:00.000Z',
    principal: { accountId: '111122223333', instanceId: INSTANCE_ID, roleArn: ROLE_ARN, accessKeyIds: ['ASIAEXAMPLESTOLEN001'] },
    window: { from: '2026-11-27T09:30:00.000Z', to: '2026-11-28T09:47:00.000Z', lookBackHours: 24 },
    containedAt: CONTAINED_AT,
    regions: ['eu-west-1', 'us-east-1'],
    assumedRoles: [{ roleArn: 'arn:aws:iam::111122223333:role/data-reader', sessionName: 'x', assumedAt: '2026-11-28T08:40:00.000Z', eventId: 'e-04' }],
    events: [
      event({ time: '2026-11-27T22:10:00.000Z', eventId: 'e-01', eventName: 'GetCallerIdentity' }),
      event({
        time: '2026-11-28T08:30:00.000Z',
        eventId: 'e-02',
        eventName: 'ListBuckets',
        eventSource: 's3.amazonaws.com',
        region: 'us-east-1',
        sourceIPAddress: '198.51.100.23',
        userAgent: HOSTILE_USER_AGENT,
        accessKeyId: 'ASIAEXAMPLESTOLEN001',
        actor: { kind: 'access-key', accessKeyId: 'ASIAEXAMPLESTOLEN001', arn: session.arn },
        flags: ['outside-aws'],
      }),
      event({
        time: '2026-11-28T08:35:00.000Z',
        eventId: 'e-03',
        eventName: 'GetSecretValue',
        eventSource: 'secretsmanager.amazonaws.com',
        sourceIPAddress: '198.51.100.23',
        userAgent: HOSTILE_USER_AGENT,
        accessKeyId: 'ASIAEXAMPLESTOLEN001',
        actor: { kind: 'access-key', accessKeyId: 'ASIAEXAMPLESTOLEN001', arn: session.arn },
        resources: [{ type: 'AWS::SecretsManager::Secret', name: SECRET_ARN }],
        flags: ['outside-aws', 'secret-or-decrypt'],
      }),
      event({
        time: '2026-11-28T08:40:00.000Z',
        eventId: 'e-04',
        eventName: 'AssumeRole',
        readOnly: false,
        resources: [{ type: 'AWS::IAM::Role', name: 'arn:aws:iam::111122223333:role/data-reader' }],
        flags: ['iam-sts-write'],
      }),
      event({
        time: '2026-11-28T08:41:00.000Z',
        eventId: 'e-05',
        eventName: 'GetObject',
        eventSource: 's3.amazonaws.com',
        accessKeyId: 'ASIAEXAMPLEASSUMED01',
        actor: { kind: 'assumed-role-session', roleArn: 'arn:aws:iam::111122223333:role/data-reader', sessionName: 'x', assumedBy: session.arn },
        resources: [{ type: 'AWS::S3::Object', name: 'arn:aws:s3:::customer-exports/2026/all.csv' }],
        flags: ['data-access'],
        origin: 'trail-logs',
      }),
      event({
        time: '2026-11-28T09:46:02.000Z',
        eventId: 'e-06',
        eventName: 'GetSecretValue',
        eventSource: 'secretsmanager.amazonaws.com',
        errorCode: 'AccessDenied',
        errorMessage: 'with an explicit deny in an identity-based policy',
        resources: [{ type: 'AWS::SecretsManager::Secret', name: SECRET_ARN }],
        flags: ['secret-or-decrypt', 'denied-after-containment'],
      }),
    ],
    gaps: [{ source: 'lookup-events', region: 'us-east-1', kind: 'limit', detail: 'stopped at 5000 events' }],
  };
}

export function rotateDocument(caseId = SCOPE_CASE_ID): RotateDocument {
  return {
    schemaVersion: '1.0',
    caseId,
    generatedAt: '2026-11-28T09:47:30.000Z',
    roleArn: ROLE_ARN,
    regions: ['eu-west-1'],
    evaluated: 9,
    items: [
      { rank: 1, kind: 'secret', arn: SECRET_ARN, name: 'prod/db', region: 'eu-west-1', allowedActions: ['secretsmanager:GetSecretValue'], basis: 'identity-policy', observed: true, observedEventIds: ['e-03', 'e-06'], command: ROTATE_SECRET_COMMAND },
      { rank: 2, kind: 'parameter', arn: 'arn:aws:ssm:eu-west-1:111122223333:parameter/app/api-key', name: '/app/api-key', region: 'eu-west-1', allowedActions: ['ssm:GetParameter'], basis: 'identity-policy', observed: false, observedEventIds: [], command: 'aws ssm put-parameter --name /app/api-key --type SecureString --overwrite --value NEW_VALUE --region eu-west-1' },
      { rank: 3, kind: 'kms-key', arn: 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', name: 'alias/app', region: 'eu-west-1', allowedActions: ['kms:Decrypt'], basis: 'resource-policy', observed: false, observedEventIds: [], command: 'aws kms rotate-key-on-demand --key-id 1234abcd-12ab-34cd-56ef-1234567890ab --region eu-west-1' },
    ],
    gaps: [],
  };
}

export const CLOUDTRAIL_LOG_KEY = (caseId: string) =>
  `${logsPrefix(caseId, 'cloudtrail')}AWSLogs/o-exampleorg/111122223333/CloudTrail/eu-west-1/2026/11/28/111122223333_CloudTrail_eu-west-1_20261128T0840Z_abc.json.gz`;
export const CLOUDTRAIL_DIGEST_KEY = (caseId: string) =>
  `${logsPrefix(caseId, 'cloudtrail')}AWSLogs/o-exampleorg/111122223333/CloudTrail-Digest/eu-west-1/2026/11/28/111122223333_CloudTrail-Digest_eu-west-1_trail_eu-west-1_20261128T0900Z.json.gz`;

/** The manifest sections and the objects the scope adds, for documents with these bodies. */
export function scopeManifestParts(
  caseId: string,
  hashes: { timeline: string; rotate: string; logs: { key: string; sha256: string }[] },
): Pick<ManifestV1, 'timeline' | 'logs' | 'rotate'> & { objects: { key: string; sha256: string }[] } {
  const t = timelineDocument(caseId);
  const r = rotateDocument(caseId);
  const timeline: ManifestTimeline = {
    status: 'partial',
    key: timelineKey(caseId),
    sha256: hashes.timeline,
    events: t.events.length,
    flagged: t.events.filter((e) => e.flags.length > 0).length,
    window: t.window,
    regions: t.regions,
    gaps: t.gaps,
  };
  const logs: ManifestLogs = {
    cloudtrail: { status: 'complete', sourceBucket: 'org-trail-logs', logFiles: 1, digestFiles: 1, bytes: 2048 },
    flowLogs: { status: 'skipped', reason: 'no flow log on the instance\'s network interfaces', sources: [] },
    gaps: [],
  };
  const rotate: ManifestRotate = {
    status: 'complete',
    key: rotateKey(caseId),
    sha256: hashes.rotate,
    items: r.items.length,
    observed: r.items.filter((i) => i.observed).length,
    top: r.items.slice(0, 2).map(({ rank, kind, name, region, observed, command }) => ({ rank, kind, name, region, observed, command })),
  };
  return {
    timeline,
    logs,
    rotate,
    objects: [{ key: timelineKey(caseId), sha256: hashes.timeline }, { key: rotateKey(caseId), sha256: hashes.rotate }, ...hashes.logs],
  };
}

/** The bodies as the scoping step writes them (canonical JSON) and their hashes. */
export function scopeBodies(caseId = SCOPE_CASE_ID) {
  const timeline = canonicalBody(timelineDocument(caseId));
  const rotate = canonicalBody(rotateDocument(caseId));
  return { timeline, rotate };
}
