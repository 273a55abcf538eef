/**
 * `rest:` locations, spelled as restic spells them: `rest:http://HOST:PORT/[PATH]` or
 * `rest:https://USER:PASS@HOST:PORT/PATH`. The URL's user and password are taken out and kept
 * apart (they become HTTP basic auth); what is shown to the user (`display`, the backend's
 * `location`, every message) has the password replaced by `***`, as restic prints it. The base
 * URL always ends with `/`, so file URLs are `BASE + 'config'`, `BASE + 'data/' + ID`, ….
 */
import { CairnError } from '../../errors.js';

/** A parsed `rest:` location: the server URL without credentials, and the credentials apart. */
export interface RestLocation {
  readonly kind: 'rest';
  /** The repository's base URL: http(s), no user or password, no query, ending in `/`. */
  readonly url: string;
  /** The user name for HTTP basic auth (percent-decoded), if the URL had one. */
  readonly username?: string;
  /** The password for HTTP basic auth (percent-decoded), if the URL had one. Never printed. */
  readonly password?: string;
}

const USAGE = 'write rest:http://HOST:PORT/ or rest:https://USER:PASSWORD@HOST:PORT/PATH';

/** Parses the text after `rest:`. Never echoes a password in an error. */
export function parseRestUrl(rest: string): RestLocation {
  let u: URL;
  try {
    u = new URL(rest);
  } catch (e) {
    // The text may hold a password, so it is not repeated here.
    throw new CairnError('ERR_INVALID_ARGUMENT', `the rest: repository location is not a valid URL; ${USAGE}`, { cause: scrub(e, rest) });
  }
  const shown = redactUrl(u);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new CairnError('ERR_INVALID_ARGUMENT', `the rest: repository location ${shown} is not an http or https URL; ${USAGE}`, { data: { location: `rest:${shown}` } });
  }
  if (u.hostname === '') {
    throw new CairnError('ERR_INVALID_ARGUMENT', `the rest: repository location ${shown} names no host; ${USAGE}`, { data: { location: `rest:${shown}` } });
  }
  if (u.search !== '' || u.hash !== '') {
    throw new CairnError('ERR_INVALID_ARGUMENT', `the rest: repository location ${shown} has a query or fragment (?… or #…), which the REST protocol has no use for; remove it`, {
      data: { location: `rest:${shown}` },
    });
  }
  let username: string;
  let password: string;
  try {
    username = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
  } catch {
    throw new CairnError('ERR_INVALID_ARGUMENT', `the user name or password in the rest: location ${shown} has a bad %-escape; escape special characters as %XX`, { data: { location: `rest:${shown}` } });
  }
  u.username = '';
  u.password = '';
  if (!u.pathname.endsWith('/')) u.pathname += '/';
  return {
    kind: 'rest',
    url: u.href,
    ...(username !== '' || password !== '' ? { username } : {}),
    ...(password !== '' ? { password } : {}),
  };
}

/** The URL for messages: as given, with the password (if any) replaced by `***`. */
export function restDisplay(loc: RestLocation): string {
  const u = new URL(loc.url);
  if (loc.username !== undefined) u.username = encodeURIComponent(loc.username);
  if (loc.password !== undefined) u.password = '***';
  return `rest:${u.href}`;
}

/**
 * A repository location as it may be shown to the user: for `rest:` (and any other `scheme:URL`)
 * the URL's password is replaced by `***`; anything else is returned unchanged.
 */
export function redactLocation(text: string): string {
  const m = /^([a-z0-9]+):(.*)$/s.exec(text);
  if (m === null || !/^[a-z][a-z0-9+.-]*:\/\//i.test(m[2]!)) return text;
  try {
    return `${m[1]!}:${redactUrl(new URL(m[2]!))}`;
  } catch {
    // Not a URL after all: hide everything between :// and the last @, where a password would be.
    return text.replace(/(:\/\/[^/@]*?:)[^/]*@/, '$1***@');
  }
}

function redactUrl(u: URL): string {
  if (u.password === '') return u.href;
  const c = new URL(u.href);
  c.password = '***';
  return c.href;
}

/** An error whose message might contain `text` (the raw location), with it taken out. */
function scrub(e: unknown, text: string): Error {
  const m = e instanceof Error ? e.message : String(e);
  return new Error(m.split(text).join('<location>'));
}
