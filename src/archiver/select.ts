/**
 * What a snapshot leaves out, as restic 0.14 decides it (plus cairn's --git-ignore):
 *
 * - `--exclude`/`--iexclude` patterns (and pattern files): matched against each entry's absolute
 *   path; a directory left out takes its subtree with it.
 * - `--exclude-if-present NAME[:HEADER]` and `--exclude-caches` (= `CACHEDIR.TAG:Signature:
 *   8a477f597d28d172789f06886806bc55`): a directory holding the marker (whose content starts with
 *   the header, when one is given) is kept with only the marker in it, as restic does.
 * - `--exclude-larger-than SIZE`: entries other than directories larger than SIZE (files, and
 *   symlinks whose target is that long: restic 0.14's rejectBySize skips only directories).
 * - `--one-file-system`: directories on another file system than the path given are kept empty.
 * - `--git-ignore`: .gitignore files found in the tree, applied as git applies them.
 */
import type { BigIntStats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { messageOf } from '../errors.js';
import { compileExcludes, GitIgnoreStack } from '../filter/index.js';
import { joinPath, openForReading } from '../fs/index.js';

export interface Selector {
  /** Stay on the file system of each path given (restic's --one-file-system). */
  readonly oneFileSystem?: boolean;
  /**
   * The walk must visit directories one at a time, depth first (`enter`/`leave` keep a stack, as
   * .gitignore rules do); otherwise sibling directories may be visited side by side.
   */
  readonly inOrder?: boolean;
  /** True to leave out the entry at `path` (patterns, size limits, ignore rules). */
  excludes(path: Buffer, st: BigIntStats): Promise<boolean>;
  /**
   * Called with a directory's entry names before they are visited. `keepOnly` restricts the
   * entries kept (markers of exclude-if-present); `entered` means `leave(path)` must follow once
   * the entries are done. Files it needs but cannot read (markers, .gitignore) go to `warn`.
   */
  enter(path: Buffer, names: readonly Buffer[], warn: SelectionWarn): Promise<{ readonly keepOnly?: readonly Buffer[]; readonly entered: boolean }>;
  leave(path: Buffer): void;
}

export interface SelectionOptions {
  readonly exclude?: readonly string[];
  readonly iexclude?: readonly string[];
  readonly excludeCaches?: boolean;
  /** `NAME` or `NAME:HEADER`. */
  readonly excludeIfPresent?: readonly string[];
  readonly excludeLargerThan?: number;
  readonly oneFileSystem?: boolean;
  readonly gitIgnore?: boolean;
}

const CACHEDIR_TAG = 'CACHEDIR.TAG:Signature: 8a477f597d28d172789f06886806bc55';

/** Reports a file the selection needed but could not read; the selection then keeps more, not less. */
export type SelectionWarn = (path: Buffer, message: string) => void;

function gone(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

/**
 * A .gitignore's bytes, or undefined when it is not a regular file (git never follows a symlinked
 * .gitignore), vanished, or cannot be read (then with a warning: its rules are not applied).
 */
async function readGitIgnore(path: Buffer, warn: SelectionWarn): Promise<Uint8Array | undefined> {
  let fh;
  try {
    fh = await openForReading(path);
  } catch (e) {
    // ELOOP: a symlink, which git ignores as well.
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    if (!gone(e) && code !== 'ELOOP') warn(path, `cannot read .gitignore, its rules are not applied: ${messageOf(e)}`);
    return undefined;
  }
  try {
    return (await fh.stat()).isFile() ? await fh.readFile() : undefined;
  } catch (e) {
    warn(path, `cannot read .gitignore, its rules are not applied: ${messageOf(e)}`);
    return undefined;
  } finally {
    await fh.close();
  }
}

/**
 * Opens an exclusion marker. A symlinked marker is followed, as restic 0.14 does (it opens the
 * tag file with fs.Open): openForReading refuses symlinks (ELOOP), which made a CACHEDIR.TAG
 * linked to a valid one keep its directory, with a warning and exit 3, where restic leaves it out.
 */
async function openMarker(path: Buffer): Promise<FileHandle> {
  try {
    return await openForReading(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException | undefined)?.code !== 'ELOOP') throw e;
    return open(path, 'r');
  }
}

/** Whether the file at `path` starts with `header`; a marker that cannot be read does not count. */
async function startsWith(path: Buffer, header: Buffer, warn: SelectionWarn): Promise<boolean> {
  let fh;
  try {
    fh = await openMarker(path);
  } catch (e) {
    if (!gone(e)) warn(path, `cannot read the exclusion marker, the directory is kept: ${messageOf(e)}`);
    return false;
  }
  try {
    const buf = Buffer.alloc(header.length);
    const { bytesRead } = await fh.read(buf, 0, header.length, 0);
    return bytesRead === header.length && buf.equals(header);
  } catch (e) {
    warn(path, `cannot read the exclusion marker, the directory is kept: ${messageOf(e)}`);
    return false;
  } finally {
    await fh.close();
  }
}

/** The selector for `options`, or undefined when nothing is left out. */
export function createSelector(options: SelectionOptions, _cwd: string): Selector | undefined {
  void _cwd;
  const excluder = compileExcludes({ exclude: options.exclude ?? [], iexclude: options.iexclude ?? [] });
  const markers = [...(options.excludeIfPresent ?? []), ...(options.excludeCaches === true ? [CACHEDIR_TAG] : [])].map((spec) => {
    const i = spec.indexOf(':');
    return i < 0 ? { name: Buffer.from(spec), header: undefined } : { name: Buffer.from(spec.slice(0, i)), header: Buffer.from(spec.slice(i + 1)) };
  });
  const limit = options.excludeLargerThan;
  const git = options.gitIgnore === true ? new GitIgnoreStack() : undefined;
  if (excluder.isEmpty && markers.length === 0 && limit === undefined && git === undefined && options.oneFileSystem !== true) return undefined;

  return {
    oneFileSystem: options.oneFileSystem === true,
    inOrder: git !== undefined,
    async excludes(path, st) {
      if (!excluder.isEmpty && excluder.excludes(path)) return true;
      // Not only files: restic 0.14 leaves out any non-directory whose lstat size is over the limit
      // (a symlink's size is its target's length), and snapshots must select what restic selects.
      if (limit !== undefined && !st.isDirectory() && st.size > BigInt(limit)) return true;
      return git !== undefined && git.ignored(path, st.isDirectory());
    },
    async enter(path, names, warn) {
      let keepOnly: Buffer[] | undefined;
      for (const m of markers) {
        if (!names.some((n) => n.equals(m.name))) continue;
        if (m.header !== undefined && !(await startsWith(joinPath(path, m.name), m.header, warn))) continue;
        (keepOnly ??= []).push(m.name);
      }
      if (git === undefined) return keepOnly === undefined ? { entered: false } : { keepOnly, entered: false };
      let text: Uint8Array | undefined;
      if (names.some((n) => n.equals(GITIGNORE))) text = await readGitIgnore(joinPath(path, GITIGNORE), warn);
      git.push(path, text);
      return keepOnly === undefined ? { entered: true } : { keepOnly, entered: true };
    },
    leave() {
      git?.pop();
    },
  };
}

const GITIGNORE = Buffer.from('.gitignore');
