/**
 * CairnError: every failure cairn reports carries a stable `code` (branch on it, never on the
 * message), structured `data`, an optional `cause`, and whether retrying can help. The message
 * says what happened, to what, and what to do. The table of codes is `ERROR_CODES`; spec/errors.md
 * documents each one and a test keeps the two in step. Only cli/main.ts maps codes to exit codes.
 */

/** Every code cairn can raise, with a one-line meaning (spec/errors.md has the long form). */
export const ERROR_CODES = {
  ERR_USAGE: 'the command line is malformed: unknown option, missing or extra argument',
  ERR_INVALID_ARGUMENT: 'an option or argument value is out of range or not understood',
  ERR_CHUNKER_PARAMS: 'chunker parameters outside what the algorithm accepts',
  ERR_NO_REPOSITORY: 'no repository given (-r/--repo, CAIRN_REPOSITORY or RESTIC_REPOSITORY)',
  ERR_REPO_NOT_FOUND: 'the repository does not exist at the given location',
  ERR_REPO_LOCKED: 'the repository is locked by another process',
  ERR_LOCK_LOST: 'a held lock can no longer be trusted (removed by another process, or not refreshed for too long)',
  ERR_LOCK_UNREADABLE: 'a lock file is damaged or not a lock, so no lock can be taken until `unlock --remove-all` removes it',
  ERR_PRUNE_UNSAFE: 'prune refused to change anything: the repository is damaged (missing or unreadable snapshot, tree, index entry or needed pack)',
  ERR_NO_PASSWORD: 'no password source and no terminal to ask on',
  ERR_PASSWORD_SOURCE: 'a password file or command could not be read or failed',
  ERR_WRONG_PASSWORD: 'no key in the repository opens with the given password',
  ERR_KEY_NOT_FOUND: 'no key file matches the key ID or prefix given',
  ERR_KEY_IN_USE: 'refused to remove the key currently used to access the repository',
  ERR_LAST_KEY: 'refused to remove the last key of the repository',
  ERR_KEY_VERIFY: 'a key just written does not open the repository when read back (it was removed again)',
  ERR_FILE_READ: 'an input file could not be read',
  ERR_FILE_WRITE: 'a file could not be written while restoring',
  ERR_REPO_EXISTS: 'a repository already exists at the location given to init',
  ERR_NOT_FOUND: 'a file the repository needs is missing from storage',
  ERR_BACKEND: 'the storage failed to read, write, list or remove a file',
  ERR_AUTH_FAILED: 'ciphertext verification failed: stored data was altered or damaged',
  ERR_CORRUPT: 'stored data does not decode: bad structure, wrong ID, undecompressable',
  ERR_UNSUPPORTED: 'the repository uses a version or feature cairn does not support',
  ERR_SNAPSHOT_NOT_FOUND: 'no snapshot matches the ID, prefix or filter given',
  ERR_AMBIGUOUS_ID: 'an ID prefix matches more than one snapshot or file',
  ERR_PATH_NOT_FOUND: 'a path does not exist in the snapshot',
  ERR_PARTIAL: 'the snapshot was saved, but some input could not be read',
  ERR_INCOMPLETE: 'the operation finished, but some items failed (each was reported)',
  ERR_CHECK_FAILED: 'cairn check found errors in the repository (each was reported)',
  ERR_INTERRUPTED: 'the operation was interrupted (SIGINT/SIGTERM) and stopped cleanly',
  ERR_WORKER: 'a worker thread failed',
  ERR_BENCH_FAILED: 'a benchmark run failed: a tool exited with an error, or a restore differs from its source',
  ERR_INTERNAL: 'an invariant inside cairn was violated (a bug: please report it)',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface CairnErrorOptions {
  /** Structured details (paths, IDs, sizes) for programs; never secrets. */
  readonly data?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown;
  /** True when the same operation may succeed if tried again (transient backend faults). */
  readonly retryable?: boolean;
}

export class CairnError extends Error {
  readonly code: ErrorCode;
  readonly data: Readonly<Record<string, unknown>>;
  readonly retryable: boolean;

  constructor(code: ErrorCode, message: string, options: CairnErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CairnError';
    this.code = code;
    this.data = options.data ?? {};
    this.retryable = options.retryable ?? false;
  }

  /** A JSON-safe view: code, message, data (for `--json` error output). */
  toJSON(): { code: ErrorCode; message: string; data: Readonly<Record<string, unknown>> } {
    return { code: this.code, message: this.message, data: this.data };
  }
}

export function isCairnError(e: unknown, code?: ErrorCode): e is CairnError {
  return e instanceof CairnError && (code === undefined || e.code === code);
}

/** The message of any thrown value, for wrapping foreign errors into a CairnError's text. */
export function messageOf(e: unknown): string {
  if (e instanceof Error) return e.message;
  return String(e);
}
