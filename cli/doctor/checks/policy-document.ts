/** IAM policy documents as the APIs return them (key, bucket, bus, trust policies): parsed leniently, read strictly. */

export interface PolicyStatement {
  Sid?: string;
  Effect?: string;
  Principal?: string | Record<string, unknown>;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyDocument {
  Statement?: PolicyStatement | PolicyStatement[];
}

export function parsePolicy(text: string | undefined): PolicyDocument | undefined {
  if (!text) return undefined;
  try {
    // IAM returns trust policies URL-encoded (GetRole); the other APIs return plain JSON.
    const json = text.trimStart().startsWith('%7B') ? decodeURIComponent(text) : text;
    const parsed = JSON.parse(json) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as PolicyDocument) : undefined;
  } catch {
    return undefined;
  }
}

/** IAM lets most members be one value or a list. */
export function asList(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

export function statements(policy: PolicyDocument | undefined): PolicyStatement[] {
  return policy ? (Array.isArray(policy.Statement) ? policy.Statement : policy.Statement ? [policy.Statement] : []) : [];
}

/** The AWS principals of a statement (`"*"` for everyone). */
export function awsPrincipals(s: PolicyStatement): string[] {
  if (s.Principal === '*') return ['*'];
  return asList((s.Principal as { AWS?: unknown } | undefined)?.AWS);
}

/** Every value a condition key is compared with, in any operator (StringEquals, ArnLike, …). */
export function conditionValues(s: PolicyStatement, key: string): string[] {
  return Object.values(s.Condition ?? {}).flatMap((byKey) => asList(byKey?.[key]));
}
