// zod/mini: the same checks as the full API, at a fraction of the bundle (the full API does not tree-shake), in
// every function that validates a request (triage is on the path to containment).
import * as z from 'zod/mini';
import { hasUnsafeCharacters } from './identifier-formats';

/**
 * The free-text fields a responder types into a request — `reason` and `requestedBy` of a manual acquisition
 * (manual-request.ts) and of a release (release-request.ts) — with one set of rules: both end up in the case
 * record, the custody log and notifications, so they refuse control and invisible formatting characters (forged
 * log lines, Trojan Source reordering) instead of cleaning them.
 */

export const MAX_REASON_LENGTH = 1024;
export const MAX_REQUESTED_BY_LENGTH = 128;
/**
 * User names, emails, IAM user names and principal ARNs (`arn:aws:sts::111122223333:assumed-role/IR/alice`):
 * no spaces, quotes, `;`, `$`, `<`, `>` or backslashes.
 */
export const REQUESTED_BY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@+=,:/-]*$/;

export const UNSAFE = 'contains control or invisible formatting characters';
export const safe = (value: string) => !hasUnsafeCharacters(value);

export const reasonSchema = z.string().check(
  z.maxLength(MAX_REASON_LENGTH, `longer than ${MAX_REASON_LENGTH} characters`),
  z.refine(safe, UNSAFE),
  z.refine((value) => value.trim().length > 0, 'must not be empty'),
);

export const requestedBySchema = z.string().check(
  z.maxLength(MAX_REQUESTED_BY_LENGTH, `longer than ${MAX_REQUESTED_BY_LENGTH} characters`),
  z.refine(safe, UNSAFE),
  z.regex(REQUESTED_BY_PATTERN, 'expected a user name, email or IAM principal ARN (letters, digits and ._@+=,:/-)'),
);
