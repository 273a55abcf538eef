/**
 * What a call did, as a comparable value: its result, or the CairnError it threw (code, message,
 * data). For property tests that hold a new function to an old one's exact behaviour.
 */
import { CairnError } from '../../src/errors.js';

export type Outcome<T = Uint8Array> = { readonly ok: T } | { readonly code: string; readonly message: string; readonly data: unknown };

/** `f`'s outcome; anything thrown that is not a CairnError is rethrown. */
export function outcome<T = Uint8Array>(f: () => T): Outcome<T> {
  try {
    return { ok: f() };
  } catch (e) {
    if (!(e instanceof CairnError)) throw e;
    return { code: e.code, message: e.message, data: e.data };
  }
}
