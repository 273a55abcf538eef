/**
 * Fast byte comparison for tests: vitest's `toEqual` walks typed arrays element by element (slow
 * for tens of KiB); this compares natively and reports the first difference.
 */
import { expect } from 'vitest';

export function expectBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const b = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (a.equals(b)) return;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  expect.fail(`${what} differ: lengths ${a.length} vs ${b.length}, first difference at byte ${i}`);
}
