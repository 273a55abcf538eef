/**
 * A repository in a local directory, laid out and written as restic 0.14's local backend does, so
 * restic reads what cairn writes and the other way round.
 *
 * Saving (atomic, durable): the bytes go to a temporary file in the target's own directory
 * (`.tmp-<name>-<random>`, a name `list` never yields), which is written in full, made read-only,
 * fsync'ed and closed, then renamed over the final name; then the directory is fsync'ed so the
 * rename survives a crash. A reader (or a crash) therefore sees either no file or the whole file.
 * On any failure the temporary file is removed. Renaming over an existing name replaces it, even
 * though restic's files are read-only (POSIX rename needs only the directory to be writable).
 *
 * Permissions (restic `backend/paths.go`, `local/local.go`): directories 0700 and files 0400
 * (created 0600, then the write bits are dropped). When `config` is group-readable the repository
 * is shared with a group: directories 0770, files 0440. Directories are subject to the umask as
 * restic's are; the final file mode is set explicitly. restic chmods after the rename; cairn does
 * it before, so the final name is never writable.
 *
 * Loading uses positional reads of exactly the range asked for: a range past the end of the file
 * is ERR_INVALID_ARGUMENT, and a file that yields fewer bytes than its size said (it shrank) is a
 * retryable ERR_BACKEND.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, type Stats } from 'node:fs';
import { chmod, lstat, mkdir, open, readdir, readFile, rename, stat, statfs, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { CairnError, messageOf } from '../../errors.js';
import type { FileType } from '../../model/index.js';
import type { Backend, FileInfo, Handle, LentPack } from '../types.js';
import { checkHandle, checkRangeArgs, checkType, describe, isValidName, notFound, rangeLength } from './checks.js';
import { filePath, PACK_PREFIXES, repositoryDirs, TYPE_DIRS } from './layout.js';

/** Where a save or load can be made to fail in tests (see {@link LocalBackendOptions.fault}). */
export type LocalFaultPoint = 'save:open' | 'save:write' | 'save:sync' | 'save:rename' | 'load:read';

export interface LocalBackendOptions {
  /**
   * Test hook: called at each {@link LocalFaultPoint} with the path being worked on (the
   * temporary file while saving, the file while loading, after it was opened and sized). If it
   * throws, the operation fails there as if the file system had failed; an error with an errno
   * `code` (e.g. `EIO`) is reported like the real one. Never set outside tests.
   */
  readonly fault?: (point: LocalFaultPoint, path: string) => void | Promise<void>;
}

/** Directory and file creation modes; see the file comment. */
export interface LocalModes {
  readonly dir: number;
  readonly file: number;
}

export const DEFAULT_MODES: LocalModes = { dir: 0o700, file: 0o600 };
export const GROUP_MODES: LocalModes = { dir: 0o770, file: 0o660 };

/** Transient errno codes: trying the same operation again can succeed. */
const RETRYABLE = new Set(['EAGAIN', 'EWOULDBLOCK', 'EBUSY', 'EINTR', 'EIO', 'ETIMEDOUT', 'EMFILE', 'ENFILE', 'ESTALE', 'ECONNRESET', 'ENOLCK']);

/** Which step of a save is running, and on which path (for its error message). */
interface SaveState {
  step: string;
  at: string;
}

/** An open file and its size; `users` loads are reading it. */
interface OpenFile {
  readonly fh: FileHandle;
  readonly size: number;
  users: number;
  retired?: boolean;
  closed?: boolean;
}

/** Pack files kept open for loads. */
const OPEN_PACKS = 32;

/** How many `stat` calls a listing runs at once. */
const STAT_CONCURRENCY = 32;

function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function adviceFor(code: string | undefined, retryable: boolean): string {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return 'check the permissions of the file and its directory';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'free some space (or quota) on that disk, then run the command again';
    case 'EROFS':
      return 'the file system is mounted read-only; remount it read-write';
    case 'ENOTDIR':
    case 'EISDIR':
    case 'EEXIST':
      return 'something else is in the way at that path; the repository directory is damaged or is not a repository';
    default:
      return retryable ? 'this may be transient: try again' : 'check the disk and the path';
  }
}

