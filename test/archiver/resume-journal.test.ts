/**
 * The resume journal (src/archiver/resume.ts): an interrupted snapshot's next run takes the files
 * the first run had stored from the journal instead of reading them again — only while their
 * stat is unchanged (size, mtime, ctime, inode) and their blobs are in the index. What a user
 * notices is shown through the one blind spot the parent rule also has: a file rewritten in place
 * with the same size and its mtime put back is not read again under --ignore-ctime (the snapshot
 * keeps the content the journal names), and is read again by default (its ctime moved).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backend/index.js';
import { isCairnError } from '../../src/errors.js';
import { checkRepository, Repository, restoreSnapshot, snapshot, type ArchiverWarning } from '../../src/index.js';
import { pseudoRandomBytes } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

const KDF = { N: 1024, r: 8, p: 1 };
const MIB = 1 << 20;
const FILES = 40;

function content(i: number): Buffer {
  return Buffer.from(pseudoRandomBytes(MIB, 2000 + i));
}

/** A source of FILES files of 1 MiB, a repository, and a first snapshot interrupted half-way (while the walk still runs: up to 16 MiB wait to be stored behind it). */
async function interrupted(): Promise<{ src: string; backend: MemoryBackend; journalDir: string; journaled: string[] }> {
  const src = tempDir('cairn-journal-src-');
  for (let i = 0; i < FILES; i++) {
    writeFileSync(join(src, `f${i}`), content(i));
    // whole seconds, so that rewriteKeepingMtime can put them back exactly
    utimesSync(join(src, `f${i}`), 1_700_000_000, 1_700_000_000 + i);
  }
  const backend = new MemoryBackend();
  const repo = await Repository.init(backend, 'pw', { kdf: KDF, packSize: 512 << 10, blobWorkers: 1, indexIntervalMs: 0 });
  const journalDir = join(tempDir('cairn-journal-cache-'), 'resume');
  const stop = new AbortController();
  let packBytes = 0;
  const save = backend.save.bind(backend);
  backend.save = async (h, data) => {
    await save(h, data);
    if (h.type === 'pack' && (packBytes += data.length) >= 0.5 * FILES * MIB) stop.abort();
  };
  const error = await snapshot(repo, [src], { signal: stop.signal, resume: { dir: journalDir } }).then(() => undefined, (e: unknown) => e);
  await repo.close();
  backend.save = save;
  expect(isCairnError(error, 'ERR_INTERRUPTED'), String(error)).toBe(true);
  const [file] = readdirSync(journalDir);
  expect(statSync(join(journalDir, file!)).mode & 0o777).toBe(0o600);
  const journaled = readFileSync(join(journalDir, file!), 'utf8').trim().split('\n').map((l) => Buffer.from((JSON.parse(l) as { p: string }).p, 'base64').toString());
  return { src, backend, journalDir, journaled };
}

/** Rewrites `path` in place (same size, same inode) and puts its mtime back. */
function rewriteKeepingMtime(path: string, seed: number): void {
  const mtime = Math.round(statSync(path).mtimeMs / 1000);
  writeFileSync(path, Buffer.from(pseudoRandomBytes(MIB, seed)));
  utimesSync(path, mtime, mtime);
}

async function restoredFile(backend: MemoryBackend, id: string, path: string): Promise<Buffer> {
  const repo = await Repository.open(backend, 'pw');
  try {
    const target = tempDir('cairn-journal-restore-');
    await restoreSnapshot(repo, id, { target });
    return readFileSync(join(target, path));
  } finally {
    await repo.close();
  }
}

describe('the resume journal', () => {
  it('the rerun takes journaled files unread (shown under --ignore-ctime by a file rewritten with its mtime put back); the journal is removed once the snapshot is saved', async () => {
    const { src, backend, journalDir, journaled } = await interrupted();
    // most files were stored (and journaled) before the interruption
    expect(journaled.length).toBeGreaterThanOrEqual(FILES / 2);
    const victim = journaled[0]!;
    rewriteKeepingMtime(victim, 99);
    const repo = await Repository.open(backend, 'pw');
    const s = await snapshot(repo, [src], { ignoreCtime: true, resume: { dir: journalDir } }).finally(() => repo.close());
    expect(s.files_new).toBe(FILES);
    // taken from the journal: the content the first run read, not the rewritten one
    expect((await restoredFile(backend, s.snapshot_id, victim)).equals(content(Number(victim.split('/f').at(-1))))).toBe(true);
    expect(readdirSync(journalDir)).toEqual([]);
    const check = await Repository.open(backend, 'pw');
    try {
      expect((await checkRepository(check, { readData: { kind: 'all' } })).errors).toBe(0);
    } finally {
      await check.close();
    }
  });

  it('by default a rewritten file is read again (its ctime moved), and with reuse off (--force) every file is', async () => {
    const { src, backend, journalDir, journaled } = await interrupted();
    const victim = journaled[0]!;
    rewriteKeepingMtime(victim, 98);
    const repo = await Repository.open(backend, 'pw');
    const s = await snapshot(repo, [src], { resume: { dir: journalDir, reuse: false } }).finally(() => repo.close());
    expect((await restoredFile(backend, s.snapshot_id, victim)).equals(Buffer.from(pseudoRandomBytes(MIB, 98)))).toBe(true);

    const again = await interrupted();
    rewriteKeepingMtime(again.journaled[0]!, 97);
    const repo2 = await Repository.open(again.backend, 'pw');
    const s2 = await snapshot(repo2, [again.src], { resume: { dir: again.journalDir } }).finally(() => repo2.close());
    expect((await restoredFile(again.backend, s2.snapshot_id, again.journaled[0]!)).equals(Buffer.from(pseudoRandomBytes(MIB, 97)))).toBe(true);
  });

  it('a line cut short by a kill is ignored silently; a garbled line is reported once and its file read again; a journal that cannot be written is a warning, not a failure', async () => {
    const { src, backend, journalDir, journaled } = await interrupted();
    const [file] = readdirSync(journalDir);
    appendFileSync(join(journalDir, file!), '{"p":"garbage"}\nnot json\n{"p":"cut sh');
    const warnings: ArchiverWarning[] = [];
    const repo = await Repository.open(backend, 'pw');
    const s = await snapshot(repo, [src], { resume: { dir: journalDir }, onWarning: (w) => warnings.push(w) }).finally(() => repo.close());
    expect(s.files_new).toBe(FILES);
    expect(journaled.length).toBeGreaterThan(0);
    expect(warnings.map((w) => w.message)).toEqual([expect.stringMatching(/has 2 unreadable lines; those files are read again/)]);

    // a cache directory that is a file: the snapshot is saved, with one warning
    const blocked = join(tempDir('cairn-journal-blocked-'), 'file');
    writeFileSync(blocked, '');
    const warned: ArchiverWarning[] = [];
    const repo2 = await Repository.open(backend, 'pw');
    mkdirSync(join(src, 'new'));
    const s2 = await snapshot(repo2, [src], { resume: { dir: join(blocked, 'resume') }, onWarning: (w) => warned.push(w) }).finally(() => repo2.close());
    expect(s2.errors).toBe(0);
    expect(warned).toEqual([expect.objectContaining({ code: 'DEGRADED', message: expect.stringMatching(/cannot create the resume journal/) })]);
    expect(existsSync(join(blocked, 'resume'))).toBe(false);
  });
});
