/**
 * spec/errors.md documents every error code exactly once, with the exit code the CLI really
 * uses: codes stay unique, documented and in step with src/errors.ts and src/cli/main.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../src/errors.js';
import { exitCodeFor } from '../../src/cli/main.js';

interface Row {
  readonly code: string;
  readonly exit: string;
  readonly meaning: string;
  readonly action: string;
}

function parseTable(markdown: string): Row[] {
  const rows: Row[] = [];
  for (const line of markdown.split('\n')) {
    const m = /^\|\s*`(ERR_[A-Z0-9_]+)`\s*\|(.*)\|\s*$/.exec(line);
    if (m === null) continue;
    const cells = (m[2] ?? '').split('|').map((c) => c.trim());
    rows.push({ code: m[1] ?? '', exit: cells[0] ?? '', meaning: cells[1] ?? '', action: cells[2] ?? '' });
  }
  return rows;
}

const rows = parseTable(readFileSync(new URL('../../spec/errors.md', import.meta.url), 'utf8'));
const codes = Object.keys(ERROR_CODES);

describe('spec/errors.md', () => {
  it('has a row for every code in ERROR_CODES', () => {
    expect(codes.filter((c) => !rows.some((r) => r.code === c))).toEqual([]);
  });

  it('documents no code that does not exist', () => {
    expect(rows.map((r) => r.code).filter((c) => !codes.includes(c))).toEqual([]);
  });

  it('documents each code once', () => {
    const seen = rows.map((r) => r.code);
    expect(seen.filter((c, i) => seen.indexOf(c) !== i)).toEqual([]);
  });

  it('gives each code the exit code the CLI uses, a meaning and an action', () => {
    for (const r of rows) {
      expect({ code: r.code, exit: Number(r.exit) }).toEqual({ code: r.code, exit: exitCodeFor(r.code as ErrorCode) });
      expect(r.meaning.length, r.code).toBeGreaterThan(10);
      expect(r.action.length, r.code).toBeGreaterThan(10);
    }
  });
});
