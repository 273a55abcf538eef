/**
 * A source tree full of the cases a backup has to carry through a restore, built by
 * `fscases.py` (Python: Node can make neither FIFOs, sockets nor devices, cannot name files with
 * arbitrary bytes through its string API, and cannot set times to the nanosecond or on symlinks).
 *
 * The tree holds: directories 40 deep and an empty one; files empty, small, 3 MiB + 17 of seeded
 * random bytes, sparse (1 MiB data, hole to 20 MiB, 1 MiB data, hole to 30 MiB) and all-hole
 * (8 MiB); names with bytes that are not UTF-8, newline, CR, tab, controls, quotes, backslash,
 * leading dash, `<>&`, unicode (NFC and NFD spellings side by side), 255-byte names (ASCII and
 * UTF-8) and an odd-named directory; symlinks relative, absolute, dangling, to a directory, with
 * a non-UTF-8 target, a 1203-byte target and an odd name; a hard-link group of three names across
 * two directories (and a pair sharing xattrs); a FIFO and a socket; character and block devices
 * (when `devices`); setuid, setgid, sticky and 07777 files, read-only and 0000 (root) files,
 * sticky and setgid directories and a 0555 directory with children and a 0555 subdirectory;
 * owners 1234:5678, 65534, 2147483650:4294967294, a directory 4321:8765 and a symlink 2222:3333
 * (root only); `user.*` xattrs with binary, empty, 1000-byte values and a non-ASCII name on a file,
 * a directory and hard links, and a `trusted.*` one (root only); times with nanoseconds, before
 * 1970 (including -1 ns), the epoch, after 2038, on symlinks and directories. Every entry,
 * the root included, gets its own atime and mtime.
 *
 * The build is deterministic for a seed: two builds differ only in inode numbers and ctimes.
 */
import { fileURLToPath } from 'node:url';
import { run } from './treecmp.js';

export interface CaseTreeOptions {
  /** Create character and block devices. @default true when running as root */
  readonly devices?: boolean;
  /** Seed of the random content. @default 1 */
  readonly seed?: number;
}

export interface CaseTreeInfo {
  /** Whether the build ran as root (ownership, trusted xattrs and 0000 files need it). */
  readonly root: boolean;
  /** Case name → path key (as in `statTree`) of the entry that shows it, for cases created. */
  readonly cases: Readonly<Record<string, string>>;
  /** Case name → why it was not created. */
  readonly skipped: Readonly<Record<string, string>>;
}

const SCRIPT = fileURLToPath(new URL('./fscases.py', import.meta.url));

/** Builds the case tree in `root` (created if absent; it must be empty) and says what it holds. */
export async function makeCaseTree(root: string, options: CaseTreeOptions = {}): Promise<CaseTreeInfo> {
  const args = [SCRIPT, root];
  if (options.devices !== undefined) args.push(options.devices ? '--devices' : '--no-devices');
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  const stdout = await run('python3', args);
  return JSON.parse(stdout) as CaseTreeInfo;
}
