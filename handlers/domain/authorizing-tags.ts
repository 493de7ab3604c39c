/**
 * Tag keys the IAM policies authorize by, shared by the handlers that set them and the stacks that condition on them
 * (infra/constructs/tag-protection.ts says who may set each).
 */

/** IAM role tag `<prefix>:contained` = case id: set by the isolate step, required by release's DeleteRolePolicy. */
export function containedTagKey(tagPrefix: string): string {
  return `${tagPrefix}:contained`;
}

/** Session tag `<prefix>:workflow` = acquisition | release on a responder-role session (multi-account mode). */
export function workflowSessionTagKey(tagPrefix: string): string {
  return `${tagPrefix}:workflow`;
}
