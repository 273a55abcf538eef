/**
 * A repository behind an HTTP server speaking restic's REST backend protocol, version 2
 * (restic's rest-server, `rclone serve restic`). Requests, relative to the base URL `BASE/`:
 *
 *   POST   BASE/?create=true        create the repository (the server makes its directories)
 *   HEAD   BASE/config, BASE/T/ID   size of a file (Content-Length); 404 when missing
 *   GET    BASE/config, BASE/T/ID   the file, or a part of it with `Range: bytes=A-B`
 *   POST   BASE/config, BASE/T/ID   store a file (the body is the whole file)
 *   DELETE BASE/config, BASE/T/ID   remove a file
 *   GET    BASE/T/                  the listing, `[{"name": …, "size": …}]` (v2 only)
 *
 * with T one of data, keys, locks, snapshots, index, and every request carrying
 * `Accept: application/vnd.x.restic.rest.v2`. Packs are addressed flat (`data/ID`); the server
 * decides how it lays them out on disk. The protocol has no place for cairn's audit records
 * (`cairn-log/`): servers route only those five directories, so the `audit` type is refused with
 * ERR_UNSUPPORTED before any request (the CLI reports that no record was written).
 *
 * Exactness: every body is read in full and its length checked against Content-Length (and,
 * for a range, against Content-Range); a connection that ends early, a body shorter than
 * announced or a range shorter than asked for is a retryable ERR_BACKEND, never a short result.
 * A range past the end of the file is ERR_INVALID_ARGUMENT; the file's size comes from
 * Content-Range (servers truncate or refuse such ranges), or from a HEAD request.
 *
 * Errors: 404 is ERR_NOT_FOUND (load, stat, remove); 401/403 are permanent ERR_BACKEND naming the
 * server and the file and saying what to check; 5xx, 408, 429, resets, refused connections and
 * timeouts are retryable ERR_BACKEND. A request that fails on a reused keep-alive connection
 * with a reset is sent once more on a fresh one (the server may have closed it while idle).
 *
 * Uses node:http/https with one keep-alive agent, whose socket limit is the connection limit, and
 * whose `ca` (if given) replaces the default trust roots for https.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { CairnError, messageOf } from '../../errors.js';
import type { FileType } from '../../model/index.js';
import { trustStore } from '../ca.js';
import type { Backend, FileInfo, Handle } from '../types.js';
import { checkHandle, checkRangeArgs, checkType, listConfig, describe, isValidName, notFound, rangeLength } from '../local/checks.js';
import { restDisplay, type RestLocation } from './url.js';

export const REST_V2 = 'application/vnd.x.restic.rest.v2';

/** The directory each file type has in the REST protocol's URLs (`config` has none). */
export const REST_DIRS: Readonly<Record<Exclude<FileType, 'config' | 'audit'>, string>> = {
  key: 'keys',
  pack: 'data',
  index: 'index',
  snapshot: 'snapshots',
  lock: 'locks',
};

/** ERR_UNSUPPORTED for the file types the REST protocol has no directory for (cairn's `audit`). */
function restSupports(type: FileType, location: string): void {
  if (type === 'audit') {
    throw new CairnError('ERR_UNSUPPORTED', `${location}: the audit log is not supported on rest: backends (the REST protocol has no directory for it)`, { data: { type, backend: 'rest' } });
  }
}

export interface RestBackendOptions {
  /** Most requests in flight at once (sockets to the server). @default 5 */
  readonly connections?: number;
  /** PEM certificates trusted for https besides the system's roots and NODE_EXTRA_CA_CERTS (`--cacert`). */
  readonly ca?: readonly (string | Uint8Array)[];
  /** Milliseconds a request may sit without any progress before it fails (retryable). @default 120000 */
  readonly timeout?: number;
}

interface Response {
  readonly status: number;
  readonly statusText: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Uint8Array;
}

interface RequestSpec {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'DELETE';
  /** Relative to the base URL: '', 'config', 'data/ID', 'keys/'. */
  readonly path: string;
  readonly query?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: Uint8Array;
  /** What is being done, for messages: 'load pack file 0123…'. */
  readonly what: string;
  readonly h?: Handle;
}

/** Network error codes after which the same request can succeed. */
const RETRYABLE_NET = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EHOSTDOWN', 'ERR_STREAM_PREMATURE_CLOSE',
]);

/** TLS verification failures: a CA is missing or wrong, retrying cannot help. */
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

