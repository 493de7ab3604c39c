import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { contextSchema } from '../../infra/config';
import { PROJECT_ROOT } from '../../infra/constructs/forensic-function';
import { IR_STACK_OUTPUTS } from '../../infra/ir-stack';
import { MEMORY_AGENT_ACTIONS } from '../../handlers/domain/memory-capture';

/** The docs stay true to the code: every setting and output documented, and only the product spoken of. */
const read = (relative: string) => readFileSync(path.join(PROJECT_ROOT, relative), 'utf8');
const DEPLOYMENT = 'docs/deployment.md';

/** `| \`key\` | default | meaning |` rows of a Markdown document, as key → default cell. */
function tableRows(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of markdown.split('\n')) {
    const cells = line.match(/^\| `([^`]+)` \| ([^|]*) \|/);
    if (cells) rows.set(cells[1]!, cells[2]!.trim());
  }
  return rows;
}

/** How the settings table writes a default: `value` in backticks (JSON for lists), or "unset". */
function documentedDefault(value: unknown): string {
  if (value === undefined) return 'unset';
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``;
}

describe('docs/deployment.md', () => {
  it('lists every setting of infra/config.ts with its default, and no setting that does not exist', () => {
    // Prepare
    const rows = tableRows(read(DEPLOYMENT));
    const settings = Object.entries(contextSchema.shape);

    // Act
    const documented = settings.map(([key]) => [key, rows.get(key)]);
    const expected = settings.map(([key, schema]) => [key, documentedDefault(schema.parse(undefined))]);
    const unknown = [...rows.keys()].filter((key) => key.startsWith('forensics:') && !(key in contextSchema.shape));

    // Assess
    expect(documented).toEqual(expected);
    expect(unknown).toEqual([]);
  });

  it('lists every output of the IR stack (the CLI contract)', () => {
    // Prepare
    const rows = tableRows(read(DEPLOYMENT));

    // Act
    const missing = Object.values(IR_STACK_OUTPUTS).filter((key) => !rows.has(key));

    // Assess
    expect(missing).toEqual([]);
  });
});

describe('README.md and docs/*.md', () => {
  /** Tracker references and step numbers of design documents that live outside this repository. */
  const FORBIDDEN: readonly RegExp[] = [/\bissues? #?\d+/i, /(^|[\s([])#\d+\b/, /\bissue: /i, /\b(DESIGN|RESEARCH)(\.md)?\b/];

  it('speak of the product only: no issue numbers, no steps of documents outside the repository', () => {
    // Prepare
    const files = ['README.md', ...readdirSync(path.join(PROJECT_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

    // Act
    const found = files.flatMap((file) =>
      read(file)
        .split('\n')
        .flatMap((line, i) => (FORBIDDEN.some((pattern) => pattern.test(line)) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
    );

    // Assess
    expect(found).toEqual([]);
  });
});

describe('docs/memory.md', () => {
  it('explains every action the SSM agent keeps during a capture, and no other', () => {
    // Prepare: the actions named in the table rows of the exemption section.
    const text = read('docs/memory.md');
    const section = text.slice(text.indexOf("## Credentials"), text.indexOf('## The tools snapshot'));

    // Act
    const documented = [...section.matchAll(/^\| (.+?) \|/gm)].flatMap((m) => [...(m[1] ?? '').matchAll(/`([a-z0-9]+:[A-Za-z]+)`/g)].map((a) => a[1]));

    // Assess
    expect([...documented].sort()).toEqual([...MEMORY_AGENT_ACTIONS].sort());
  });
});
