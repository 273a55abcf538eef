/**
 * `cairn cat` re-parses stored JSON to print it (spec/hostile-input.md): a well-sealed snapshot or
 * index file that is not JSON, or is nested too deeply to print, fails with ERR_CORRUPT naming the
 * file — never an "unexpected error" (a SyntaxError or RangeError escaping as ERR_INTERNAL).
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalBackend } from '../../src/backend/index.js';
import { Repository } from '../../src/repository/index.js';
import { cairn, scratchRepository } from '../cli/helpers.js';
import { deepArray, deepObject } from './fuzz-helpers.js';

const ENV = { CAIRN_PASSWORD: 'pw', CAIRN_KDF: '1024:8:1' };

describe('cairn cat of hostile stored JSON', () => {
  let root: string;
  let repo: string;
  beforeAll(async () => {
    ({ root, repo } = await scratchRepository('cairn-fuzz-cat-', ENV));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('prints ERR_CORRUPT naming the file for JSON that does not parse or is too deep to print', async () => {
    const r = await Repository.open(new LocalBackend(repo), ENV.CAIRN_PASSWORD);
    const docs = ['{"time":', 'not json', deepArray(200_000), `{"x":${deepObject(200_000)}}`];
    const ids = [];
    for (const d of docs) ids.push(await r.saveUnpacked('snapshot', new TextEncoder().encode(d)));
    await r.close();
    for (const id of ids) {
      const res = await cairn(['-r', repo, '--json', 'cat', 'snapshot', id], { env: ENV });
      expect(res.code, res.err).toBe(1);
      const line = JSON.parse(res.err.trim().split('\n').pop()!) as { code: string; message: string };
      expect(line.code, line.message).toBe('ERR_CORRUPT');
      expect(line.message).toContain(`snapshot ${id}`);
    }
  });
});
