/**
 * AuditRun (src/cli/audit.ts) on its own: appending is bounded — a storage that never answers
 * costs the run the timeout and a warning (AUDIT_APPEND_FAILED), never a hang or a failure — the
 * repository it was handed is closed either way, and commands that change nothing (a dry run, a
 * read-only command) hand nothing over.
 */
import { describe, expect, it } from 'vitest';
import { AuditRun } from '../../src/cli/audit.js';
import type { CommandContext } from '../../src/cli/context.js';
import { CairnError, type Repository } from '../../src/index.js';
import { makeIo } from './helpers.js';

function context(json = false): { ctx: CommandContext; err: () => string } {
  const io = makeIo();
  const ctx: CommandContext = { io, globals: () => ({ json, quiet: false, verbose: 0 }), recordMetrics: () => undefined };
  return { ctx, err: () => io.err() };
}

describe('AuditRun', () => {
  it('a storage that never answers: the timeout, a warning, the repository closed', async () => {
    let closed = 0;
    const hanging = { saveUnpacked: () => new Promise<never>(() => undefined), close: async () => void closed++ } as unknown as Repository;
    const run = new AuditRun(['-r', '/x', 'snapshot', '/data']);
    run.start('snapshot');
    expect(run.adopt(hanging)).toBe(true);
    const { ctx, err } = context(true);
    const t0 = Date.now();
    await run.finish(ctx, { exitCode: 0 }, 100);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(JSON.parse(err())).toMatchObject({ message_type: 'error', error: { code: 'AUDIT_APPEND_FAILED' }, during: 'audit', item: 'cairn-log' });
    expect(closed).toBe(1);
  });

  it('dry runs and read-only commands adopt nothing', () => {
    const repo = {} as Repository;
    const dry = new AuditRun(['prune', '--dry-run']);
    dry.start('prune');
    expect(dry.adopt(repo)).toBe(false);
    const ls = new AuditRun(['snapshots']);
    ls.start('snapshots');
    expect(ls.adopt(repo)).toBe(false);
    const paths = new AuditRun(['snapshot', '--', '-n']); // after --, -n is a path
    paths.start('snapshot');
    expect(paths.adopt(repo)).toBe(true);
  });

  it('the record: ok for exit 0 and a snapshot exit 3, error_code from the error, secrets redacted', async () => {
    const run = new AuditRun(['--password-command', 'pass show backup', 'snapshot', 'x']);
    run.start('snapshot');
    const partial = await run.record({ exitCode: 3, error: new CairnError('ERR_PARTIAL', 'some files were unreadable') }, new Date(0));
    expect(partial.result).toEqual({ ok: true, exit_code: 3, error_code: 'ERR_PARTIAL' });
    expect((await run.record({ exitCode: 1, error: new Error('bug') })).result).toEqual({ ok: false, exit_code: 1, error_code: 'ERR_INTERNAL' });
    expect(partial.args).toEqual(['--password-command', '[redacted]', 'snapshot', 'x']);
    expect(partial.command).toBe('snapshot');
  });
});