/** restic's wait before the lock protocol's second look, for storage not known to list at once. */
const LOCK_SETTLE_DEFAULT_MS = 200;

/**
 * Linux file systems (statfs f_type) local to this machine: ext2/3/4, XFS, Btrfs, tmpfs, ramfs,
 * overlayfs, ZFS, F2FS, bcachefs, JFS, ReiserFS, NILFS2, FAT, exFAT, NTFS (ntfs3).
 */
const LOCAL_FS_TYPES = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x858458f6, 0x794c7630, 0x2fc12fc1, 0xf2f52010, 0xca451a4e, 0x3153464a, 0x52654973, 0x3434, 0x4d44, 0x2011bab0, 0x7366746e]);

export class LocalBackend implements Backend {
  /** The repository directory (absolute). */
  readonly path: string;
  readonly location: string;
  readonly #fault: LocalBackendOptions['fault'];
  #modes: Promise<LocalModes> | undefined;
  /** Open pack files by name, least recently used first (see #openPack). */
  readonly #packs = new Map<string, Promise<OpenFile>>();
  #settle: Promise<number> | undefined;

  /** A backend for the repository in directory `path` (resolved against the process's cwd). */
  constructor(path: string, options: LocalBackendOptions = {}) {
    if (typeof path !== 'string' || path === '') {
      throw new CairnError('ERR_INVALID_ARGUMENT', 'the local repository path is empty; give a directory', { data: { path } });
    }
    this.path = resolve(path);
    this.location = this.path;
    this.#fault = options.fault;
  }

  /** The path of the file `h` names (restic's default layout). */
  filename(h: Handle): string {
    checkHandle(h, this.location);
    return filePath(this.path, h);
  }

