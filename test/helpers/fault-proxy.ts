/**
 * A fault-injecting HTTP proxy for tests (node:http only). It listens on 127.0.0.1 and forwards
 * each request — method, path, headers and body, unchanged — to a target base URL, then passes the
 * answer back; at a chosen rate (a seeded RNG decides) it breaks the exchange instead.
 *
 * Host and signatures: the client is pointed at the proxy (`proxy.url`), so the Host header it
 * sends, and for S3 signs into its SigV4 signature, is the proxy's `127.0.0.1:PORT`. The proxy
 * forwards that header as it arrived, so the server (s3rver) checks the signature against exactly
 * the Host the client signed; rewriting Host to the target's address would break every signed
 * request. Only hop-by-hop headers (Connection, Keep-Alive, Expect), which SigV4 never signs,
 * are dropped. Path-style S3 addressing keeps the bucket in the path, so the Host value carries no
 * bucket that the server would need.
 *
 * Fault kinds (each counted in `counts` when it really happened):
 * - `slowdown503`: 503 at once, request not performed (an S3 `SlowDown` XML body in `s3` flavour).
 * - `error500`: the request IS performed upstream, then the answer is replaced by a 500
 *   (`InternalError` in `s3` flavour): the client cannot know it succeeded.
 * - `resetRequest`: the connection is reset (TCP RST) as the request arrives, mid-upload for a
 *   body; nothing performed.
 * - `resetResponse`: performed upstream, then the connection is reset before any response byte.
 * - `resetMidBody`: the headers and part of the body are sent, then the connection is reset.
 * - `truncate`: the headers promise the whole body (Content-Length), fewer bytes follow, then the
 *   connection is closed cleanly (FIN): a short read that only the length reveals.
 * - `latency`: the request waits `latencyMs` before going on normally (not a failure).
 * - `flipByte`: one byte of a successful response body is inverted (silent corruption; only the
 *   repository's MAC and ID checks can catch it). Not in the default set.
 * Body faults need a body to break, so they are chosen for GET requests only; on an answer
 * without one after all (an empty body) the proxy resets the connection instead and counts
 * `resetResponse`.
 */
import { createServer, request as httpRequest, Agent, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type FaultKind = 'slowdown503' | 'error500' | 'resetRequest' | 'resetResponse' | 'resetMidBody' | 'truncate' | 'latency' | 'flipByte';

/** The transient kinds: every fault a retrying client must ride out. */
export const TRANSIENT_FAULTS: readonly FaultKind[] = ['slowdown503', 'error500', 'resetRequest', 'resetResponse', 'resetMidBody', 'truncate', 'latency'];

export interface ProxyRequestInfo {
  readonly method: string;
  /** Path and query, as the client sent them. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

export interface FaultProxyOptions {
  /** Where requests go, e.g. `http://127.0.0.1:8080` (a path part is not allowed). */
  readonly target: string;
  /** The share of requests that get a fault, 0…1. May be changed later (`proxy.rate`). @default 0 */
  readonly rate?: number;
  /** The kinds to choose from, uniformly. @default TRANSIENT_FAULTS */
  readonly kinds?: readonly FaultKind[];
  /** Seed of the RNG that picks the requests and kinds. @default 1 */
  readonly seed?: number;
  /** How 5xx bodies look. @default 'rest' */
  readonly flavor?: 's3' | 'rest';
  /** The delay of a `latency` fault, [min, max] ms. @default [50, 250] */
  readonly latencyMs?: readonly [number, number];
  /** Only requests this accepts can get a fault. @default every request */
  readonly eligible?: (req: ProxyRequestInfo) => boolean;
  /** Stop choosing faults after this many. @default Infinity */
  readonly maxFaults?: number;
}

export interface FaultProxy {
  /** `http://127.0.0.1:PORT`: point the client here. */
  readonly url: string;
  readonly port: number;
  /** Faults injected so far, by kind. */
  readonly counts: Record<FaultKind, number>;
  /** Requests seen so far. */
  readonly requests: number;
  /** The fault rate from now on. */
  rate: number;
  /** Faults injected so far (all kinds). */
  total(): number;
  close(): Promise<void>;
}

/** mulberry32: small, seeded, good enough to pick faults. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The kinds that break a response body (chosen for GET requests only). */
const BODY_FAULTS: ReadonlySet<FaultKind> = new Set(['resetMidBody', 'truncate', 'flipByte']);

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'expect', 'te', 'trailer', 'upgrade']);

/** The raw headers (flat name, value list) without hop-by-hop ones. */
function forwardHeaders(raw: readonly string[], drop: ReadonlySet<string> = HOP_BY_HOP): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!drop.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

function readBody(msg: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    msg.on('data', (c: Buffer) => parts.push(c));
    msg.on('end', () => resolve(Buffer.concat(parts)));
    msg.on('error', reject);
    msg.on('aborted', () => reject(new Error('request aborted')));
  });
}

