/**
 * The audit log end to end (spec/cli.md `log`, spec/format.md "Audit log"): repo init, snapshot,
 * forget, prune, key add append records with the right command, result and IDs; a failed command
 * records its failure; a dry run records nothing; no password (nor an -o secret) is in any
 * record's plaintext or in `log --json`; a damaged record is a warning and the others are listed
 * (exit 1, ERR_INCOMPLETE); a failed append is a warning and leaves the exit code alone; restic
 * 0.14's check --read-data and prune pass on the repository and leave the records, as cairn's prune
 * does.
 */
import { chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAuditRecord, LocalBackend, Repository, type AuditRecord } from '../../src/index.js';
import { startRclone } from '../helpers/rclone.js';
import { runRestic } from '../helpers/restic.js';
import { tempDir } from '../helpers/tmp.js';
import { cairn } from './helpers.js';

const PASSWORD = 'Zq-audit-secret-9d1f';
const NEW_PASSWORD = 'Zq-audit-second-77aa';
const OPTION_SECRET = 'Zq-option-secret-31bb';
const ENV = { CAIRN_KDF: '1024:8:1' };

interface LogLine extends AuditRecord {
  readonly message_type: string;
  readonly id: string;
}

describe('audit log', () => {
  const root = tempDir('cairn-audit-');
  const repo = join(root, 'repo');
  const src = join(root, 'src');
  const pwFile = join(root, 'pw');
  const run = (args: string[]): ReturnType<typeof cairn> => cairn(['-r', repo, '--password-file', pwFile, ...args], { env: ENV, cwd: root });
  const log = async (): Promise<LogLine[]> => {
    const r = await run(['log', '--json']);
    expect(r.code, r.err).toBe(0);
    return r.out.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LogLine);
  };
  const auditFiles = async (): Promise<string[]> => (await readdir(join(repo, 'cairn-log'))).filter((n) => !n.startsWith('.')).sort();
  const snap = async (): Promise<string> => {
    const r = await run(['snapshot', '--json', '-o', `s3.secret-access-key=${OPTION_SECRET}`, 'src']);
    expect(r.code, r.err).toBe(0);
    return (JSON.parse(r.out.trim().split('\n').pop()!) as { snapshot_id: string }).snapshot_id;
  };
  let a = '';
  let b = '';

  beforeAll(async () => {
    await writeFile(pwFile, PASSWORD);
    await writeFile(join(root, 'pw2'), NEW_PASSWORD);
    await mkdir(src);
    await writeFile(join(src, 'one.txt'), 'one '.repeat(1000));
    expect((await run(['repo', 'init'])).code).toBe(0);
    a = await snap();
    await writeFile(join(src, 'two.txt'), 'two '.repeat(5000));
    b = await snap();
  });

  it('repo init and snapshot: one record each, with the snapshot and the packs it saved', async () => {
    const records = await log();
    expect(records.map((r) => r.command)).toEqual(['repo init', 'snapshot', 'snapshot']);
    const [init, s1, s2] = records;
    expect(init!.result).toEqual({ ok: true, exit_code: 0 });
    expect(init!.keys!.added).toHaveLength(1);
    expect(s1!.snapshots).toEqual({ added: [a], removed: [] });
    expect(s2!.snapshots).toEqual({ added: [b], removed: [] });
    expect(s1!.packs.added_count).toBeGreaterThan(0);
    expect(s1!.packs.added).toHaveLength(s1!.packs.added_count);
    for (const p of s1!.packs.added) expect(await readdir(join(repo, 'data', p.slice(0, 2)))).toContain(p);
    expect(s1!.index!.added_count).toBeGreaterThan(0);
    expect(s1!.args).toContain('snapshot');
    expect(s1!.args).toContain('s3.secret-access-key=[redacted]');
    expect(s1!.args).toContain(pwFile); // a path is not a secret
    expect(s1!.pid).toBe(process.pid);
    expect(typeof s1!.hostname).toBe('string');
    expect(records.every((r) => r.message_type === 'audit_record' && /^[0-9a-f]{64}$/.test(r.id))).toBe(true);
    expect((await auditFiles()).length).toBe(3);
  });

  it('forget, prune, key add: records with the snapshots, packs and keys they removed or added; dry runs write none', async () => {
    expect((await run(['prune', '--dry-run'])).code).toBe(0);
    expect((await log()).length).toBe(3);
    const f = await run(['forget', a]);
    expect(f.code, f.err).toBe(0);
    const p = await run(['prune', '--max-unused', '0']);
    expect(p.code, p.err).toBe(0);
    const k = await run(['key', 'add', '--new-password-file', join(root, 'pw2')]);
    expect(k.code, k.err).toBe(0);
    const records = (await log()).slice(3);
    expect(records.map((r) => r.command)).toEqual(['forget', 'prune', 'key add']);
    const [forget, prune, keyAdd] = records;
    expect(forget!.snapshots).toEqual({ added: [], removed: [a] });
    expect(forget!.result.ok).toBe(true);
    expect(prune!.result.ok).toBe(true);
    expect(prune!.packs.removed_count).toBeGreaterThan(0);
    for (const id of prune!.packs.removed) await expect(readFile(join(repo, 'data', id.slice(0, 2), id))).rejects.toThrow();
    expect(keyAdd!.keys!.added).toHaveLength(1);
    expect(await readdir(join(repo, 'keys'))).toContain(keyAdd!.keys!.added[0]);
    // cairn's prune left every record in place
    expect((await auditFiles()).length).toBe(6);
  });

  it('tag and unlock: tag records the snapshot it rewrote; unlock records only when it removed a lock', async () => {
    const n = (await log()).length;
    const t = await run(['tag', '--add', 'audited', b]);
    expect(t.code, t.err).toBe(0);
    const u = await run(['unlock']);
    expect(u.code, u.err).toBe(0);
    const records = (await log()).slice(n);
    expect(records.map((r) => r.command)).toEqual(['tag']);
    expect(records[0]!.snapshots.removed).toEqual([b]);
    expect(records[0]!.snapshots.added).toHaveLength(1);
    b = records[0]!.snapshots.added[0]!;
  });

  it('copy: a record in the destination with the snapshots it added; none in the source', async () => {
    const dest = join(tempDir('cairn-audit-copy-'), 'repo');
    const runDest = (args: string[]): ReturnType<typeof cairn> => cairn(['-r', dest, '--password-file', pwFile, ...args], { env: ENV, cwd: root });
    expect((await runDest(['repo', 'init'])).code).toBe(0);
    const n = (await log()).length;
    const c = await runDest(['copy', '--from-repo', repo, '--from-password-file', pwFile]);
    expect(c.code, c.err).toBe(0);
    expect((await log()).length).toBe(n);
    const r = await runDest(['log', '--json']);
    const records = r.out.trim().split('\n').map((l) => JSON.parse(l) as LogLine);
    expect(records.map((x) => x.command)).toEqual(['repo init', 'copy']);
    const copied = records[1]!;
    expect(copied.result.ok).toBe(true);
    expect(copied.snapshots.added.length).toBeGreaterThan(0);
    expect(copied.packs.added_count).toBeGreaterThan(0);
    expect(copied.args).toContain(repo);
  });

  it('a failed command records its failure', async () => {
    const r = await run(['forget', 'f'.repeat(64)]);
    expect(r.code).toBe(1);
    const last = (await log()).at(-1)!;
    expect(last.command).toBe('forget');
    expect(last.result).toEqual({ ok: false, exit_code: 1, error_code: 'ERR_SNAPSHOT_NOT_FOUND' });
    expect(last.snapshots).toEqual({ added: [], removed: [] });
  });

  it('no password and no -o secret in any record plaintext, in the stored bytes, or in log output', async () => {
    const r = await Repository.open(new LocalBackend(repo), PASSWORD);
    try {
      for (const id of await auditFiles()) {
        const raw = await readFile(join(repo, 'cairn-log', id));
        const plain = await r.loadUnpacked('audit', id as never);
        const text = new TextDecoder().decode(plain);
        decodeAuditRecord(plain, id);
        for (const secret of [PASSWORD, NEW_PASSWORD, OPTION_SECRET]) {
          expect(text).not.toContain(secret);
          expect(raw.includes(Buffer.from(secret))).toBe(false);
        }
      }
    } finally {
      await r.close();
    }
    const json = await run(['log', '--json']);
    const text = await run(['log']);
    for (const out of [json.out, json.err, text.out, text.err]) {
      for (const secret of [PASSWORD, NEW_PASSWORD, OPTION_SECRET]) expect(out).not.toContain(secret);
    }
    expect(text.code).toBe(0);
    const lines = text.out.trim().split('\n');
    expect(lines.length).toBe((await auditFiles()).length);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {2}\S+@\S+ {2}snapshot: cairn -r .* snapshot .*src {2}ok {2}\+1 snapshot, \+\d+ packs?$/);
    expect(lines.at(-1)).toMatch(/ {2}forget: cairn .* {2}failed \(exit 1, ERR_SNAPSHOT_NOT_FOUND\)$/);
    const last2 = await run(['log', '--json', '--last', '2']);
    expect(last2.out.trim().split('\n').map((l) => (JSON.parse(l) as LogLine).command)).toEqual(['tag', 'forget']);
  });

  it('restic 0.14: check --read-data and prune pass and leave the records', async () => {
    const before = await auditFiles();
    const check = await runRestic(['-r', repo, '--no-cache', 'check', '--read-data'], PASSWORD, { allowFailure: true });
    expect(check.code, check.stderr).toBe(0);
    expect(check.text()).toContain('no errors were found');
    expect(check.stderr).not.toMatch(/cairn-log|unknown|warn/i);
    const prune = await runRestic(['-r', repo, '--no-cache', 'prune'], PASSWORD, { allowFailure: true });
    expect(prune.code, prune.stderr).toBe(0);
    expect(await auditFiles()).toEqual(before);
    expect((await log()).length).toBe(before.length);
    const own = await run(['check', '--read-data']);
    expect(own.code, own.err).toBe(0);
    expect(own.err).toBe('');
  });

  it('a damaged record is a warning naming its file; the others are listed, then exit 1 (ERR_INCOMPLETE)', async () => {
    const files = await auditFiles();
    const victim = files[1]!;
    const path = join(repo, 'cairn-log', victim);
    const bytes = await readFile(path);
    bytes[bytes.length - 1]! ^= 0xff;
    await chmod(path, 0o600);
    await writeFile(path, bytes);
    try {
      const r = await run(['log', '--json']);
      expect(r.code).toBe(1);
      const lines = r.out.trim().split('\n').map((l) => JSON.parse(l) as LogLine);
      expect(lines.map((l) => l.id)).not.toContain(victim);
      expect(lines.length).toBe(files.length - 1);
      const errs = r.err.trim().split('\n').map((l) => JSON.parse(l) as { message_type: string; error: { code: string }; item?: string; code?: string });
      expect(errs[0]).toMatchObject({ message_type: 'error', error: { code: 'AUDIT_RECORD_UNREADABLE' }, during: 'log', item: `cairn-log/${victim}` });
      expect(errs.at(-1)).toMatchObject({ code: 'ERR_INCOMPLETE' });
      const t = await run(['log']);
      expect(t.code).toBe(1);
      expect(t.err).toContain(`warning: cairn-log/${victim}: could not load audit record`);
      expect(t.out.trim().split('\n').length).toBe(files.length - 1);
    } finally {
      await rm(path, { force: true });
    }
  });

  it('a record that cannot be appended is a warning (AUDIT_APPEND_FAILED); the command succeeds', async () => {
    const other = tempDir('cairn-audit-fail-');
    const repo2 = join(other, 'repo');
    const run2 = (args: string[]): ReturnType<typeof cairn> => cairn(['-r', repo2, '--password-file', pwFile, ...args], { env: ENV, cwd: root });
    expect((await run2(['repo', 'init'])).code).toBe(0);
    await rm(join(repo2, 'cairn-log'), { recursive: true, force: true });
    await writeFile(join(repo2, 'cairn-log'), 'not a directory'); // every append fails
    const r = await run2(['--json', 'snapshot', 'src']);
    expect(r.code, r.err).toBe(0);
    const warn = r.err.trim().split('\n').map((l) => JSON.parse(l) as { error: { code: string }; during: string }).find((w) => w.during === 'audit');
    expect(warn).toMatchObject({ error: { code: 'AUDIT_APPEND_FAILED' }, item: 'cairn-log' });
    const t = await run2(['snapshot', 'src']);
    expect(t.code).toBe(0);
    expect(t.err).toMatch(/warning: cairn-log: cannot append the audit record: .*\(the run itself is not affected\)/);
    expect((await run2(['snapshots', '--json'])).out).toContain('"paths"');
  });

  it('rest: the audit log is not supported: snapshots succeed, --json and -v say so, log fails with ERR_UNSUPPORTED', async () => {
    const served = tempDir('cairn-audit-rest-');
    const server = await startRclone(served);
    try {
      const url = `rest:${server.url}r/`;
      const runRest = (args: string[]): ReturnType<typeof cairn> => cairn(['-r', url, '--password-file', pwFile, ...args], { env: ENV, cwd: root });
      expect((await runRest(['repo', 'init'])).code).toBe(0);
      const plain = await runRest(['snapshot', 'src']);
      expect(plain.code, plain.err).toBe(0);
      expect(plain.err).not.toContain('audit');
      const json = await runRest(['--json', 'snapshot', 'src']);
      expect(json.code, json.err).toBe(0);
      const warn = json.err.trim().split('\n').map((l) => JSON.parse(l) as { during: string; error: { code: string; message: string } }).find((w) => w.during === 'audit');
      expect(warn?.error).toMatchObject({ code: 'AUDIT_UNSUPPORTED', message: expect.stringContaining('not supported on rest: backends') });
      const verbose = await runRest(['-v', 'snapshot', 'src']);
      expect(verbose.code).toBe(0);
      expect(verbose.err).toContain('warning: cairn-log: the audit log is not supported on rest: backends');
      const l = await runRest(['log']);
      expect(l.code).toBe(1);
      expect(l.err).toContain('not supported on rest: backends');
    } finally {
      await server.stop();
    }
  }, 60_000);
});