  /**
   * The modes new files and directories get: restic's defaults, or the group-shared ones when
   * `config` is group-readable. Decided once, at first use, as restic decides when it opens.
   */
  modes(): Promise<LocalModes> {
    this.#modes ??= stat(join(this.path, 'config')).then(
      (st) => ((st.mode & 0o040) !== 0 ? GROUP_MODES : DEFAULT_MODES),
      () => DEFAULT_MODES,
    );
    return this.#modes;
  }

  async create(): Promise<void> {
    const config = join(this.path, 'config');
    try {
      await lstat(config);
      throw new CairnError('ERR_REPO_EXISTS', `a repository already exists at ${this.location} (it has a config file); use it, or choose an empty location`, {
        data: { location: this.location },
      });
    } catch (e) {
      if (e instanceof CairnError) throw e;
      if (errnoOf(e) !== 'ENOENT') throw this.#osError(e, 'check for a config file at', config);
    }
    const { dir } = await this.modes();
    // restic creates missing parents too (MkdirAll), with the same mode.
    await this.#mkdirp(this.path, dir);
    const dirs = repositoryDirs(this.path);
    const flat = dirs.filter((d) => !d.startsWith(join(this.path, TYPE_DIRS.pack) + '/'));
    await Promise.all(flat.map((d) => this.#mkdirp(d, dir)));
    await Promise.all(dirs.filter((d) => !flat.includes(d)).map((d) => this.#mkdirp(d, dir)));
  }

  async save(h: Handle, data: Uint8Array): Promise<void> {
    checkHandle(h, this.location);
    if (!(data instanceof Uint8Array)) {
      throw new CairnError('ERR_INVALID_ARGUMENT', `${this.location}: cannot save ${describe(h)}: the data is not a Uint8Array; this is a bug in the caller`, {
        data: { type: h.type, name: h.name },
      });
    }
    if (h.type === 'pack') this.#forgetPack(h.name);
    const modes = await this.modes();
    const final = filePath(this.path, h);
    const dir = dirname(final);
    const tmp = join(dir, `.tmp-${h.name}-${randomBytes(8).toString('hex')}`);
    const state: SaveState = { step: 'create the temporary file', at: tmp };
    let fh: FileHandle | undefined;
    try {
      await this.#fault?.('save:open', tmp);
      fh = await this.#openTemp(tmp, dir, modes);
      state.step = 'write';
      await this.#fault?.('save:write', tmp);
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await fh.write(data, done, data.length - done, done);
        if (bytesWritten <= 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' });
        done += bytesWritten;
      }
      const writing = fh;
      fh = undefined;
      await this.#commit(writing, tmp, final, modes, state);
    } catch (e) {
      if (fh !== undefined) await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      if (e instanceof CairnError) throw e;
      throw this.#osError(e, `save ${describe(h)}: could not ${state.step}`, state.at, h);
    }
  }

  /**
   * Removes `.tmp-*` files (a killed save's temporary file, a blob worker's pack in progress) in
   * every directory of the repository. Call only under an exclusive lock.
   */
  async removeLeftovers(): Promise<{ files: number; bytes: number }> {
    let files = 0;
    let bytes = 0;
    for (const dir of [this.path, ...repositoryDirs(this.path)]) {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (e) {
        if (errnoOf(e) === 'ENOENT') continue;
        throw this.#osError(e, 'look for leftover temporary files: could not list', dir);
      }
      for (const name of names.filter((n) => n.startsWith('.tmp-'))) {
        const path = join(dir, name);
        try {
          const st = await lstat(path);
          if (!st.isFile()) continue;
          await unlink(path);
          files++;
          bytes += st.size;
        } catch (e) {
          if (errnoOf(e) === 'ENOENT') continue;
          throw this.#osError(e, 'remove a leftover temporary file: could not remove', path);
        }
      }
    }
    return { files, bytes };
  }

  /**
   * 0 on a local file system: a lock file another process renamed into place is in every later
   * listing at once, so a lock protocol that looks again after writing its own lock file needs no
   * wait (restic's 200 ms is for storage whose listings lag). restic's 200 ms on anything else —
   * network and FUSE file systems (NFS, SMB, sshfs…) whose clients cache directory listings, file
   * systems not recognised, and platforms other than Linux — and when the file system cannot be
   * asked.
   */
  lockSettleMs(): Promise<number> {
    this.#settle ??= statfs(join(this.path, TYPE_DIRS.lock)).then(
      (s) => (process.platform === 'linux' && LOCAL_FS_TYPES.has(Number(s.type)) ? 0 : LOCK_SETTLE_DEFAULT_MS),
      () => LOCK_SETTLE_DEFAULT_MS,
    );
    return this.#settle;
  }

  /** Temporary files for `saveFile` go in `data/` (named `.tmp-…`, which `list` never yields). */
  spillDir(): string {
    return join(this.path, TYPE_DIRS.pack);
  }

  /**
   * Stores the complete file at `path` as `h` by renaming it into place (made read-only and
   * fsync'ed first, as `save` does): no second copy of its bytes. A file on another file system
   * is read and saved instead, then removed.
   */
  async saveFile(h: Handle, path: string): Promise<void> {
    checkHandle(h, this.location);
    if (h.type === 'pack') this.#forgetPack(h.name);
    const modes = await this.modes();
    const final = filePath(this.path, h);
    const state: SaveState = { step: 'open', at: path };
    let fh: FileHandle | undefined;
    try {
      fh = await open(path, 'r');
      const opened = fh;
      fh = undefined;
      await this.#commit(opened, path, final, modes, state);
    } catch (e) {
      if (fh !== undefined) await fh.close().catch(() => undefined);
      if (errnoOf(e) === 'EXDEV') {
        await this.save(h, await readFile(path));
        await unlink(path);
        return;
      }
      if (e instanceof CairnError) throw e;
      throw this.#osError(e, `save ${describe(h)}: could not ${state.step}`, state.at, h);
    }
  }

  /**
   * The end of every save: the complete temporary file `tmp` (open as `fh`, closed here) is made
   * read-only, fsync'ed and renamed over `final`; then the directory is fsync'ed. `state` says
   * which step failed.
   */
  async #commit(fh: FileHandle, tmp: string, final: string, modes: LocalModes, state: SaveState): Promise<void> {
    let synced: boolean;
    try {
      state.step = 'make read-only';
      await ignorePermission(fh.chmod(modes.file & ~0o222));
      state.step = 'fsync';
      await this.#fault?.('save:sync', tmp);
      synced = await syncIgnoringUnsupported(fh);
    } finally {
      await fh.close().catch(() => undefined);
    }
    state.step = 'rename into place';
    await this.#fault?.('save:rename', tmp);
    const dir = dirname(final);
    try {
      await renameOver(tmp, final);
    } catch (e) {
      // A data/xx directory that went missing (restic recreates it as well).
      if (errnoOf(e) !== 'ENOENT' || dirname(tmp) === dir) throw e;
      await this.#mkdirp(dir, modes.dir);
      await renameOver(tmp, final);
    }
    if (synced) {
      state.step = 'fsync the directory of';
      state.at = final;
      await syncDir(dir);
    }
  }

  async load(h: Handle, offset = 0, length?: number): Promise<Uint8Array> {
    checkHandle(h, this.location);
    checkRangeArgs(h, this.location, offset, length);
    const path = filePath(this.path, h);
    const file = h.type === 'pack' ? await this.#openPack(h, path) : await this.#openSized(h, path);
    try {
      const want = rangeLength(h, this.location, offset, length, file.size);
      const out = allocBytes(want);
      let got = 0;
      try {
        await this.#fault?.('load:read', path);
        while (got < want) {
          const { bytesRead } = await file.fh.read(out, got, want - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
      } catch (e) {
        throw this.#osError(e, `load ${describe(h)}: could not read`, path, h);
      }
      if (got < want) {
        throw new CairnError('ERR_BACKEND', `${this.location}: short read of ${describe(h)} (${path}): got ${got} of ${want} bytes at offset ${offset}; the file changed while it was read (or the disk failed): try again, then run \`cairn check\``, {
          data: { type: h.type, name: h.name, path, offset, length: want, got },
          retryable: true,
        });
      }
      return out;
    } catch (e) {
      // Out of the pack cache: a retry opens the file again and sees what is there now (a pack
      // put back whole, say), not the descriptor of the file that failed.
      if (h.type === 'pack') this.#forgetPack(h.name);
      throw e;
    } finally {
      if (h.type === 'pack') this.#releasePack(file);
      else await file.fh.close().catch(() => undefined);
    }
  }

  /**
   * Lends the open file of pack `h` from the pack cache (see #openPack): a worker thread reads
   * blobs through the descriptor itself. It counts as a load in progress until released, so the
   * cache does not close it meanwhile.
   */
  async lendPack(h: Handle): Promise<LentPack> {
    checkHandle(h, this.location);
    if (h.type !== 'pack') throw new CairnError('ERR_INVALID_ARGUMENT', `${this.location}: lendPack lends pack files only, not ${describe(h)}`, { data: { type: h.type, name: h.name } });
    const path = filePath(this.path, h);
    const file = await this.#openPack(h, path);
    let lent = true;
    return {
      fd: file.fh.fd,
      size: file.size,
      path,
      release: () => {
        if (!lent) return;
        lent = false;
        this.#releasePack(file);
      },
    };
  }

  /** Opens `path` and learns its size (it must be a regular file). */
  async #openSized(h: Handle, path: string): Promise<OpenFile> {
    let fh: FileHandle;
    try {
      fh = await open(path, 'r');
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') throw notFound(h, this.location, e);
      throw this.#osError(e, `load ${describe(h)}: could not open`, path, h);
    }
    try {
      let st: Stats;
      try {
        st = await fh.stat();
      } catch (e) {
        throw this.#osError(e, `load ${describe(h)}: could not stat`, path, h);
      }
      if (!st.isFile()) throw this.#osError(notAFile(), `load ${describe(h)}`, path, h);
      return { fh, size: st.size, users: 0 };
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
  }

  /**
   * A pack's open file, from a small cache: pack files never change once written (their name is
   * their content's hash), so one open file serves many loads — reading a snapshot's trees (many
   * small blobs from a few packs) costs one read each, not open, stat, read and close. `remove`
   * and `close` drop entries; a pack removed by another process still reads its old bytes.
   */
  async #openPack(h: Handle, path: string): Promise<OpenFile> {
    const hit = this.#packs.get(h.name);
    if (hit !== undefined) {
      this.#packs.delete(h.name); // most recently used last
      this.#packs.set(h.name, hit);
      const file = await hit;
      file.users++;
      return file;
    }
    const opening = this.#openSized(h, path);
    this.#packs.set(h.name, opening);
    let file: OpenFile;
    try {
      file = await opening;
    } catch (e) {
      if (this.#packs.get(h.name) === opening) this.#packs.delete(h.name);
      throw e;
    }
    file.users++;
    while (this.#packs.size > OPEN_PACKS) {
      const [oldest, p] = this.#packs.entries().next().value as [string, Promise<OpenFile>];
      this.#packs.delete(oldest);
      void p.then((f) => this.#retire(f), () => undefined);
    }
    return file;
  }

  #releasePack(file: OpenFile): void {
    file.users--;
    if (file.retired) this.#retire(file);
  }

  /** Closes a pack file dropped from the cache once no load uses it. */
  #retire(file: OpenFile): void {
    file.retired = true;
    if (file.users === 0 && !file.closed) {
      file.closed = true;
      void file.fh.close().catch(() => undefined);
    }
  }

  #forgetPack(name: string): void {
    const p = this.#packs.get(name);
    if (p === undefined) return;
    this.#packs.delete(name);
    void p.then((f) => this.#retire(f), () => undefined);
  }


  async stat(h: Handle): Promise<FileInfo> {
    checkHandle(h, this.location);
    const path = filePath(this.path, h);
    try {
      const st = await stat(path);
      if (!st.isFile()) throw notAFile();
      return { name: h.name, size: st.size };
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') throw notFound(h, this.location, e);
      throw this.#osError(e, `stat ${describe(h)}: could not stat`, path, h);
    }
  }

  async *list(type: FileType): AsyncIterable<FileInfo> {
    checkType(type, this.location);
    if (type === 'config') {
      const info = await this.#statEntry(join(this.path, 'config'), 'config', type);
      if (info !== undefined) yield info;
      return;
    }
    const base = join(this.path, TYPE_DIRS[type]);
    if (type !== 'pack') {
      yield* this.#listDir(base, type, undefined);
      return;
    }
    const subdirs = await this.#readdir(base, type);
    for (const sub of subdirs.filter((s) => PACK_PREFIXES.includes(s)).sort()) {
      yield* this.#listDir(join(base, sub), type, sub);
    }
  }

  async remove(h: Handle): Promise<void> {
    checkHandle(h, this.location);
    if (h.type === 'pack') this.#forgetPack(h.name);
    const path = filePath(this.path, h);
    try {
      await unlink(path);
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOENT') throw notFound(h, this.location, e);
      if (code === 'EPERM' && process.platform === 'win32') {
        // Windows refuses to delete read-only files; restic clears the flag first.
        try {
          await chmod(path, 0o600);
          await unlink(path);
          return;
        } catch (e2) {
          throw this.#osError(e2, `remove ${describe(h)}: could not remove`, path, h);
        }
      }
      throw this.#osError(e, `remove ${describe(h)}: could not remove`, path, h);
    }
  }

  async close(): Promise<void> {
    for (const name of [...this.#packs.keys()]) this.#forgetPack(name);
  }

  /** Entries of `dir` that name a valid file of `type` (and lie in the right `data/xx`), with sizes. */
  async *#listDir(dir: string, type: FileType, prefix: string | undefined): AsyncIterable<FileInfo> {
    const names = (await this.#readdir(dir, type)).filter((n) => isValidName(type, n) && (prefix === undefined || n.startsWith(prefix)));
    for (let i = 0; i < names.length; i += STAT_CONCURRENCY) {
      const batch = await Promise.all(names.slice(i, i + STAT_CONCURRENCY).map((n) => this.#statEntry(join(dir, n), n, type)));
      for (const info of batch) if (info !== undefined) yield info;
    }
  }

  /** Names in `dir`; none if it is missing (restic) or, for a `data/xx`, not a directory. */
  async #readdir(dir: string, type: FileType): Promise<string[]> {
    try {
      return await readdir(dir);
    } catch (e) {
      const code = errnoOf(e);
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw this.#osError(e, `list ${type} files: could not read the directory`, dir);
    }
  }

  /** The size of a regular file, or undefined when it vanished (removed meanwhile) or is not a file. */
  async #statEntry(path: string, name: string, type: FileType): Promise<FileInfo | undefined> {
    try {
      const st = await stat(path);
      return st.isFile() ? { name, size: st.size } : undefined;
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') return undefined;
      throw this.#osError(e, `list ${type} files: could not stat`, path);
    }
  }

  async #openTemp(tmp: string, dir: string, modes: LocalModes): Promise<FileHandle> {
    const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL;
    try {
      return await open(tmp, flags, modes.file);
    } catch (e) {
      if (errnoOf(e) !== 'ENOENT') throw e;
    }
    // The directory is missing (restic creates it then, too); but only inside an existing
    // repository directory, so a missing (e.g. unmounted) location is not silently recreated.
    try {
      await stat(this.path);
    } catch (e) {
      throw new CairnError('ERR_BACKEND', `the repository directory ${this.location} does not exist (is the disk mounted?); check the location, or create a repository there with \`cairn repo init\``, {
        data: { location: this.location, path: this.path },
        cause: e,
      });
    }
    await mkdir(dir, { recursive: true, mode: modes.dir });
    return await open(tmp, flags, modes.file);
  }

  async #mkdirp(dir: string, mode: number): Promise<void> {
    try {
      await mkdir(dir, { recursive: true, mode });
    } catch (e) {
      throw this.#osError(e, 'create the repository: could not create the directory', dir);
    }
  }

  /** ERR_BACKEND for an OS error: what failed, on which path, why, what to do, and if retrying helps. */
  #osError(e: unknown, what: string, path: string, h?: Handle): CairnError {
    const code = errnoOf(e);
    const retryable = code !== undefined && RETRYABLE.has(code);
    return new CairnError('ERR_BACKEND', `${this.location}: ${what} ${path}: ${osMessage(e)}; ${adviceFor(code, retryable)}`, {
      data: { location: this.location, path, ...(code === undefined ? {} : { errno: code }), ...(h === undefined ? {} : { type: h.type, name: h.name }) },
      cause: e,
      retryable,
    });
  }
}

/** A Node fs error's message without the `, open '/the/path'` tail (the caller names the path). */
function osMessage(e: unknown): string {
  const m = messageOf(e);
  const p = (e as { path?: unknown } | null)?.path;
  if (typeof p !== 'string') return m;
  const tail = m.lastIndexOf(`, `);
  return tail > 0 && m.endsWith(`'${p}'`) ? m.slice(0, tail) : m;
}

/** The error for a directory (or device…) where a file should be. */
function notAFile(): Error {
  return Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
}

/** A fresh, unpooled, non-zeroed buffer (its contents are overwritten by the read). */
function allocBytes(n: number): Uint8Array {
  const b = Buffer.allocUnsafeSlow(n);
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** fsync; false when the file system has no fsync (restic carries on then, and skips the dir sync). */
async function syncIgnoringUnsupported(fh: FileHandle): Promise<boolean> {
  try {
    await fh.sync();
    return true;
  } catch (e) {
    if (errnoOf(e) === 'ENOTSUP' || errnoOf(e) === 'EOPNOTSUPP') return false;
    throw e;
  }
}

/** chmod that tolerates file systems refusing it (exfat, some network mounts), as restic does. */
async function ignorePermission(p: Promise<void>): Promise<void> {
  try {
    await p;
  } catch (e) {
    const code = errnoOf(e);
    if (code !== 'EPERM' && code !== 'EACCES' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
  }
}

async function renameOver(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (e) {
    // Windows will not replace a read-only file: make it writable and try once more.
    if (process.platform !== 'win32' || (errnoOf(e) !== 'EPERM' && errnoOf(e) !== 'EACCES')) throw e;
    await chmod(to, 0o600);
    await rename(from, to);
  }
}

/** fsync a directory so a rename in it is durable; a no-op where directories cannot be synced. */
async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } catch (e) {
    const code = errnoOf(e);
    if (code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EINVAL' && code !== 'ENOENT') throw e;
  } finally {
    await fh.close();
  }
}
