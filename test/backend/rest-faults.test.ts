/**
 * The REST backend against a scripted HTTP server that misbehaves in the ways networks and
 * servers do: bodies cut short, ranges shorter than asked, servers ignoring Range, 5xx, 401/403,
 * refused connections, silence. Nothing short may come back as success, and every failure says
 * whether a retry can help. Real-server behaviour is in rest.test.ts and rest-cli.test.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestBackend, parseRestUrl, type Handle } from '../../src/backend/index.js';
import { freePort } from '../helpers/rclone.js';
import { collect, expectBytes, expectCode } from './conformance.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

let server: Server;
let base: string;
let handler: Handler = (_req, res) => res.writeHead(500).end();
const seen: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers['range'] ?? ''}`.trim());
    req.resume();
    req.on('end', () => handler(req, res));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const ID = 'c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2';
const PACK: Handle = { type: 'pack', name: ID };
const DATA = Uint8Array.from({ length: 100 }, (_, i) => i);

function backend(url = base, timeout?: number): RestBackend {
  return new RestBackend(parseRestUrl(url), timeout === undefined ? {} : { timeout });
}

async function withBackend<T>(fn: (b: RestBackend) => Promise<T>, url?: string, timeout?: number): Promise<T> {
  const b = backend(url, timeout);
  try {
    return await fn(b);
  } finally {
    await b.close();
  }
}

describe('rest backend: nothing short is returned as success', () => {
  it('a body cut off before its Content-Length is a retryable ERR_BACKEND naming the file', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write(DATA.subarray(0, 40));
      setTimeout(() => res.socket?.destroy(), 20);
    };
    await withBackend(async (b) => {
      for (const call of [() => b.load(PACK), () => b.load(PACK, 0, 100)]) {
        const e = await expectCode(call(), 'ERR_BACKEND');
        expect(e.retryable).toBe(true);
        expect(e.message).toContain(ID);
        expect(e.message).toContain(b.location);
      }
    });
  });

  it('a chunked body whose connection ends early is a retryable ERR_BACKEND', async () => {
    handler = (_req, res) => {
      res.writeHead(200); // no Content-Length: chunked
      res.write(DATA.subarray(0, 40));
      setTimeout(() => res.socket?.destroy(), 20);
    };
    await withBackend(async (b) => {
      expect((await expectCode(b.load(PACK), 'ERR_BACKEND')).retryable).toBe(true);
    });
  });

  it('a 206 with fewer bytes than asked (or than its Content-Range says) is a retryable ERR_BACKEND', async () => {
    const answers: Array<[string, Uint8Array]> = [
      ['bytes 10-14/100', DATA.subarray(10, 15)], // a shorter range than asked, total says more exist
      ['bytes 10-29/100', DATA.subarray(10, 15)], // Content-Range promises 20 bytes, 5 come
      ['bytes 11-30/100', DATA.subarray(11, 31)], // the wrong offset
    ];
    for (const [range, body] of answers) {
      handler = (_req, res) => res.writeHead(206, { 'content-range': range, 'content-length': String(body.length) }).end(body);
      await withBackend(async (b) => {
        const e = await expectCode(b.load(PACK, 10, 20), 'ERR_BACKEND');
        expect(e.retryable, range).toBe(true);
        expect(e.message).toContain('short read');
      });
    }
  });

  it('a server that ignores Range (200, whole file) still yields exactly the range', async () => {
    handler = (_req, res) => res.writeHead(200, { 'content-length': '100' }).end(DATA);
    await withBackend(async (b) => {
      expectBytes(await b.load(PACK, 10, 20), DATA.subarray(10, 30));
      expectBytes(await b.load(PACK, 90), DATA.subarray(90));
      await expectCode(b.load(PACK, 90, 11), 'ERR_INVALID_ARGUMENT');
    });
  });

  it('416 with the size: an empty range at the end is empty, past the end is ERR_INVALID_ARGUMENT', async () => {
    handler = (_req, res) => res.writeHead(416, { 'content-range': 'bytes */100' }).end();
    await withBackend(async (b) => {
      expect((await b.load(PACK, 100)).length).toBe(0);
      const e = await expectCode(b.load(PACK, 101), 'ERR_INVALID_ARGUMENT');
      expect(e.data).toMatchObject({ type: 'pack', name: ID });
    });
  });

  it('sends restic v2 requests: Accept header, Range bytes=a-b, flat data/ID paths', async () => {
    seen.length = 0;
    handler = (_req, res) => res.writeHead(206, { 'content-range': 'bytes 5-9/100', 'content-length': '5' }).end(DATA.subarray(5, 10));
    await withBackend(async (b) => {
      expectBytes(await b.load(PACK, 5, 5), DATA.subarray(5, 10));
    }, `${base}sub/path`);
    expect(seen).toEqual([`GET /sub/path/data/${ID} bytes=5-9`]);
  });
});

