/**
 * Repository locations, spelled as restic spells them: `local:/srv/repo`, or a bare path
 * (`/srv/repo`, `repo`, `../repo`); a word before a colon names a backend (`s3:`, `rest:`,
 * `sftp:`…). A bare string that is not clearly a path and contains a colon is refused as
 * ambiguous, as restic does: write `local:` in front of such a directory name.
 */
import { resolve } from 'node:path';
import { CairnError } from '../errors.js';
import { LocalBackend } from './local/index.js';
import type { Backend } from './types.js';

/** A parsed repository location. Only local directories exist so far. */
export type Location = { readonly kind: 'local'; readonly path: string };

export interface OpenBackendOptions {
  /** The directory a relative local path is taken from. @default process.cwd() */
  readonly cwd?: string;
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
  switch (loc.kind) {
    case 'local':
      return new LocalBackend(resolve(options.cwd ?? process.cwd(), loc.path));
  }
}
