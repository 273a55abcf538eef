/** Running crypto tests against both seal implementations. */
import { afterAll, beforeAll, describe } from 'vitest';
import { useNativeSeal } from '../../src/crypto/index.js';

/** Defines `body`'s tests twice: with the native addon's seal, and with node:crypto + libsodium. */
export function describeEachSeal(body: () => void): void {
  describe.each([
    ['native addon', true],
    ['node:crypto + libsodium', false],
  ] as const)('%s', (_name, native) => {
    beforeAll(() => useNativeSeal(native));
    afterAll(() => useNativeSeal(true));
    body();
  });
}
