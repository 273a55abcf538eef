/**
 * s3rver (a fake S3 server on the file system) on 127.0.0.1 and a free port, over HTTP, or over
 * HTTPS with a certificate from test-ca.ts. Its one account is S3RVER / S3RVER (access key /
 * secret); it checks signatures, so other keys get InvalidAccessKeyId.
 *
 * It runs in a child Node process started with `--openssl-legacy-provider`: s3rver 3.7 encrypts
 * ListObjectsV2 continuation tokens with DES, which OpenSSL 3 only has in its legacy provider, so
 * without it every listing of more than 1000 objects fails with HTTP 500. The child also makes
 * concurrent PUTs of one key take turns: s3rver writes the object and its metadata in place, so
 * two PUTs at once could leave one's bytes under the other's length, where real S3 keeps one of
 * the two whole (the contract's atomic save is about S3, not about s3rver's shortcuts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export const S3RVER_KEYS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' } as const;

export interface S3Server {
  /** `http://127.0.0.1:PORT` or `https://127.0.0.1:PORT`. */
  readonly endpoint: string;
  readonly port: number;
  /** Where s3rver keeps buckets (bucket = directory, object = `KEY._S3rver_object`). */
  readonly directory: string;
  close(): Promise<void>;
}

const CHILD = `
const S3rver = require(process.env.S3RVER_MODULE);
const server = new S3rver({
  address: '127.0.0.1', port: 0, silent: true, vhostBuckets: false, directory: process.env.S3RVER_DIR,
  ...(process.env.S3RVER_KEY ? { key: process.env.S3RVER_KEY, cert: process.env.S3RVER_CERT } : {}),
});
const store = server.store;
const put = store.putObject.bind(store);
const turns = new Map();
store.putObject = (object) => {
  const id = object.bucket + '/' + object.key;
  const run = (turns.get(id) || Promise.resolve()).then(() => put(object));
  const done = run.catch(() => undefined);
  turns.set(id, done);
  done.then(() => { if (turns.get(id) === done) turns.delete(id); });
  return run;
};
server.run().then((a) => process.stdout.write(JSON.stringify({ port: a.port }) + '\\n'), (e) => { console.error(e); process.exit(1); });
process.on('SIGTERM', () => { setTimeout(() => process.exit(0), 300).unref(); server.close().finally(() => process.exit(0)); });
`;

export async function startS3Server(tls?: { keyPem: string; certPem: string }): Promise<S3Server> {
  const directory = await mkdtemp(join(tmpdir(), 'cairn-s3rver-'));
  const child: ChildProcess = spawn(process.execPath, ['--openssl-legacy-provider', '-e', CHILD], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env['PATH'],
      S3RVER_MODULE: createRequire(import.meta.url).resolve('s3rver'),
      S3RVER_DIR: directory,
      ...(tls !== undefined ? { S3RVER_KEY: tls.keyPem, S3RVER_CERT: tls.certPem } : {}),
    },
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once('exit', (code) => reject(new Error(`s3rver exited (${String(code)}) before it listened: ${stderr}`)));
    child.once('error', reject);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    endpoint: `${tls !== undefined ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    directory,
    close: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
      await rm(directory, { recursive: true, force: true });
    },
  };
}
