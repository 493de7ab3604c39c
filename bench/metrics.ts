import type { CallRecord } from './aws-calls';

/** Small, pure statistics for the benchmark report. */

/** Nearest-rank percentile (p in 0–100) of the values; null when there are none. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? null;
}

export function median(values: number[]): number | null {
  return percentile(values, 50);
}

/**
 * Sequential AWS round trips within [from, to]: the length of the longest chain of calls each of which starts
 * after the previous one ended. Calls that overlap in time were in flight together (made in parallel) and count
 * once; calls strictly one after the other count each. This is the classic interval-scheduling maximum (earliest
 * end first, greedily), computed on the recorded attempts, so SDK retries on the path count as round trips too.
 * With a fixed injected latency L per call, `roundTrips × L` is a lower bound of the time AWS latency adds to the
 * path, whatever the emulator's own speed.
 */
export function sequentialRoundTrips(calls: CallRecord[], from: number, to: number): number {
  const window = calls.filter((c) => c.start >= from && c.end <= to).sort((a, b) => a.end - b.end || a.start - b.start);
  let count = 0;
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const c of window) {
    if (c.start >= lastEnd) {
      count++;
      lastEnd = c.end;
    }
  }
  return count;
}

/**
 * The case's calls up to containment as text, ms from execution start, the calls of the longest sequential chain
 * marked `*` (the same greedy choice as `sequentialRoundTrips`). Printed by the bench when BENCH_TIMELINE is set.
 */
export function timeline(caseKey: string, calls: CallRecord[], from: number, to: number | null): string {
  const until = to ?? Number.POSITIVE_INFINITY;
  const window = calls.filter((c) => c.start >= from && c.end <= until).sort((a, b) => a.start - b.start);
  const chain = new Set<CallRecord>();
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const c of [...window].sort((a, b) => a.end - b.end || a.start - b.start)) {
    if (c.start >= lastEnd) {
      chain.add(c);
      lastEnd = c.end;
    }
  }
  const lines = window.map((c) => `${chain.has(c) ? '*' : ' '} ${String(c.start - from).padStart(6)} → ${String(c.end - from).padStart(6)}  ${c.service}:${c.command}${c.error ? ` (${c.error})` : ''}`);
  return `timeline ${caseKey} (${chain.size} sequential round trips; contained at ${to === null ? '—' : to - from} ms)\n${lines.join('\n')}\n`;
}

/** Calls per command name, most frequent first. */
export function byCommand(calls: CallRecord[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const c of calls) counts.set(`${c.service}:${c.command}`, (counts.get(`${c.service}:${c.command}`) ?? 0) + 1);
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

/** Least-squares line through (x, y) points: y ≈ intercept + slope·x, with R². */
export function linearFit(points: { x: number; y: number }[]): { slope: number; intercept: number; r2: number } | null {
  if (points.length < 2) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const sxy = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const ssTot = points.reduce((s, p) => s + (p.y - my) ** 2, 0);
  const ssRes = points.reduce((s, p) => s + (p.y - (intercept + slope * p.x)) ** 2, 0);
  return { slope, intercept, r2: ssTot === 0 ? 1 : 1 - ssRes / ssTot };
}
