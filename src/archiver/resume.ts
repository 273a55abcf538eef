/**
 * The resume journal: what lets an interrupted snapshot's next run skip the files it had already
 * stored. The repository keeps their blobs (index files are written every few packs while a
 * snapshot runs), but without a snapshot no tree says which file they belong to, so a rerun
 * would read and hash every file again. The journal says it: one JSON line per file stored
 * (path, size, mtime, ctime, device, inode, blob IDs), appended as the snapshot goes (a later
 * line for a path wins) and removed once the snapshot is saved. A file whose stat still matches
 * its line (the parent rule: size, mtime, ctime and inode, with --ignore-ctime/--ignore-inode
 * honoured) and whose blobs are all in the repository's index is taken from the line unread.
 *
 * It lives outside the repository (the local cache directory, one file per repository, host and
 * set of paths, mode 0600): restic never sees it and the repository format does not change. It
 * is a cache: a line cut short by a kill is ignored; any other unreadable line is reported once
 * and ignored (the file is read again); a journal that cannot be written is reported and the
 * snapshot goes on without one.
 */
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { appendFile, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { messageOf } from '../errors.js';
import { isId, type BlobId } from '../model/index.js';

/** Where the journal lives and whether its lines are used (restic's --force reads every file). */
export interface ResumeOptions {
  /** A directory private to this repository (the CLI: `<cache dir>/<repository ID>/resume`). */
  readonly dir: string;
  /** Take unchanged files from an earlier run's journal. @default true */
  readonly reuse?: boolean;
}

/** One stored file, as the journal remembers it. */
export interface JournalEntry {
  readonly size: bigint;
  readonly mtime: bigint;
  readonly ctime: bigint;
  readonly dev: bigint;
  readonly ino: bigint;
  readonly ids: readonly BlobId[];
}

export class ResumeJournal {
  private pending: string[] = [];
  /** The append in progress; lines recorded meanwhile go out together in the next one. */
  private writing: Promise<void> | undefined;
  private failed = false;

  private constructor(
    readonly file: string,
    private readonly entries: Map<string, JournalEntry>,
    private readonly onProblem: (message: string) => void,
    /** False when its directory could not be made: nothing is written, nothing to remove. */
    private readonly writable: boolean,
  ) {
    this.failed = !writable;
  }

  /**
   * Opens the journal of this host's snapshot of `paths` under `options.dir`, reading what an
   * earlier, unfinished run left (unless `reuse` is false).
   */
  static async open(options: ResumeOptions, hostname: string, paths: readonly string[], onProblem: (message: string) => void): Promise<ResumeJournal> {
    const key = createHash('sha256').update([hostname, ...paths].join('\0')).digest('hex').slice(0, 32);
    const file = join(options.dir, `${key}.jsonl`);
    const entries = new Map<string, JournalEntry>();
    if (options.reuse !== false) {
      let text: string | undefined;
      try {
        text = await readFile(file, 'utf8');
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // No journal there (ENOTDIR: the directory cannot be made either, reported below).
        if (code !== 'ENOENT' && code !== 'ENOTDIR') onProblem(`cannot read the resume journal ${file}, every file is read: ${messageOf(e)}`);
      }
      if (text !== undefined) {
        const lines = text.split('\n');
        // The last piece has no newline: a line cut short by a kill (or nothing). Not an error.
        lines.pop();
        let bad = 0;
        for (const line of lines) {
          const parsed = parseLine(line);
          if (parsed === undefined) bad++;
          else entries.set(parsed.path, parsed.entry);
        }
        if (bad > 0) onProblem(`the resume journal ${file} has ${bad} unreadable line${bad === 1 ? '' : 's'}; those files are read again`);
      }
    }
    try {
      // Appended to, never truncated here: a rerun killed early must not lose what the runs
      // before it recorded (a later line for the same path wins).
      await mkdir(options.dir, { recursive: true, mode: 0o700 });
    } catch (e) {
      onProblem(`cannot create the resume journal in ${options.dir}; an interrupted snapshot will read every file again: ${messageOf(e)}`);
      return new ResumeJournal(file, entries, onProblem, false);
    }
    return new ResumeJournal(file, entries, onProblem, true);
  }

  /** The earlier run's entry for `path` (the caller checks that the file is unchanged). */
  lookup(path: Buffer): JournalEntry | undefined {
    return this.entries.get(path.toString('base64'));
  }

  /** Records that `path`, with stat `st`, is stored as `ids`. */
  record(path: Buffer, st: BigIntStats, ids: readonly BlobId[]): void {
    if (this.failed) return;
    const line = `${JSON.stringify({ p: path.toString('base64'), s: String(st.size), m: String(st.mtimeNs), c: String(st.ctimeNs), d: String(st.dev), i: String(st.ino), b: ids })}\n`;
    this.pending.push(line);
    this.writing ??= this.writeOut().finally(() => {
      this.writing = undefined;
    });
  }

  /** Appends the waiting lines, in order, until none wait (one append at a time). */
  private async writeOut(): Promise<void> {
    while (this.pending.length > 0 && !this.failed) {
      const text = this.pending.join('');
      this.pending = [];
      try {
        await appendFile(this.file, text, { mode: 0o600 });
      } catch (e) {
        this.failed = true;
        this.onProblem(`cannot write the resume journal ${this.file}; an interrupted snapshot will read every file again: ${messageOf(e)}`);
      }
    }
  }

  /** Writes out what waits: the snapshot failed or was interrupted, and a rerun may use it. */
  async keep(): Promise<void> {
    while (this.writing !== undefined) await this.writing;
  }

  /** The snapshot is saved: the journal is of no more use. */
  async remove(): Promise<void> {
    this.pending = [];
    this.failed = true;
    while (this.writing !== undefined) await this.writing;
    if (!this.writable) return;
    try {
      await rm(this.file, { force: true });
    } catch (e) {
      this.onProblem(`cannot remove the resume journal ${this.file} (it is safe to delete): ${messageOf(e)}`);
    }
  }
}

function parseLine(line: string): { path: string; entry: JournalEntry } | undefined {
  try {
    const o = JSON.parse(line) as Record<string, unknown>;
    const { p, s, m, c, d, i, b } = o;
    if (typeof p !== 'string' || !Array.isArray(b) || !b.every((x) => typeof x === 'string' && isId(x))) return undefined;
    const nums = [s, m, c, d, i];
    if (!nums.every((x) => typeof x === 'string' && /^\d{1,30}$/.test(x))) return undefined;
    return { path: p, entry: { size: BigInt(s as string), mtime: BigInt(m as string), ctime: BigInt(c as string), dev: BigInt(d as string), ino: BigInt(i as string), ids: b as BlobId[] } };
  } catch {
    return undefined; // counted by the caller and reported once
  }
}