export class RestBackend implements Backend {
  /** The URL as shown to the user (`rest:…`, password replaced by `***`). */
  readonly location: string;
  readonly #base: URL;
  readonly #auth: string | undefined;
  readonly #agent: http.Agent;
  readonly #timeout: number;
  /** The save in flight for each name (see the note in save()). */
  readonly #saving = new Map<string, Promise<void>>();

  constructor(loc: RestLocation, options: RestBackendOptions = {}) {
    this.location = restDisplay(loc);
    this.#base = new URL(loc.url);
    if (loc.username !== undefined || loc.password !== undefined) {
      this.#auth = `Basic ${Buffer.from(`${loc.username ?? ''}:${loc.password ?? ''}`, 'utf8').toString('base64')}`;
    }
    const connections = options.connections ?? 5;
    if (!Number.isSafeInteger(connections) || connections < 1) {
      throw new CairnError('ERR_INVALID_ARGUMENT', `rest.connections must be a whole number of at least 1, got ${String(connections)}`, { data: { connections } });
    }
    this.#timeout = options.timeout ?? 120_000;
    const common = { keepAlive: true, maxSockets: connections };
    const ca = trustStore(options.ca);
    this.#agent = this.#base.protocol === 'https:' ? new https.Agent({ ...common, ...(ca !== undefined ? { ca } : {}) }) : new http.Agent(common);
  }

  async create(): Promise<void> {
    const config: Handle = { type: 'config', name: 'config' };
    let exists = true;
    try {
      await this.stat(config);
    } catch (e) {
      if (!(e instanceof CairnError && e.code === 'ERR_NOT_FOUND')) throw e;
      exists = false;
    }
    if (exists) {
      throw new CairnError('ERR_REPO_EXISTS', `a repository already exists at ${this.location} (it has a config file); use it, or choose an empty location`, {
        data: { location: this.location },
      });
    }
    const r = await this.#request({ method: 'POST', path: '', query: 'create=true', what: 'create the repository', body: new Uint8Array(0) });
    if (r.status !== 200) throw this.#statusError(r, 'create the repository');
  }

  async save(h: Handle, data: Uint8Array): Promise<void> {
    checkHandle(h, this.location);
    restSupports(h.type, this.location);
    if (!(data instanceof Uint8Array)) {
      throw new CairnError('ERR_INVALID_ARGUMENT', `${this.location}: cannot save ${describe(h)}: the data is not a Uint8Array; this is a bug in the caller`, {
        data: { type: h.type, name: h.name },
      });
    }
    // Saves of one name from this process go one after the other: some servers (rclone before
    // 1.63) write in place, and two uploads of one name at once would interleave their bytes.
    const key = this.#path(h);
    const before = this.#saving.get(key);
    const body = before === undefined ? data : data.slice(); // the caller's array may change while this waits
    const mine = (async () => {
      if (before !== undefined) await before.catch(() => undefined);
      const what = `save ${describe(h)}`;
      const r = await this.#request({ method: 'POST', path: key, headers: { 'content-type': 'application/octet-stream' }, body, what, h });
      if (r.status !== 200) throw this.#statusError(r, what, h);
    })();
    this.#saving.set(key, mine);
    try {
      await mine;
    } finally {
      if (this.#saving.get(key) === mine) this.#saving.delete(key);
    }
  }

  async load(h: Handle, offset = 0, length?: number): Promise<Uint8Array> {
    checkHandle(h, this.location);
    restSupports(h.type, this.location);
    checkRangeArgs(h, this.location, offset, length);
    if (length === 0) {
      // No byte range can ask for nothing; the size alone says whether the range is valid.
      rangeLength(h, this.location, offset, 0, (await this.stat(h)).size);
      return new Uint8Array(0);
    }
    const what = `load ${describe(h)}`;
    const ranged = offset > 0 || length !== undefined;
    const headers: Record<string, string> = {};
    if (ranged) headers['range'] = `bytes=${offset}-${length === undefined ? '' : offset + length - 1}`;
    const r = await this.#request({ method: 'GET', path: this.#path(h), headers, what, h });
    if (r.status === 404) throw notFound(h, this.location);
    if (r.status === 200) {
      // The whole file (a server may ignore Range): its length was checked against Content-Length.
      const want = rangeLength(h, this.location, offset, length, r.body.length);
      return offset === 0 && want === r.body.length ? r.body : r.body.slice(offset, offset + want);
    }
    if (r.status === 416) {
      const total = /^bytes \*\/(\d+)$/.exec(header(r, 'content-range') ?? '')?.[1];
      const size = total !== undefined ? Number(total) : (await this.stat(h)).size;
      rangeLength(h, this.location, offset, length, size); // throws unless the range is empty at the end
      return new Uint8Array(0);
    }
    if (r.status !== 206) throw this.#statusError(r, what, h);
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(header(r, 'content-range') ?? '');
    if (m === null) {
      throw this.#shortRead(h, `the server answered a range request with 206 but no usable Content-Range (${JSON.stringify(header(r, 'content-range') ?? null)})`, offset, length);
    }
    const first = Number(m[1]);
    const last = Number(m[2]);
    const size = m[3] === '*' ? (await this.stat(h)).size : Number(m[3]);
    const want = rangeLength(h, this.location, offset, length, size);
    const got = Math.max(0, last - first + 1);
    if (first !== offset || got !== want || r.body.length !== want) {
      throw this.#shortRead(h, `asked for ${want} bytes at offset ${offset}, got ${r.body.length} (Content-Range: ${m[0]})`, offset, length);
    }
    return r.body;
  }

  async stat(h: Handle): Promise<FileInfo> {
    checkHandle(h, this.location);
    restSupports(h.type, this.location);
    const what = `stat ${describe(h)}`;
    const r = await this.#request({ method: 'HEAD', path: this.#path(h), what, h });
    if (r.status === 404) throw notFound(h, this.location);
    if (r.status !== 200) throw this.#statusError(r, what, h);
    const size = Number(header(r, 'content-length') ?? NaN);
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new CairnError('ERR_BACKEND', `${this.location}: ${what}: the server sent no valid Content-Length (${JSON.stringify(header(r, 'content-length') ?? null)}); is this a restic REST server?`, {
        data: { location: this.location, type: h.type, name: h.name },
        retryable: false,
      });
    }
    return { name: h.name, size };
  }

