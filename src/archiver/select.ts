/**
 * What a snapshot leaves out, as restic 0.14 decides it (plus cairn's --git-ignore):
 *
 * - `--exclude`/`--iexclude` patterns (and pattern files): matched against each entry's absolute
 *   path; a directory left out takes its subtree with it.
 * - `--exclude-if-present NAME[:HEADER]` and `--exclude-caches` (= `CACHEDIR.TAG:Signature:
 *   8a477f597d28d172789f06886806bc55`): a directory holding the marker (whose content starts with
 *   the header, when one is given) is kept with only the marker in it, as restic does.
 * - `--exclude-larger-than SIZE`: files (only files) larger than SIZE.
 * - `--one-file-system`: directories on another file system than the path given are kept empty.
 * - `--git-ignore`: .gitignore files found in the tree, applied as git applies them.
 */
import { constants as FS, type BigIntStats } from 'node:fs';
import { open } from 'node:fs/promises';
import { compileExcludes, GitIgnoreStack } from '../filter/index.js';
import { joinPath } from '../fs/index.js';

export interface Selector {
  /** Stay on the file system of each path given (restic's --one-file-system). */
  readonly oneFileSystem?: boolean;
  /** True to leave out the entry at `path` (patterns, size limits, ignore rules). */
  excludes(path: Buffer, st: BigIntStats): Promise<boolean>;
  /**
   * Called with a directory's entry names before they are visited. `keepOnly` restricts the
   * entries kept (markers of exclude-if-present); `entered` means `leave(path)` must follow once
   * the entries are done.
   */
  enter(path: Buffer, names: readonly Buffer[]): Promise<{ readonly keepOnly?: readonly Buffer[]; readonly entered: boolean }>;
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

/** A regular file's bytes, or undefined (git never follows a symlinked .gitignore). */
async function readNoFollow(path: Buffer): Promise<Uint8Array | undefined> {
  try {
    const fh = await open(path, FS.O_RDONLY | FS.O_NOFOLLOW);
    try {
      return (await fh.stat()).isFile() ? await fh.readFile() : undefined;
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}

/** Whether the file at `path` starts with `header`. */
async function startsWith(path: Buffer, header: Buffer): Promise<boolean> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return false;
  }
  try {
    const buf = Buffer.alloc(header.length);
    const { bytesRead } = await fh.read(buf, 0, header.length, 0);
    return bytesRead === header.length && buf.equals(header);
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
    async excludes(path, st) {
      if (!excluder.isEmpty && excluder.excludes(path)) return true;
      if (limit !== undefined && st.isFile() && st.size > BigInt(limit)) return true;
      return git !== undefined && git.ignored(path, st.isDirectory());
    },
    async enter(path, names) {
      let keepOnly: Buffer[] | undefined;
      for (const m of markers) {
        if (!names.some((n) => n.equals(m.name))) continue;
        if (m.header !== undefined && !(await startsWith(joinPath(path, m.name), m.header))) continue;
        (keepOnly ??= []).push(m.name);
      }
      if (git === undefined) return keepOnly === undefined ? { entered: false } : { keepOnly, entered: false };
      let text: Uint8Array | undefined;
      if (names.some((n) => n.equals(GITIGNORE))) text = await readNoFollow(joinPath(path, GITIGNORE));
      git.push(path, text);
      return keepOnly === undefined ? { entered: true } : { keepOnly, entered: true };
    },
    leave() {
      git?.pop();
    },
  };
}

const GITIGNORE = Buffer.from('.gitignore');
