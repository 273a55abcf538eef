/**
 * Temporary directories that remove themselves: `tempDir(prefix)` makes `$TMPDIR/<prefix>XXXXXX`
 * and registers its removal with vitest, so a test never leaves files behind in /tmp.
 *
 * - Called inside a test (or a `beforeEach`/`afterEach`): removed when that test finishes
 *   (`onTestFinished`), pass or fail.
 * - Called at the top level of a test file or in a `describe` body (collection time): removed
 *   after that file or suite (`afterAll`).
 *
 * Not from inside `beforeAll`: vitest has no suite to attach an `afterAll` to at run time, so the
 * directory would stay. There, make it at the top level or in the `describe` body instead.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished, TestRunner } from 'vitest';

/** A fresh directory under the system temp directory, removed (recursively) when the test or file is done. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const remove = (): void => rmSync(dir, { recursive: true, force: true });
  if (TestRunner.getCurrentTest() !== undefined) onTestFinished(remove);
  else afterAll(remove);
  return dir;
}
