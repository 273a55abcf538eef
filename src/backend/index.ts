/**
 * Storage backends: where a repository's files live. A backend stores named, immutable files
 * (`config`, and key, pack, index, snapshot and lock files named by their 64-hex-digit storage
 * ID) and sees bytes and names only: never keys, crypto or blobs (restic's design). Invariants
 * every backend keeps (the MUST rules of ./types.ts, checked by test/backend/conformance.ts): a
 * save is atomic and durable (no reader, and no crash, ever leaves a partial file under the
 * final name), a load returns exactly the bytes asked for or throws, a missing file is
 * ERR_NOT_FOUND, a listing yields each valid file once with its size, a storage failure is
 * ERR_BACKEND saying whether a retry can help, and concurrent calls are safe. Names are
 * checked on entry, so no handle can reach outside the repository. Retry, fault injection and
 * dry-run belong in decorators around a backend, not inside one.
 */
export type { Backend, FileInfo, Handle } from './types.js';
export { LocalBackend, DEFAULT_MODES, GROUP_MODES, filePath, repositoryDirs, PACK_PREFIXES, TYPE_DIRS, type LocalBackendOptions, type LocalFaultPoint, type LocalModes } from './local/index.js';
export { MemoryBackend, type MemoryBackendOptions, type MemoryFaultHook, type MemoryOperation } from './memory/index.js';
export { parseLocation, openBackend, type Location, type OpenBackendOptions } from './location.js';
export { S3Backend, parseS3Location, parseS3Options, type S3BackendOptions, type S3Credentials, type S3Location, type S3Options, type BucketLookup } from './s3/index.js';
export { RestBackend, parseRestUrl, redactLocation, type RestBackendOptions, type RestLocation } from './rest/index.js';
export { withRetry, isRetryable, backoffCeiling, RETRY_DEFAULTS, type RetryOptions, type RetryEvent, type RetryOperation } from './retry.js';
