/**
 * Text rendering shared by the responder commands: aligned tables, PASS/FAIL lines, console links. Pure.
 */

/** Column-aligned table, two spaces between columns, no trailing spaces; `-` for empty cells. */
export function renderTable(headers: readonly string[], rows: readonly (readonly (string | number | null | undefined)[])[]): string[] {
  const cells = rows.map((row) => headers.map((_, i) => cellText(row[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)];
}

function cellText(value: string | number | null | undefined): string {
  if (value === null || value === undefined || value === '') return '-';
  return sanitize(String(value));
}

/** Display text: control and bidi characters shown as spaces, so stored data never forges terminal output. */
export function sanitize(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control and format characters are what this removes
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g, ' ');
}

export type CheckStatus = 'PASS' | 'FAIL' | 'WARN' | 'SKIP';

export interface CheckResult {
  status: CheckStatus;
  /** Stable check name, e.g. `object.sha256`, `custody.chain`, `snapshot.exists`. */
  check: string;
  /** What was checked: an object key, a snapshot id, `manifest`, the bucket. */
  subject: string;
  detail: string;
}

/** `PASS  object.sha256        cases/…/instance.json  matches the manifest (4f1c…)` */
export function renderChecks(checks: readonly CheckResult[]): string[] {
  const checkWidth = Math.max(0, ...checks.map((c) => c.check.length));
  const subjectWidth = Math.min(72, Math.max(0, ...checks.map((c) => c.subject.length)));
  return checks.map((c) =>
    `${c.status.padEnd(4)}  ${c.check.padEnd(checkWidth)}  ${sanitize(c.subject).padEnd(subjectWidth)}  ${sanitize(c.detail)}`.trimEnd(),
  );
}

export function summarizeChecks(checks: readonly CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { PASS: 0, FAIL: 0, WARN: 0, SKIP: 0 };
  for (const c of checks) counts[c.status] += 1;
  return counts;
}

/** Short form of a SHA-256 for display; the JSON output always carries the full value. */
export function shortHash(hex: string | null | undefined): string {
  return hex ? `${hex.slice(0, 12)}…` : '-';
}

/** The Step Functions console page of an execution, in the partition of its ARN. */
export function executionConsoleUrl(executionArn: string): string {
  const parts = executionArn.split(':');
  const partition = parts[1] ?? 'aws';
  const region = parts[3] ?? 'us-east-1';
  const host =
    partition === 'aws-cn'
      ? 'console.amazonaws.cn'
      : partition === 'aws-us-gov'
        ? 'console.amazonaws-us-gov.com'
        : `${region}.console.aws.amazon.com`;
  return `https://${host}/states/home?region=${region}#/v2/executions/details/${encodeURIComponent(executionArn)}`;
}

/** `1.234 s`, or `-` when unknown. */
export function seconds(value: number | null | undefined): string {
  return typeof value === 'number' ? `${value} s` : '-';
}

/** `sha256sum` format: hash, two spaces, path (binary mode marker omitted: the files are hashed as bytes). */
export function sha256sumsLine(sha256: string, path: string): string {
  return `${sha256}  ${path}`;
}
