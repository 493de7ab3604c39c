import { Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { AcquisitionStep } from '../../workflows/acquisition-steps';
import type { ReleaseStep } from '../../workflows/release-steps';
import { EVIDENCE_WRITES, evidenceWriteArns } from './evidence-writes';
import { flattenReference } from './nag-acknowledgements';

/** One least-privilege statement and the handler call that needs it. */
export interface StepPermission {
  /** Statement id in the template (alphanumeric); docs/permissions.md lists the same ids. */
  readonly sid: string;
  /** Which handler call needs it — also the reason given to cdk-nag for any wildcard resource. */
  readonly why: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly conditions?: Record<string, Record<string, unknown>>;
}

/**
 * Add one Allow statement to a role. Any wildcard resource is acknowledged to cdk-nag (AwsSolutions-IAM5) on that
 * role only, with the statement's own reason — no blanket stack-level suppression.
 */
export function allowOn(
  role: iam.IRole & { node: iam.Role['node'] },
  statement: StepPermission,
  flatten: (value: unknown) => string = flattenReference,
): void {
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: statement.sid,
      actions: statement.actions,
      resources: statement.resources,
      ...(statement.conditions ? { conditions: statement.conditions } : {}),
    }),
  );
  for (const resource of statement.resources) {
    const flat = flatten(Stack.of(role).resolve(resource));
    if (flat.includes('*')) {
      Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flat}]`, reason: `${statement.sid}: ${statement.why}` });
    }
  }
}

/** The case stores of the IR stack, all encrypted with the evidence key. */
export interface CaseStores {
  readonly evidenceKey: kms.IKey;
  readonly evidenceBucket: s3.IBucket;
  readonly caseTable: dynamodb.ITable;
  readonly topic: sns.ITopic;
}

/**
 * The building blocks several steps of both workflows (acquisition in ir-stack.ts, release in release-workflow.ts)
 * share: the case table, custody records under `cases/`, and publishing to the topic — each with the evidence key
 * only through the one service that uses it on the caller's behalf. Statement ids are `<Step><Block>`.
 *
 * `custodyWrites` is what the custody reason says PutObject writes ("records", "custody records").
 */
export function caseStoreGrants<S extends string>(
  scope: Stack,
  functions: Record<S, { readonly role: iam.Role }>,
  stores: CaseStores,
  custodyWrites: string,
) {
  const allow = (step: S, p: StepPermission): void => allowOn(functions[step].role, p);
  const keyArn = stores.evidenceKey.keyArn;
  const bucketArn = stores.evidenceBucket.bucketArn;
  const caseObjects = stores.evidenceBucket.arnForObjects('cases/*');

  return {
    caseTable(step: S, actions: string[], why: string): void {
      allow(step, { sid: `${pascal(step)}CaseTable`, why, actions, resources: [stores.caseTable.tableArn] });
      const writes = actions.some((a) => !/^dynamodb:(GetItem|ConditionCheckItem)$/.test(a));
      allow(step, {
        sid: `${pascal(step)}CaseTableKey`,
        why: 'The case table is encrypted with the evidence key; DynamoDB uses it on the caller\'s behalf.',
        actions: writes
          ? ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey']
          : ['kms:Decrypt', 'kms:DescribeKey'],
        resources: [keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${scope.region}.amazonaws.com` } },
      });
    },

    custody(step: S, why: string): void {
      const writes = evidenceWriteArns(step as AcquisitionStep | ReleaseStep, (pattern) => stores.evidenceBucket.arnForObjects(pattern));
      if (writes.length === 0) throw new Error(`${step}: writes no evidence object (infra/constructs/evidence-writes.ts)`);
      const kinds = (EVIDENCE_WRITES[step as AcquisitionStep | ReleaseStep] ?? []).join(', ');
      allow(step, {
        sid: `${pascal(step)}EvidenceObjects`,
        why: `${why} PutObject writes ${custodyWrites} (SHA-256 checked, If-None-Match: *) with a legal hold, which ` +
          `needs PutObjectLegalHold; only the keys this step writes (${kinds}), and only with ` +
          's3:object-lock-legal-hold = ON, so the step can put holds on and never lift one.',
        actions: ['s3:PutObject', 's3:PutObjectLegalHold'],
        resources: writes,
        conditions: { StringEquals: { 's3:object-lock-legal-hold': 'ON' } },
      });
      allow(step, {
        sid: `${pascal(step)}EvidenceRetention`,
        why: 'PutObjectRetention authorises the explicit Object Lock retention every object is written with (its ' +
          'own mode and retain-until date, never the bucket default alone); only on the keys this step writes. ' +
          'COMPLIANCE retention cannot be shortened by anyone, and the bucket policy refuses any other mode.',
        actions: ['s3:PutObjectRetention'],
        resources: writes,
      });
      allow(step, {
        sid: `${pascal(step)}EvidenceRead`,
        why: 'GetObject serves HeadObject (does a record exist) and GetObject for the custody chain head. Only under cases/.',
        actions: ['s3:GetObject'],
        resources: [caseObjects],
      });
      allow(step, {
        sid: `${pascal(step)}EvidenceList`,
        why: 'Without ListBucket, HeadObject of a record not yet written answers 403 instead of 404; cases/ only.',
        actions: ['s3:ListBucket'],
        resources: [bucketArn],
        conditions: { StringLike: { 's3:prefix': ['cases/*'] } },
      });
      allow(step, {
        sid: `${pascal(step)}EvidenceKeyViaS3`,
        why: 'SSE-KMS with the evidence key (bucket key): S3 generates and decrypts data keys as the caller.',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [keyArn],
        conditions: {
          StringEquals: { 'kms:ViaService': `s3.${scope.region}.amazonaws.com` },
          StringLike: { 'kms:EncryptionContext:aws:s3:arn': [bucketArn, caseObjects] },
        },
      });
    },

    publish(step: S, why: string): void {
      allow(step, { sid: `${pascal(step)}Publish`, why, actions: ['sns:Publish'], resources: [stores.topic.topicArn] });
      allow(step, {
        sid: `${pascal(step)}TopicKeyViaSns`,
        why: 'The topic is encrypted with the evidence key: SNS generates the message data key as the publisher.',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `sns.${scope.region}.amazonaws.com` } },
      });
    },
  };
}

/** `releaseContainment` → `ReleaseContainment`: construct ids and statement ids from step names. */
export function pascal(name: string): string {
  return name.charAt(0).toUpperCase() + name.slice(1);
}
