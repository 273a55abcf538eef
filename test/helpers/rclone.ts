/**
 * Starts `rclone serve restic` (restic's REST protocol v2 server; rclone 1.60 is installed) on
 * 127.0.0.1 at a free port, serving a directory, and waits until it answers. `stop()` kills it
 * (by its own pid) and waits for it to exit. Set `CAIRN_RCLONE` to use another binary.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';

export const RCLONE_BIN = process.env['CAIRN_RCLONE'] ?? 'rclone';

/** rclone's version line, or undefined if it cannot run. */
export function rcloneVersion(): string | undefined {
  const r = spawnSync(RCLONE_BIN, ['version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return undefined;
  return r.stdout.split('\n')[0]?.trim();
}

export interface RcloneServerOptions {
  /** Basic auth: rclone's `--user`/`--pass`. */
  readonly user?: string;
  readonly pass?: string;
  /** Serve https with this certificate and key (PEM files): rclone's `--cert`/`--key`. */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** More arguments for `rclone serve restic` (e.g. `--append-only`). */
  readonly args?: readonly string[];
}

export interface RcloneServer {
  /** `http://127.0.0.1:PORT/` (https with `tls`). */
  readonly url: string;
  readonly port: number;
  /** The directory served. */
  readonly dir: string;
  /** What rclone printed on stderr so far (for failure messages). */
  log(): string;
  stop(): Promise<void>;
}

/** A port nobody listens on right now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once an HTTP request to the server gets any answer. */
function probe(port: number, tls: boolean): Promise<boolean> {
  return new Promise((resolve) => {
    const send = tls ? httpsRequest : request;
    const req = send({ host: '127.0.0.1', port, method: 'HEAD', path: '/config', agent: false, timeout: 1000, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(true);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** Starts rclone serving `dir` (created by rclone on first write); tries another port if taken. */
export async function startRclone(dir: string, options: RcloneServerOptions = {}): Promise<RcloneServer> {
  let lastLog = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const args = ['serve', 'restic', '--addr', `127.0.0.1:${port}`, ...(options.user !== undefined ? ['--user', options.user, '--pass', options.pass ?? ''] : []), ...(options.tls !== undefined ? ['--cert', options.tls.certFile, '--key', options.tls.keyFile] : []), ...(options.args ?? []), dir];
    const child: ChildProcess = spawn(RCLONE_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RCLONE_CONFIG: '/dev/null' } });
    let log = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      log += s;
    });
    let exited = false;
    const exit = new Promise<void>((resolve) => {
      child.once('exit', () => {
        exited = true;
        resolve();
      });
      child.once('error', (e) => {
        log += String(e);
        exited = true;
        resolve();
      });
    });
    const deadline = Date.now() + 10_000;
    while (!exited && Date.now() < deadline) {
      if (await probe(port, options.tls !== undefined)) {
        return {
          url: `${options.tls !== undefined ? 'https' : 'http'}://127.0.0.1:${port}/`,
          port,
          dir,
          log: () => log,
          stop: async () => {
            if (!exited) {
              child.kill('SIGTERM');
              const t = setTimeout(() => child.kill('SIGKILL'), 3000);
              await exit;
              clearTimeout(t);
            }
          },
        };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!exited) {
      child.kill('SIGKILL');
      await exit;
    }
    lastLog = log;
  }
  throw new Error(`rclone serve restic did not start: ${lastLog.trim()}`);
}