  async *list(type: FileType): AsyncIterable<FileInfo> {
    checkType(type, this.location);
    restSupports(type, this.location);
    if (type === 'config') {
      yield* listConfig((h) => this.stat(h));
      return;
    }
    const what = `list ${type} files`;
    const r = await this.#request({ method: 'GET', path: `${REST_DIRS[type as Exclude<FileType, 'config' | 'audit'>]}/`, what });
    if (r.status === 404) return; // no such directory yet: nothing of this type
    if (r.status !== 200) throw this.#statusError(r, what);
    const contentType = header(r, 'content-type') ?? '';
    if (!contentType.startsWith(REST_V2)) {
      throw new CairnError('ERR_UNSUPPORTED', `${this.location}: ${what}: the server answered with ${JSON.stringify(contentType)}, not REST protocol v2; cairn needs v2 (restic's rest-server 0.10 or later, or rclone serve restic)`, {
        data: { location: this.location, type, contentType },
      });
    }
    let items: unknown;
    try {
      items = JSON.parse(Buffer.from(r.body).toString('utf8'));
    } catch (e) {
      throw new CairnError('ERR_BACKEND', `${this.location}: ${what}: the listing is not valid JSON (${messageOf(e)}); try again, and check the server`, {
        data: { location: this.location, type },
        cause: e,
        retryable: true,
      });
    }
    if (!Array.isArray(items)) {
      throw new CairnError('ERR_BACKEND', `${this.location}: ${what}: the listing is not a JSON array; is this a restic REST server?`, { data: { location: this.location, type }, retryable: false });
    }
    const seen = new Set<string>();
    for (const item of items as unknown[]) {
      const { name, size } = (item ?? {}) as { name?: unknown; size?: unknown };
      if (typeof name !== 'string' || !isValidName(type, name) || seen.has(name)) continue;
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
        throw new CairnError('ERR_BACKEND', `${this.location}: ${what}: the listing gives ${type} file ${name} the size ${JSON.stringify(size)}, which is not a byte count; check the server`, {
          data: { location: this.location, type, name },
          retryable: false,
        });
      }
      seen.add(name);
      yield { name, size };
    }
  }

  async remove(h: Handle): Promise<void> {
    checkHandle(h, this.location);
    restSupports(h.type, this.location);
    const what = `remove ${describe(h)}`;
    const r = await this.#request({ method: 'DELETE', path: this.#path(h), what, h });
    if (r.status === 404) throw notFound(h, this.location);
    if (r.status !== 200 && r.status !== 204) throw this.#statusError(r, what, h);
  }

  async close(): Promise<void> {
    this.#agent.destroy();
  }

  /** The path of a (valid) file relative to the base URL. */
  #path(h: Handle): string {
    return h.type === 'config' ? 'config' : `${REST_DIRS[h.type as Exclude<FileType, 'config' | 'audit'>]}/${h.name}`;
  }

  /** One request, its body read in full and checked against Content-Length. */
  async #request(spec: RequestSpec): Promise<Response> {
    try {
      return await this.#send(spec, false);
    } catch (e) {
      if (!(e instanceof StaleSocket)) throw this.#networkError(e, spec);
      try {
        return await this.#send(spec, true);
      } catch (e2) {
        throw this.#networkError(e2 instanceof StaleSocket ? e2.cause : e2, spec);
      }
    }
  }

  #send(spec: RequestSpec, fresh: boolean): Promise<Response> {
    const url = new URL(spec.path, this.#base);
    if (spec.query !== undefined) url.search = spec.query;
    const headers: Record<string, string> = { accept: REST_V2, ...spec.headers };
    if (this.#auth !== undefined) headers['authorization'] = this.#auth;
    if (spec.body !== undefined) headers['content-length'] = String(spec.body.length);
    const mod = url.protocol === 'https:' ? https : http;
    return new Promise<Response>((resolve, reject) => {
      let settled = false;
      const fail = (e: unknown): void => {
        if (settled) return;
        settled = true;
        req.destroy();
        // A reset before any answer on a reused keep-alive socket: the server closed it while idle.
        const code = (e as { code?: unknown } | null)?.code;
        if (!fresh && req.reusedSocket && !answered && (code === 'ECONNRESET' || code === 'EPIPE')) reject(new StaleSocket(e));
        else reject(e);
      };
      let answered = false;
      const req = mod.request(url, { method: spec.method, headers, agent: fresh ? false : this.#agent, ...(fresh && url.protocol === 'https:' ? this.#tlsOptions() : {}) }, (res) => {
        answered = true;
        const status = res.statusCode ?? 0;
        const announced = res.headers['content-length'];
        const expect = spec.method === 'HEAD' || status === 204 || status === 304 ? 0 : announced === undefined ? undefined : Number(announced);
        if (expect !== undefined && (!Number.isSafeInteger(expect) || expect < 0)) {
          fail(new TruncatedBody(`the server announced an invalid Content-Length ${JSON.stringify(announced)}`));
          return;
        }
        const chunks: Buffer[] = [];
        let got = 0;
        res.on('data', (c: Buffer) => {
          got += c.length;
          if (expect !== undefined && got > expect) {
            fail(new TruncatedBody(`the body is longer than its Content-Length ${expect}`));
            return;
          }
          chunks.push(c);
        });
        res.on('aborted', () => fail(new TruncatedBody(`the connection ended after ${got} of ${expect ?? 'the announced'} bytes`)));
        res.on('error', (e) => fail(e));
        res.on('end', () => {
          if (settled) return;
          if (!res.complete || (expect !== undefined && got !== expect)) {
            fail(new TruncatedBody(`the connection ended after ${got} of ${expect ?? 'the announced'} bytes`));
            return;
          }
          settled = true;
          // One fresh, plain Uint8Array the caller owns.
          const body = new Uint8Array(got);
          let at = 0;
          for (const c of chunks) {
            body.set(c, at);
            at += c.length;
          }
          resolve({ status, statusText: res.statusMessage ?? '', headers: res.headers, body });
        });
      });
      req.setTimeout(this.#timeout, () => fail(Object.assign(new Error(`no progress for ${this.#timeout / 1000} s`), { code: 'ETIMEDOUT' })));
      req.on('error', (e) => fail(e));
      req.end(spec.body === undefined ? undefined : Buffer.from(spec.body.buffer, spec.body.byteOffset, spec.body.byteLength));
    });
  }

  #tlsOptions(): https.RequestOptions {
    const ca = (this.#agent as https.Agent).options.ca;
    return ca === undefined ? {} : { ca };
  }

  /** ERR_BACKEND for a request that got no (whole) answer. */
  #networkError(e: unknown, spec: RequestSpec): CairnError {
    if (e instanceof CairnError) return e;
    const code = (e as { code?: unknown } | null)?.code;
    const codeStr = typeof code === 'string' ? code : undefined;
    const file = spec.h === undefined ? {} : { type: spec.h.type, name: spec.h.name };
    if (e instanceof TruncatedBody) {
      return new CairnError('ERR_BACKEND', `${this.location}: ${spec.what}: incomplete response: ${e.message}; this is usually a network problem: try again`, {
        data: { location: this.location, ...file },
        cause: e,
        retryable: true,
      });
    }
    if (codeStr !== undefined && TLS_CODES.test(codeStr)) {
      return new CairnError('ERR_BACKEND', `${this.location}: ${spec.what}: the server's TLS certificate was not accepted (${messageOf(e)}); if the server uses a private CA, pass its certificate with --cacert FILE`, {
        data: { location: this.location, errno: codeStr, ...file },
        cause: e,
        retryable: false,
      });
    }
    const retryable = codeStr === undefined || RETRYABLE_NET.has(codeStr) || codeStr.startsWith('UND_ERR') || /socket hang up/i.test(messageOf(e));
    const advice =
      codeStr === 'ECONNREFUSED' ? 'is the REST server running and listening there?'
        : codeStr === 'ENOTFOUND' ? 'check the host name in the repository URL'
          : retryable ? 'this may be transient: try again' : 'check the repository URL and the network';
    return new CairnError('ERR_BACKEND', `${this.location}: ${spec.what}: ${messageOf(e)}${codeStr !== undefined && !messageOf(e).includes(codeStr) ? ` (${codeStr})` : ''}; ${advice}`, {
      data: { location: this.location, ...(codeStr === undefined ? {} : { errno: codeStr }), ...file },
      cause: e,
      retryable,
    });
  }

  /** ERR_BACKEND for an answer with an unexpected HTTP status. */
  #statusError(r: Response, what: string, h?: Handle): CairnError {
    const status = r.status;
    const text = Buffer.from(r.body.subarray(0, 200)).toString('utf8').trim().replace(/\s+/g, ' ');
    const said = `HTTP ${status}${r.statusText !== '' ? ` ${r.statusText}` : ''}${text !== '' ? `: ${text}` : ''}`;
    const retryable = status >= 500 || status === 408 || status === 429;
    let advice: string;
    if (status === 401) {
      advice = this.#auth === undefined
        ? 'the server wants a user name and password: put them in the URL (rest:https://USER:PASSWORD@HOST:PORT/PATH)'
        : 'check the user name and password in the repository URL';
    } else if (status === 403) {
      advice = what.startsWith('remove')
        ? 'the server refused the deletion: it may run in append-only mode; check its settings and this user\'s rights'
        : 'check that this user may use this path on the server (with --private-repos the path must start with the user name)';
    } else if (retryable) {
      advice = 'the server had a problem: try again';
    } else {
      advice = 'check the repository URL and the server';
    }
    return new CairnError('ERR_BACKEND', `${this.location}: ${what}: the server answered ${said}; ${advice}`, {
      data: { location: this.location, status, ...(h === undefined ? {} : { type: h.type, name: h.name }) },
      retryable,
    });
  }

  #shortRead(h: Handle, detail: string, offset: number, length: number | undefined): CairnError {
    return new CairnError('ERR_BACKEND', `${this.location}: short read of ${describe(h)}: ${detail}; try again, then run \`cairn check\``, {
      data: { location: this.location, type: h.type, name: h.name, offset, length },
      retryable: true,
    });
  }
}

