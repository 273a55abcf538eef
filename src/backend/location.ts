/**
 * Repository locations, spelled as restic spells them: `local:/srv/repo`, or a bare path
 * (`/srv/repo`, `repo`, `../repo`); a word before a colon names a backend (`s3:`, `rest:`,
 * `sftp:`…). A bare string that is not clearly a path and contains a colon is refused as
 * ambiguous, as restic does: write `local:` in front of such a directory name.
 */
import { resolve } from 'node:path';
import { CairnError } from '../errors.js';
import { LocalBackend } from './local/index.js';
import { parseRestUrl, RestBackend, restOptions, type RestLocation } from './rest/index.js';
import { readCaCerts } from './ca.js';
import { withRetry, type RetryOptions } from './retry.js';
import { parseS3Location, S3Backend, type S3Location } from './s3/index.js';
import type { Backend } from './types.js';

/** A parsed repository location. Only local directories exist so far. */
export type Location = { readonly kind: 'local'; readonly path: string } | RestLocation | S3Location;

export interface OpenBackendOptions {
  /** The directory a relative local path is taken from. @default process.cwd() */
  readonly cwd?: string;
  /**
   * How remote backends (rest:, s3:) retry transient faults; they are always wrapped in
   * `withRetry` (./retry.ts), the local one never is. @default RETRY_DEFAULTS, no callback
   */
  readonly retry?: RetryOptions;
  /**
   * restic's `-o KEY=VALUE` backend options (`s3.region`, `s3.connections`…). A backend reads its
   * own namespace and refuses unknown keys in it (ERR_INVALID_ARGUMENT). @default none
   */
  readonly options?: Readonly<Record<string, string>>;
  /**
   * `--cacert` files (PEM) to trust for HTTPS besides the system's CAs and NODE_EXTRA_CA_CERTS;
   * relative paths are taken from `cwd`. @default none
   */
  readonly caCerts?: readonly string[];
  /** Where AWS_* credentials and region are read for s3:. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** The backend prefixes restic knows; all but `local` are not supported yet. */
const RESTIC_SCHEMES = ['local', 'sftp', 's3', 'rest', 'b2', 'gs', 'azure', 'swift', 'rclone'] as const;

/** restic's `isPath`: clearly a path, even if it contains a colon. */
function isPath(s: string): boolean {
  if (s.startsWith('../') || s.startsWith('..\\') || s.startsWith('/') || s.startsWith('\\')) return true;
  return /^[a-zA-Z]:[\\/]/.test(s);
}

/** Parses a repository location. Throws ERR_INVALID_ARGUMENT or (another backend) ERR_UNSUPPORTED. */
export function parseLocation(text: string): Location {
  if (typeof text !== 'string' || text === '') {
    throw new CairnError('ERR_INVALID_ARGUMENT', 'the repository location is empty; give a directory (or local:DIR)', { data: { location: text } });
  }
  const colon = text.indexOf(':');
  const scheme = colon < 0 ? undefined : text.slice(0, colon);
  if (scheme === 'local') {
    const path = text.slice(colon + 1);
    if (path === '') {
      throw new CairnError('ERR_INVALID_ARGUMENT', 'the repository location "local:" names no directory; write local:DIR', { data: { location: text } });
    }
    return { kind: 'local', path };
  }
  if (scheme === 'rest') return parseRestUrl(text.slice(colon + 1));
  if (scheme === 's3') return parseS3Location(text.slice(colon + 1));
  if (scheme !== undefined && (RESTIC_SCHEMES as readonly string[]).includes(scheme)) {
    // Never echo the whole location: rest: and s3: URLs can carry credentials.
    throw new CairnError('ERR_UNSUPPORTED', `repositories on the ${scheme} backend are not supported yet (only local directories are); use restic for now`, {
      data: { scheme },
    });
  }
  if (scheme !== undefined && !isPath(text)) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `the repository location starts with "${scheme}:", which is not a backend cairn knows; if it is a local directory, write local: in front of it`, {
      data: { scheme },
    });
  }
  return { kind: 'local', path: text };
}

/** The backend for a location (parsed, or text to parse); a relative path is taken from `cwd`. */
export async function openBackend(location: Location | string, options: OpenBackendOptions = {}): Promise<Backend> {
  const loc = typeof location === 'string' ? parseLocation(location) : location;
  const cwd = options.cwd ?? process.cwd();
  if (loc.kind === 'local') return new LocalBackend(resolve(cwd, loc.path));
  // Remote: --cacert files read once, retries by the decorator (each call makes one attempt).
  const ca = await readCaCerts(options.caCerts ?? [], cwd);
  const remote =
    loc.kind === 'rest'
      ? new RestBackend(loc, { ...restOptions(options.options ?? {}), ca })
      : new S3Backend(loc, { maxAttempts: 1, caCerts: ca, ...(options.options ? { options: options.options } : {}), ...(options.env ? { env: options.env } : {}) });
  return withRetry(remote, options.retry);
}

