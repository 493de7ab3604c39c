import { z } from 'zod';
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

export const reasonSchema = z
  .string()
  .max(MAX_REASON_LENGTH, `longer than ${MAX_REASON_LENGTH} characters`)
  .refine(safe, UNSAFE)
  .refine((value) => value.trim().length > 0, 'must not be empty');

export const requestedBySchema = z
  .string()
  .max(MAX_REQUESTED_BY_LENGTH, `longer than ${MAX_REQUESTED_BY_LENGTH} characters`)
  .refine(safe, UNSAFE)
  .regex(REQUESTED_BY_PATTERN, 'expected a user name, email or IAM principal ARN (letters, digits and ._@+=,:/-)');
