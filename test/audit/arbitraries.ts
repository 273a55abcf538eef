/** fast-check arbitraries of audit records, for the codec's property and fuzz tests. */
import fc from 'fast-check';
import type { AuditRecord } from '../../src/audit/index.js';

const idArb = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
const ids = fc.array(idArb, { maxLength: 4 });
const changes = fc.record({ added: ids, removed: ids });
const count = fc.nat({ max: 1_000_000 });

export const recordArb: fc.Arbitrary<AuditRecord> = fc
  .record({
    time: fc.date({ min: new Date('1990-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
    hostname: fc.string(),
    username: fc.string(),
    pid: count,
    command: fc.constantFrom('snapshot', 'forget', 'prune', 'key add', 'repair index'),
    args: fc.array(fc.string(), { maxLength: 6 }),
    ok: fc.boolean(),
    exit_code: fc.nat({ max: 255 }),
    error_code: fc.option(fc.constantFrom('ERR_PRUNE_UNSAFE', 'ERR_INTERRUPTED'), { nil: undefined }),
    snapshots: changes,
    packs: changes,
    packCounts: fc.tuple(count, count),
    keys: fc.option(changes, { nil: undefined }),
    index: fc.option(fc.record({ added_count: count, removed_count: count }), { nil: undefined }),
    locks: fc.option(fc.record({ removed_count: count }), { nil: undefined }),
    cairn_version: fc.string(),
  })
  .map((r) => ({
    version: 1 as const,
    time: r.time,
    hostname: r.hostname,
    username: r.username,
    pid: r.pid,
    command: r.command,
    args: r.args,
    result: { ok: r.ok, exit_code: r.exit_code, ...(r.error_code === undefined ? {} : { error_code: r.error_code }) },
    snapshots: r.snapshots,
    packs: { ...r.packs, added_count: r.packCounts[0], removed_count: r.packCounts[1] },
    ...(r.keys === undefined ? {} : { keys: r.keys }),
    ...(r.index === undefined ? {} : { index: r.index }),
    ...(r.locks === undefined ? {} : { locks: r.locks }),
    cairn_version: r.cairn_version,
  }));

