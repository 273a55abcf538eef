/**
 * The local backend: a repository in a directory, in restic's default layout, written with
 * temporary file + fsync + rename + directory fsync, read-only files (0400, or 0440 when the
 * repository is group-shared), directories 0700 (0770). See local-backend.ts for the details.
 */
export { LocalBackend, DEFAULT_MODES, GROUP_MODES, type LocalBackendOptions, type LocalFaultPoint, type LocalModes } from './local-backend.js';
export { filePath, repositoryDirs, PACK_PREFIXES, TYPE_DIRS } from './layout.js';
