import { isCairnError, type ErrorCode } from '../../src/errors.js';

/** The CairnError code `f` throws, or undefined when it returns; anything else is rethrown. */
export function codeOf(f: () => unknown): ErrorCode | undefined {
  try {
    f();
  } catch (e) {
    if (isCairnError(e)) return e.code;
    throw e;
  }
  return undefined;
}