/** The `rest.*` keys of restic's `-o KEY=VALUE` options; an unknown `rest.` key or a bad value is ERR_INVALID_ARGUMENT. */
export function restOptions(options: Readonly<Record<string, string>>): RestBackendOptions {
  let connections: number | undefined;
  for (const [key, value] of Object.entries(options)) {
    if (!key.startsWith('rest.')) continue;
    if (key !== 'rest.connections') {
      throw new CairnError('ERR_INVALID_ARGUMENT', `-o ${key}: unknown option for the rest backend (known: rest.connections)`, { data: { key } });
    }
    connections = /^\d+$/.test(value) ? Number(value) : NaN;
    if (!Number.isSafeInteger(connections) || connections < 1 || connections > 1000) {
      throw new CairnError('ERR_INVALID_ARGUMENT', `-o rest.connections must be a whole number from 1 to 1000, got "${value}"`, { data: { key, value } });
    }
  }
  return connections === undefined ? {} : { connections };
}


function header(r: Response, name: string): string | undefined {
  const v = r.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** The body ended before (or went past) the length the server announced. */
class TruncatedBody extends Error {}

/** A reset on a reused keep-alive socket before any answer: worth one more try on a fresh socket. */
class StaleSocket extends Error {
  constructor(override readonly cause: unknown) {
    super('stale keep-alive connection');
  }
}