function errorBody(flavor: 's3' | 'rest', status: 500 | 503, url: string): { type: string; body: string } {
  if (flavor === 'rest') return { type: 'text/plain', body: status === 503 ? 'service unavailable (injected)\n' : 'internal server error (injected)\n' };
  const code = status === 503 ? 'SlowDown' : 'InternalError';
  const message = status === 503 ? 'Please reduce your request rate.' : 'We encountered an internal error. Please try again.';
  return {
    type: 'application/xml',
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><Resource>${url.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</Resource><RequestId>fault-proxy</RequestId></Error>`,
  };
}

function reset(socket: Socket): void {
  if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
  else socket.destroy();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts a proxy in front of `options.target`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  if (target.protocol !== 'http:' || (target.pathname !== '/' && target.pathname !== '')) {
    throw new Error(`fault proxy: target must be http://HOST:PORT, not ${options.target}`);
  }
  const kinds = options.kinds ?? TRANSIENT_FAULTS;
  const random = seededRandom(options.seed ?? 1);
  const flavor = options.flavor ?? 'rest';
  const [latMin, latMax] = options.latencyMs ?? [50, 250];
  const maxFaults = options.maxFaults ?? Infinity;
  const counts = Object.fromEntries(['slowdown503', 'error500', 'resetRequest', 'resetResponse', 'resetMidBody', 'truncate', 'latency', 'flipByte'].map((k) => [k, 0])) as Record<FaultKind, number>;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const sockets = new Set<Socket>();
  let requests = 0;
  let picked = 0;
  let rate = options.rate ?? 0;
  const total = (): number => Object.values(counts).reduce((a, n) => a + n, 0);

  function pick(req: IncomingMessage): FaultKind | undefined {
    if (rate <= 0 || picked >= maxFaults) return undefined;
    if (options.eligible !== undefined && !options.eligible({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers })) return undefined;
    if (random() >= rate) return undefined;
    // Body faults need a response body: only a GET is likely to have one.
    const usable = req.method === 'GET' ? kinds : kinds.filter((k) => !BODY_FAULTS.has(k));
    if (usable.length === 0) return undefined;
    picked++; // counted now, so concurrent requests cannot overshoot maxFaults
    return usable[Math.floor(random() * usable.length)];
  }

  function forward(req: IncomingMessage, body: Buffer): Promise<{ res: IncomingMessage; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const up = httpRequest(
        {
          host: target.hostname,
          port: target.port === '' ? 80 : Number(target.port),
          method: req.method,
          path: req.url,
          // The Host header goes on as the client sent (and signed) it.
          headers: forwardHeaders(req.rawHeaders),
          agent,
        },
        (res) => {
          readBody(res).then((b) => resolve({ res, body: b }), reject);
        },
      );
      up.on('error', reject);
      up.end(body);
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests++;
    const socket = req.socket;
    const fault = pick(req);
    if (fault === 'resetRequest') {
      counts.resetRequest++;
      reset(socket);
      return;
    }
    const body = await readBody(req);
    if (fault === 'latency') {
      counts.latency++;
      await sleep(latMin + random() * (latMax - latMin));
    }
    if (fault === 'slowdown503') {
      counts.slowdown503++;
      const e = errorBody(flavor, 503, req.url ?? '/');
      res.writeHead(503, { 'Content-Type': e.type, 'Content-Length': Buffer.byteLength(e.body), 'Retry-After': '0' });
      res.end(e.body);
      return;
    }
    let up: { res: IncomingMessage; body: Buffer };
    try {
      up = await forward(req, body);
    } catch (err) {
      const text = `fault proxy: the target failed: ${String(err)}\n`;
      res.writeHead(502, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (fault === 'error500') {
      counts.error500++;
      const e = errorBody(flavor, 500, req.url ?? '/');
      res.writeHead(500, { 'Content-Type': e.type, 'Content-Length': Buffer.byteLength(e.body) });
      res.end(e.body);
      return;
    }
    const status = up.res.statusCode ?? 502;
    const hasBody = req.method !== 'HEAD' && status !== 204 && status !== 304 && up.body.length >= 2;
    if (fault === 'resetResponse' || ((fault === 'resetMidBody' || fault === 'truncate') && !hasBody)) {
      counts.resetResponse++;
      reset(socket);
      return;
    }
    const headers = forwardHeaders(up.res.rawHeaders, new Set([...HOP_BY_HOP, 'transfer-encoding', 'content-length']));
    if (req.method === 'HEAD' || status === 204 || status === 304) {
      // No body: pass the upstream Content-Length (of the object, for HEAD) on as it was.
      res.writeHead(status, forwardHeaders(up.res.rawHeaders, new Set([...HOP_BY_HOP, 'transfer-encoding'])));
      res.end();
      return;
    }
    let out = up.body;
    if (fault === 'flipByte' && status >= 200 && status < 300 && out.length > 0) {
      counts.flipByte++;
      out = Buffer.from(out);
      const at = Math.floor(random() * out.length);
      out[at] = out[at]! ^ 0xff;
    }
    headers.push('Content-Length', String(out.length));
    res.writeHead(status, headers);
    if (fault === 'resetMidBody' || fault === 'truncate') {
      const keep = 1 + Math.floor(random() * (out.length - 1)); // 1 … length-1 bytes
      counts[fault]++;
      res.write(out.subarray(0, keep), () => {
        if (fault === 'truncate') socket.end();
        else reset(socket);
      });
      return;
    }
    res.end(out);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      // The client went away mid-exchange (or we reset it): nothing left to answer.
      if (!req.socket.destroyed) reset(req.socket);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  server.on('clientError', (_e, s) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    counts,
    get requests() {
      return requests;
    },
    get rate() {
      return rate;
    },
    set rate(r: number) {
      rate = r;
    },
    total,
    async close() {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
