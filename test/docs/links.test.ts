import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The README is the short way in (pitch, two commands, diagram, layout, links); the rest lives in docs/. These keep
 * it that way: a README that grows back, a link to a page that moved, or a page nobody links to fails here.
 */
const ROOT = resolve(__dirname, '../..');
const README = join(ROOT, 'README.md');
const DOCS = join(ROOT, 'docs');
const pages = readdirSync(DOCS).filter((f) => f.endsWith('.md'));

/** Relative link targets of a Markdown file (anchors and URLs left out). */
function relativeLinks(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => (m[1] ?? '').split('#')[0] ?? '')
    .filter((target) => target !== '' && !/^[a-z]+:/i.test(target));
}

describe('documentation', () => {
  it('the README stays short: at most 200 lines', () => {
    expect(readFileSync(README, 'utf8').split('\n').length).toBeLessThanOrEqual(200);
  });

  it('every relative link of the README and of docs/ names a file that exists', () => {
    const broken = [README, ...pages.map((p) => join(DOCS, p))].flatMap((file) =>
      relativeLinks(file)
        .filter((target) => !existsSync(resolve(dirname(file), target)))
        .map((target) => `${file.slice(ROOT.length + 1)} → ${target}`),
    );
    expect(broken).toEqual([]);
  });

  it('every page of docs/ is linked from the README', () => {
    const linked = new Set(relativeLinks(README).map((target) => resolve(ROOT, target)));
    expect(pages.filter((p) => !linked.has(join(DOCS, p)))).toEqual([]);
  });
});
