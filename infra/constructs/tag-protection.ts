import * as iam from 'aws-cdk-lib/aws-iam';
import { containedTagKey, workflowSessionTagKey } from '../../handlers/domain/authorizing-tags';

export { containedTagKey, workflowSessionTagKey };

/**
 * Tags that authorize must not be settable by whoever they authorize.
 *
 * Several statements grant an action only on resources carrying one of this product's tags:
 * - `<prefix>:evidence` on snapshots: sharing and deleting the workload-side intermediate copy (responder role),
 *   locking the IR evidence snapshots, creating workstation volumes from them;
 * - `<prefix>:role` on security groups, volumes and instances: rule changes on isolation groups, attaching
 *   workstation volumes to workstation instances;
 * - `<prefix>:contained` on IAM roles: deleting a deny policy at release (the isolate step tags the role it contained);
 * - `<prefix>:drill` on instances: a drill case (short retention of its evidence) may acquire only an instance
 *   carrying it (handlers/domain/drill.ts). Set by `forensics drill` itself when it launches its canary (the caller's
 *   own RunInstances); no role of the product may put it on an existing instance, or a real instance could be
 *   acquired as a drill — evidence kept a day, and its instance lock held against the real acquisition.
 *
 * Such a key may be set only by the call that creates the resource (`ec2:CreateAction`: CopySnapshot for snapshots,
 * CreateSecurityGroup/CreateVolume/RunInstances for the others), or, for `<prefix>:contained`, only by the step that
 * contains a role. Every other tagging grant says so twice: its Allow admits only non-authorizing keys under the
 * product's prefix, and every role that may tag EC2 resources carries the explicit Deny below, so a later, wider
 * Allow cannot reopen the path.
 *
 * Set operators (IAM User Guide, "Multivalued context keys"): `ForAllValues` holds for a request without tags (an
 * empty `aws:TagKeys`), hence the `Null: false` beside it; `ForAnyValue` is false without tags, which is what a Deny
 * of "any authorizing key" needs. Keys are compared ignoring case so no spelling variant slips through.
 */
export function authorizingTagKeys(prefix: string): string[] {
  return [`${prefix}:evidence`, `${prefix}:role`, containedTagKey(prefix), `${prefix}:drill`];
}

/** CreateTags outside a create call: only keys under `<prefix>:`, never an authorizing one, and at least one key. */
export function freeTaggingCondition(prefix: string): Record<string, Record<string, unknown>> {
  return {
    'ForAllValues:StringLike': { 'aws:TagKeys': [`${prefix}:*`] },
    'ForAllValues:StringNotEqualsIgnoreCase': { 'aws:TagKeys': authorizingTagKeys(prefix) },
    Null: { 'aws:TagKeys': 'false' },
  };
}

/** Tagging as part of `createAction` without any authorizing key (CreateSnapshots: the originals are not evidence copies). */
export function creationTaggingWithoutAuthorizingKeys(prefix: string, createAction: string): Record<string, Record<string, unknown>> {
  return {
    StringEquals: { 'ec2:CreateAction': createAction },
    'ForAllValues:StringNotEqualsIgnoreCase': { 'aws:TagKeys': authorizingTagKeys(prefix) },
  };
}

/** Tag or untag exactly the `<prefix>:contained` key of an IAM role (TagRole at containment, UntagRole at release). */
export function containedTagOnlyCondition(prefix: string): Record<string, Record<string, unknown>> {
  return {
    'ForAllValues:StringEquals': { 'aws:TagKeys': [containedTagKey(prefix)] },
    Null: { 'aws:TagKeys': 'false' },
  };
}

/** Sid of the explicit deny every EC2-tagging role carries (docs/permissions.md). */
export const NO_AUTHORIZING_TAGS_SID = 'NoAuthorizingTagsAfterCreation';

/**
 * Deny `ec2:CreateTags` with any authorizing key unless the call is part of creating the resource (no
 * `ec2:CreateAction` in the request context means a plain CreateTags call on an existing resource).
 */
export function denyAuthorizingTagsAfterCreation(prefix: string, sid = NO_AUTHORIZING_TAGS_SID): iam.PolicyStatement {
  return new iam.PolicyStatement({
    sid,
    effect: iam.Effect.DENY,
    actions: ['ec2:CreateTags'],
    resources: ['*'],
    conditions: {
      'ForAnyValue:StringEqualsIgnoreCase': { 'aws:TagKeys': authorizingTagKeys(prefix) },
      Null: { 'ec2:CreateAction': 'true' },
    },
  });
}
