import * as z from 'zod/mini';
import { CASE_ID_PATTERN } from './case-id';
import { InvalidInput } from './errors';
import { reasonSchema, requestedBySchema, safe, UNSAFE } from './input-validation';

/**
 * The input of the release state machine (and of `forensics release`): `{caseId, reason, requestedBy}`. Strict, like
 * the manual acquisition request, and with the same rules for `reason` and `requestedBy`: both end up in the case
 * record, the custody log and the notification, so control and invisible formatting characters are refused
 * (input-validation.ts).
 */
export const releaseRequestSchema = z.strictObject({
  caseId: z.string().check(
    z.maxLength(64, 'longer than 64 characters'),
    z.refine(safe, UNSAFE),
    z.regex(CASE_ID_PATTERN, 'expected a case id such as 20260101T120000Z-i-0123456789abcdef0'),
  ),
  reason: reasonSchema,
  requestedBy: requestedBySchema,
});

export type ReleaseRequestInput = z.infer<typeof releaseRequestSchema>;

/** Validates a release request; throws `InvalidInput` naming the field (never echoing the value). */
export function parseReleaseRequest(input: unknown): ReleaseRequestInput {
  const parsed = releaseRequestSchema.safeParse(input, {
    error: (issue) => {
      if (issue.code === 'invalid_type') {
        if (issue.input === undefined) return 'required';
        if (issue.expected === 'object' && (issue.path?.length ?? 0) === 0) return 'expected a JSON object';
        return `expected a ${issue.expected}`;
      }
      return undefined;
    },
  });
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue?.code === 'unrecognized_keys') {
    throw new InvalidInput(issue.keys[0] ?? 'input', 'unknown field (a release request takes caseId, reason, requestedBy)');
  }
  const field = issue && issue.path.length > 0 ? issue.path.map(String).join('.') : 'input';
  throw new InvalidInput(field, issue?.message ?? 'invalid release request');
}
