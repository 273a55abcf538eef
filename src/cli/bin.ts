#!/usr/bin/env node
/**
 * The `cairn` executable: builds the real `CliIo` from `process`, turns SIGINT/SIGTERM into an
 * abort (a second signal quits at once with 130), runs the CLI and sets `process.exitCode`.
 * This is the only file that touches process exit state.
 */
import type { CliIo } from './context.js';
import { run } from './main.js';

const controller = new AbortController();
let signals = 0;
function onSignal(signal: NodeJS.Signals): void {
  signals++;
  if (signals > 1) {
    process.stderr.write('cairn: second interrupt, quitting without cleaning up\n');
    process.exit(130);
  }
  process.stderr.write(`cairn: ${signal} received, cleaning up (press Ctrl-C again to quit at once)\n`);
  // The library is imported here, not at the top, so that `--version` and `--help` never load it;
  // while a command runs it is loaded already and the abort follows at once.
  void import('../index.js').then(({ CairnError }) => {
    controller.abort(new CairnError('ERR_INTERRUPTED', `interrupted by ${signal}`, { data: { signal } }));
  });
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

// `cairn … | head` closes stdout early: stop writing rather than crash with EPIPE.
let stdoutClosed = false;
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') stdoutClosed = true;
  else throw e;
});

const io: CliIo = {
  stdout: {
    write: (chunk) => {
      if (!stdoutClosed) process.stdout.write(chunk);
    },
    drain: () =>
      stdoutClosed || !process.stdout.writableNeedDrain
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            const done = (): void => {
              process.stdout.off('drain', done);
              process.stdout.off('close', done);
              process.stdout.off('error', done);
              resolve();
            };
            process.stdout.on('drain', done);
            process.stdout.on('close', done);
            process.stdout.on('error', done);
          }),
  },
  stderr: { write: (chunk) => void process.stderr.write(chunk) },
  stdin: process.stdin,
  env: process.env,
  cwd: process.cwd(),
  isTTY: {
    stdin: process.stdin.isTTY === true,
    stdout: process.stdout.isTTY === true,
    stderr: process.stderr.isTTY === true,
  },
  signal: controller.signal,
  columns: () => process.stdout.columns ?? 80,
};

try {
  process.exitCode = await run(process.argv.slice(2), io);
} catch (e) {
  // run() reports every error itself; reaching here is a bug in run().
  process.stderr.write(`cairn: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
} finally {
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}
