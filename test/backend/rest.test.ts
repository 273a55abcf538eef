/**
 * The REST backend against `rclone serve restic` (restic's REST protocol v2): the shared
 * conformance suite, each test in its own repository path on one server; then https with a
 * private CA given as --cacert.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RestBackend, openBackend, parseRestUrl } from '../../src/backend/index.js';
import { startRclone, type RcloneServer } from '../helpers/rclone.js';
import { makeTestCa, type TestCa } from '../helpers/test-ca.js';
import { backendConformance, expectBytes, expectCode, handleFor } from './conformance.js';

let root: string;
let server: RcloneServer;
let n = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'cairn-rest-'));
  server = await startRclone(join(root, 'served'));
});

afterAll(async () => {
  await server?.stop();
  if (root !== undefined) await rm(root, { recursive: true, force: true });
});

backendConformance('rest (rclone serve restic)', async () => {
  const path = `repo${++n}/`;
  const backend = new RestBackend(parseRestUrl(`${server.url}${path}`));
  return { backend, cleanup: () => rm(join(server.dir, path), { recursive: true, force: true }) };
});

describe('rest backend over https with a private CA (--cacert)', () => {
  let ca: TestCa;
  let tls: RcloneServer;
  beforeAll(async () => {
    ca = await makeTestCa();
    await writeFile(join(ca.dir, 'server.pem'), ca.certPem);
    tls = await startRclone(join(root, 'served-tls'), { tls: { certFile: join(ca.dir, 'server.pem'), keyFile: join(ca.dir, 'server.key') } });
  }, 30_000);
  afterAll(async () => {
    await tls?.stop();
    await ca?.cleanup();
  });

  it('trusts the server with the CA given, and refuses it (permanently, naming --cacert) without', async () => {
    const url = `rest:${tls.url}repo/`;
    const b = await openBackend(url, { caCerts: [ca.caFile] });
    try {
      await b.create();
      const data = new Uint8Array(randomBytes(100_000));
      const h = handleFor('pack', data);
      await b.save(h, data);
      expectBytes(await b.load(h, 10, 50_000), data.subarray(10, 50_010));
    } finally {
      await b.close();
    }
    const untrusting = new RestBackend(parseRestUrl(tls.url));
    try {
      const e = await expectCode(untrusting.stat({ type: 'config', name: 'config' }), 'ERR_BACKEND');
      expect(e.retryable).toBe(false);
      expect(e.message).toContain('--cacert');
    } finally {
      await untrusting.close();
    }
  });
});
