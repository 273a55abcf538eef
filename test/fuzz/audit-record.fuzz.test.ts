/**
 * Hostile audit records (spec/hostile-input.md): random bytes, mutated valid records and
 * well-formed JSON of the wrong shape meet decodeAuditRecord with ERR_CORRUPT only, quickly; so do
 * damaged sealed record files loaded through the repository (ERR_AUTH_FAILED / ERR_CORRUPT).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAuditRecord, encodeAuditRecord } from '../../src/audit/index.js';
import { MemoryBackend } from '../../src/backend/index.js';
import { appendAuditRecord, listAuditRecords, Repository } from '../../src/repository/index.js';
import { recordArb } from '../audit/arbitraries.js';
import { bytesArb, byteEditsArb, editBytes, SEED, typedOnly } from './fuzz-helpers.js';

const jsonArb = fc.jsonValue({ maxDepth: 4 });

describe('audit records (decodeAuditRecord)', () => {
  it('random bytes: ERR_CORRUPT', () => {
    fc.assert(
      fc.property(bytesArb, (bytes) => {
        typedOnly(() => decodeAuditRecord(bytes, 'cairn-log/x'), ['ERR_CORRUPT'], { input: bytes, what: 'cairn-log/x' });
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('edited valid records and wrong-shaped JSON: a record or ERR_CORRUPT, nothing else', () => {
    fc.assert(
      fc.property(recordArb, byteEditsArb, jsonArb, (r, edits, junk) => {
        const bytes = encodeAuditRecord(r);
        typedOnly(() => decodeAuditRecord(editBytes(bytes, edits), 'f'), ['ERR_CORRUPT'], { input: bytes });
        const obj = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
        const keys = Object.keys(obj);
        const k = keys[edits.length % keys.length]!;
        const wrong = new TextEncoder().encode(JSON.stringify({ ...obj, [k]: junk }));
        typedOnly(() => decodeAuditRecord(wrong, 'f'), ['ERR_CORRUPT'], { input: wrong });
        typedOnly(() => decodeAuditRecord(new TextEncoder().encode(JSON.stringify(junk)), 'f'), ['ERR_CORRUPT'], { input: junk });
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('a 2 MiB record is refused before parsing', () => {
    const big = new TextEncoder().encode(`{"version":1,"args":["${'a'.repeat(2 << 20)}"]}`);
    expect(typedOnly(() => decodeAuditRecord(big, 'f'), ['ERR_CORRUPT'])).toBeUndefined();
  });

  it('damaged record files: listed as unreadable (ERR_AUTH_FAILED, ERR_CORRUPT, ERR_NOT_FOUND), the good one listed', async () => {
    const backend = new MemoryBackend();
    const repo = await Repository.init(backend, 'pw', { kdf: { N: 1024, r: 8, p: 1 } });
    const [r1, r2] = fc.sample(recordArb, { seed: SEED, numRuns: 2 });
    const good = await appendAuditRecord(repo, r1!);
    const bad = await appendAuditRecord(repo, r2!);
    const stored = await backend.load({ type: 'audit', name: bad });
    const flipped = Uint8Array.from(stored);
    flipped[20]! ^= 1;
    await backend.save({ type: 'audit', name: bad }, flipped);
    const listing = await listAuditRecords(repo);
    expect(listing.records.map((x) => x.id)).toEqual([good]);
    expect(listing.unreadable.map((x) => [x.id, x.error.code])).toEqual([[bad, 'ERR_CORRUPT']]);
    await repo.close();
  });
});