describe('rest backend: errors say whether a retry can help', () => {
  it('5xx is retryable; the message names the server, the file and the status', async () => {
    for (const status of [500, 502, 503]) {
      handler = (_req, res) => res.writeHead(status).end('SlowDown');
      await withBackend(async (b) => {
        for (const call of [() => b.load(PACK), () => b.save(PACK, DATA), () => b.stat(PACK), () => b.remove(PACK)]) {
          const e = await expectCode(call(), 'ERR_BACKEND');
          expect(e.retryable).toBe(true);
          expect(e.message).toContain(`HTTP ${status}`);
          expect(e.message).toContain(ID);
          expect(e.data).toMatchObject({ status, type: 'pack', name: ID });
        }
        expect((await expectCode(collect(b.list('snapshot')), 'ERR_BACKEND')).retryable).toBe(true);
      });
    }
  });

  it('401 and 403 fail at once with advice, and never show the password', async () => {
    handler = (_req, res) => res.writeHead(401, { 'www-authenticate': 'Basic realm="restic"' }).end('Unauthorized');
    await withBackend(async (b) => {
      const e = await expectCode(b.load(PACK), 'ERR_BACKEND');
      expect(e.retryable).toBe(false);
      expect(e.message).toContain('HTTP 401');
      expect(e.message).toContain('USER:PASSWORD@');
    });
    const secret = `${base.replace('http://', 'http://alice:s3cr%40t@')}repo`;
    await withBackend(async (b) => {
      expect(b.location).toBe(`rest:${base.replace('http://', 'http://alice:***@')}repo/`);
      const e = await expectCode(b.stat(PACK), 'ERR_BACKEND');
      expect(e.retryable).toBe(false);
      expect(e.message).toContain('check the user name and password');
      expect(e.message).toContain('alice:***@');
      expect(`${e.message} ${JSON.stringify(e.data)}`).not.toMatch(/s3cr/);
    }, secret);
    handler = (_req, res) => res.writeHead(403).end('Forbidden');
    await withBackend(async (b) => {
      const e = await expectCode(b.remove(PACK), 'ERR_BACKEND');
      expect(e.retryable).toBe(false);
      expect(e.message).toContain('append-only');
      expect((await expectCode(b.save(PACK, DATA), 'ERR_BACKEND')).retryable).toBe(false);
    });
  });

  it('sends the URL credentials as HTTP basic auth', async () => {
    let auth: string | undefined;
    handler = (req, res) => {
      auth = req.headers.authorization;
      res.writeHead(200, { 'content-length': '7' }).end();
    };
    await withBackend(async (b) => {
      expect(await b.stat(PACK)).toEqual({ name: ID, size: 7 });
    }, base.replace('http://', 'http://alice:s3cr%40t@'));
    expect(auth).toBe(`Basic ${Buffer.from('alice:s3cr@t').toString('base64')}`);
  });

  it('a refused connection and a silent server are retryable', async () => {
    const port = await freePort();
    await withBackend(async (b) => {
      const e = await expectCode(b.stat(PACK), 'ERR_BACKEND');
      expect(e.retryable).toBe(true);
      expect(e.message).toContain('is the REST server running');
    }, `http://127.0.0.1:${port}/`);
    handler = () => undefined; // never answers
    await withBackend(async (b) => {
      expect((await expectCode(b.load(PACK), 'ERR_BACKEND')).retryable).toBe(true);
    }, undefined, 200);
  });

  it('a listing keeps valid names once, refuses v1 servers, and sizes must be byte counts', async () => {
    const v2 = { 'content-type': 'application/vnd.x.restic.rest.v2' };
    handler = (_req, res) => res.writeHead(200, v2).end(JSON.stringify([{ name: ID, size: 6 }, { name: '.tmp', size: 1 }, { name: ID, size: 6 }, { name: 'x'.repeat(64), size: 2 }]));
    await withBackend(async (b) => {
      expect(await collect(b.list('key'))).toEqual([{ name: ID, size: 6 }]);
    });
    handler = (_req, res) => res.writeHead(200, { 'content-type': 'application/vnd.x.restic.rest.v1' }).end(JSON.stringify([ID]));
    await withBackend(async (b) => {
      expect((await expectCode(collect(b.list('key')), 'ERR_UNSUPPORTED')).message).toContain('v2');
    });
    handler = (_req, res) => res.writeHead(200, v2).end(JSON.stringify([{ name: ID, size: -1 }]));
    await withBackend(async (b) => {
      await expectCode(collect(b.list('key')), 'ERR_BACKEND');
    });
  });
});
