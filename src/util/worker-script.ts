import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CairnError } from '../errors.js';

/**
 * The URL of a compiled worker script: `name` relative to the module `moduleUrl` (pass
 * `import.meta.url`), written from the source root's level (`../repository/blob-worker.js`), so
 * that it resolves the same from `dist/<module>/` and from the bundled CLI in `dist/cli/`. When the
 * module runs from TypeScript sources (the test runner), the compiled script is taken from the
 * same place under `dist/`: `npm test` builds first.
 */
export function workerScriptUrl(moduleUrl: string, name: string): URL {
  const sibling = new URL(name, moduleUrl);
  if (existsSync(sibling)) return sibling;
  const path = fileURLToPath(sibling);
  const idx = path.lastIndexOf('/src/');
  if (idx >= 0) {
    const built = path.slice(0, idx) + '/dist/' + path.slice(idx + 5);
    if (existsSync(built)) return pathToFileURL(built);
  }
  throw new CairnError('ERR_WORKER', `worker script ${name} not found next to ${fileURLToPath(moduleUrl)} nor under dist/; run \`npm run build\``, { data: { name } });
}
