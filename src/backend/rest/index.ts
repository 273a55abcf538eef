/**
 * The REST backend: a repository behind a server speaking restic's REST protocol v2 (restic's
 * rest-server, `rclone serve restic`), at `rest:http(s)://[USER:PASSWORD@]HOST:PORT/[PATH]`.
 * Invariants: credentials from the URL are used for HTTP basic auth only and never shown (the
 * backend's `location` and every message print the password as `***`); every response body is
 * read whole and length-checked, so a cut connection is a retryable ERR_BACKEND and never a short
 * result; 404 is ERR_NOT_FOUND; 401/403 fail at once with advice. Atomicity of a save is the
 * server's job (spec/backends.md says what cairn relies on).
 */
export { RestBackend, REST_DIRS, REST_V2, restOptions, type RestBackendOptions } from './rest-backend.js';
export { parseRestUrl, redactLocation, restDisplay, type RestLocation } from './url.js';
