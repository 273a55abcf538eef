/**
 * Password → user key: scrypt(password bytes, 64-byte salt, N, r, p, dkLen = 64), split as
 * `encrypt = [0:32]`, `macK = [32:48]`, `macR = [48:64]` (restic's `crypto.KDF`).
 *
 * Limits. scrypt's memory is ~128·N·r bytes and its time grows with 128·N·r·p, and both come from
 * a key file anyone with write access to the repository can plant. cairn refuses (ERR_UNSUPPORTED)
 * parameters with 128·N·r > 1 GiB (memory) or 128·N·r·p > 2 GiB (work). restic 0.14 writes
 * N = 2^15, r = 8 (32 MiB) and calibrates p to ~0.5 s, which gives p ≈ 5–15 on current machines;
 * the work cap allows p ≤ 64 at those N and r, and older repositories' N = 2^16, r = 8, p = 1 pass.
 */
import { scrypt, randomBytes } from 'node:crypto';
import { CairnError, type ErrorCode } from '../errors.js';
import { masterKeyFromBytes, type MasterKey } from './master-key.js';

/** scrypt cost parameters as key files store them. */
export interface KdfParams {
  /** CPU/memory cost: a power of two > 1. */
  readonly N: number;
  /** Block size, ≥ 1. */
  readonly r: number;
  /** Parallelization (run sequentially: a time multiplier), ≥ 1. */
  readonly p: number;
}

/**
 * restic's starting point before calibration: N = 2^15, r = 8 (32 MiB), p = 1. `calibrateKdf`
 * raises p to spend the target time; use this uncalibrated value only where speed matters more.
 */
export const DEFAULT_KDF: KdfParams = Object.freeze({ N: 1 << 15, r: 8, p: 1 });

/** Salt length restic requires (its KDF rejects any other). */
export const SALT_SIZE = 64;

/** Cap on scrypt's memory, 128·N·r bytes. */
export const MAX_KDF_MEMORY = 1 << 30;

/** Cap on scrypt's work, 128·N·r·p bytes processed. */
export const MAX_KDF_WORK = 2 ** 31;

const USER_KEY_SIZE = 64;

/**
 * Why `params` cannot be used, or undefined when they can: ERR_CORRUPT for values scrypt itself
 * rejects, ERR_UNSUPPORTED for valid values beyond cairn's caps. Callers choose the code they raise
 * for the first kind (a key file: ERR_CORRUPT; a user's option: ERR_INVALID_ARGUMENT).
 */
export function kdfProblem(params: KdfParams): { code: ErrorCode; message: string } | undefined {
  const { N, r, p } = params;
  for (const [name, v] of [['N', N], ['r', r], ['p', p]] as const) {
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      return { code: 'ERR_CORRUPT', message: `scrypt parameter ${name} = ${String(v)} is not an integer` };
    }
  }
  if (N <= 1 || (N & (N - 1)) !== 0 || N > 2 ** 30) {
    return { code: 'ERR_CORRUPT', message: `scrypt parameter N = ${N} is not a power of two greater than 1` };
  }
  if (r < 1) return { code: 'ERR_CORRUPT', message: `scrypt parameter r = ${r} is less than 1` };
  if (p < 1) return { code: 'ERR_CORRUPT', message: `scrypt parameter p = ${p} is less than 1` };
  if (128 * N * r > MAX_KDF_MEMORY) {
    return {
      code: 'ERR_UNSUPPORTED',
      message: `scrypt parameters N = ${N}, r = ${r} need ${formatMiB(128 * N * r)} of memory, more than cairn's limit of ${formatMiB(MAX_KDF_MEMORY)}`,
    };
  }
  if (128 * N * r * p > MAX_KDF_WORK) {
    return {
      code: 'ERR_UNSUPPORTED',
      message: `scrypt parameters N = ${N}, r = ${r}, p = ${p} exceed cairn's work limit (128·N·r·p ≤ ${formatMiB(MAX_KDF_WORK)})`,
    };
  }
  return undefined;
}

function formatMiB(bytes: number): string {
  return `${bytes / (1 << 20)} MiB`;
}

function passwordBytes(password: string | Uint8Array): Uint8Array {
  return typeof password === 'string' ? new TextEncoder().encode(password) : password;
}

