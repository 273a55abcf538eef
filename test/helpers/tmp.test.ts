/**
 * tempDir: a directory made in a test is gone once that test is over; one made while the file is
 * collected lives through the file's tests (and is removed after them).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './tmp.js';

const fileLevel = tempDir('cairn-tmp-test-file-');

describe('tempDir', () => {
  const suiteLevel = tempDir('cairn-tmp-test-suite-');
  let madeInTest = '';

  it('makes an empty directory with the prefix', () => {
    madeInTest = tempDir('cairn-tmp-test-');
    expect(madeInTest).toMatch(/cairn-tmp-test-[^/]{6}$/);
    expect(existsSync(madeInTest)).toBe(true);
    writeFileSync(join(madeInTest, 'f'), 'x');
  });

  it("removes a test's directory, with its files, when that test finishes", () => {
    expect(madeInTest).not.toBe('');
    expect(existsSync(madeInTest)).toBe(false);
  });

  it('keeps file- and suite-level directories through the tests', () => {
    expect(existsSync(fileLevel)).toBe(true);
    expect(existsSync(suiteLevel)).toBe(true);
  });
});
