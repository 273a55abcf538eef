/**
 * Bundles the CLI into one file, dist/cli/cairn.js (the package's `cairn` executable): src/cli/bin.ts
 * and everything it imports, commander included, so that a command starts without resolving and
 * loading ~160 ES modules one by one (spec/performance.md, "Startup"). Commands' code stays lazy
 * inside the bundle (each action runs its module's initialiser only when the command runs).
 *
 * Left outside: the native packages (zstd-napi, sodium-native: loaded with `require` at run time)
 * and the AWS SDK (imported only when an S3 repository is used). The worker scripts are not in the
 * bundle: the workers load dist/repository/blob-worker.js and dist/chunker/parallel-worker.js,
 * which `tsc` builds; paths resolved from `import.meta.url` are written from the source root's
 * level (src/util/worker-script.ts), so they resolve the same from dist/cli/.
 *
 * Run by `npm run build` after `tsc`.
 */
import { chmod } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outfile = `${root}dist/cli/cairn.js`;

await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/bin.ts'],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['zstd-napi', 'zstd-napi/*', 'sodium-native', '@aws-sdk/*'],
  // commander is CommonJS: its `require` of Node's modules needs a `require` in an ES module.
  banner: { js: "import { createRequire as cairnCreateRequire } from 'node:module'; const require = cairnCreateRequire(import.meta.url);" },
  sourcemap: 'linked',
  logLevel: 'warning',
});
await chmod(outfile, 0o755);