function scryptAsync(password: Uint8Array, salt: Uint8Array, params: KdfParams): Promise<Uint8Array> {
  const { N, r, p } = params;
  // OpenSSL needs 128·r·(N+2) bytes for V plus 128·r·p for B; the margin covers rounding.
  const maxmem = 128 * r * (N + 2) + 128 * r * p + (1 << 20);
  return new Promise((resolve, reject) => {
    scrypt(password, salt, USER_KEY_SIZE, { N, r, p, maxmem }, (err, key) => {
      if (err !== null) {
        reject(new CairnError('ERR_INTERNAL', `scrypt failed with N = ${N}, r = ${r}, p = ${p}: ${err.message}`, { cause: err }));
      } else {
        resolve(new Uint8Array(key.buffer, key.byteOffset, key.byteLength));
      }
    });
  });
}

/**
 * The user key for `password` (a string is used as its UTF-8 bytes, without Unicode
 * normalization; bytes are used as they are). Runs node:crypto's scrypt on the libuv pool.
 * ERR_INVALID_ARGUMENT for a salt that is not 64 bytes or parameters scrypt rejects,
 * ERR_UNSUPPORTED for parameters over the caps.
 */
export async function deriveUserKey(password: string | Uint8Array, salt: Uint8Array, params: KdfParams): Promise<MasterKey> {
  if (salt.length !== SALT_SIZE) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `scrypt salt is ${salt.length} bytes; restic key files use ${SALT_SIZE}`);
  }
  const problem = kdfProblem(params);
  if (problem !== undefined) {
    throw new CairnError(problem.code === 'ERR_CORRUPT' ? 'ERR_INVALID_ARGUMENT' : problem.code, problem.message, {
      data: { N: params.N, r: params.r, p: params.p },
    });
  }
  const bytes = await scryptAsync(passwordBytes(password), salt, params);
  const key = masterKeyFromBytes(bytes);
  bytes.fill(0);
  return key;
}

/**
 * Parses `N:r:p` (e.g. `1024:8:1`, a cheap setting for tests) into KDF parameters, validated as
 * key files are. ERR_INVALID_ARGUMENT (or ERR_UNSUPPORTED beyond the caps) naming the text.
 */
export function parseKdfSpec(spec: string): KdfParams {
  const m = /^\s*(\d{1,16})\s*:\s*(\d{1,16})\s*:\s*(\d{1,16})\s*$/.exec(spec);
  if (m === null) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `KDF parameters "${spec}" are not of the form N:r:p (for example 32768:8:4)`, {
      data: { value: spec },
    });
  }
  const params: KdfParams = { N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  const problem = kdfProblem(params);
  if (problem !== undefined) {
    throw new CairnError(problem.code === 'ERR_CORRUPT' ? 'ERR_INVALID_ARGUMENT' : problem.code, `KDF parameters "${spec}": ${problem.message}`, {
      data: { value: spec },
    });
  }
  return params;
}

async function timeDerivation(params: KdfParams, salt: Uint8Array): Promise<number> {
  const t0 = performance.now();
  await scryptAsync(new TextEncoder().encode('calibration'), salt, params);
  return performance.now() - t0;
}

/**
 * KDF parameters that take about `targetMs` per derivation on this machine, chosen like restic's
 * `crypto.Calibrate`: N = 2^15 and r = 8 (halving N, down to 2^10, only if one derivation with
 * p = 1 already exceeds the target), then p = ⌊target / time(p = 1)⌋ ≥ 1, re-measured and lowered
 * while a derivation overshoots. Costs a few derivations (~1–2 s at the default target).
 */
export async function calibrateKdf(targetMs = 500): Promise<KdfParams> {
  if (!(targetMs > 0) || !Number.isFinite(targetMs)) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `KDF calibration target ${targetMs} ms is not a positive duration`);
  }
  const salt = randomBytes(SALT_SIZE);
  const r = DEFAULT_KDF.r;
  let N = DEFAULT_KDF.N;
  // The first run warms up (page faults of the 32 MiB buffer); take the faster of two.
  let t = Math.min(await timeDerivation({ N, r, p: 1 }, salt), await timeDerivation({ N, r, p: 1 }, salt));
  while (t > targetMs && N > 1 << 10) {
    N >>= 1;
    t = await timeDerivation({ N, r, p: 1 }, salt);
  }
  const maxP = Math.max(1, Math.floor(MAX_KDF_WORK / (128 * N * r)));
  let p = Math.min(maxP, Math.max(1, Math.floor(targetMs / Math.max(t, 1e-3))));
  for (;;) {
    if (p === 1) break;
    const tp = await timeDerivation({ N, r, p }, salt);
    if (tp <= targetMs) break;
    p = Math.max(1, Math.floor(targetMs / (tp / p)));
  }
  return { N, r, p };
}
