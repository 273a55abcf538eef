/**
 * Shared machinery of the hostile-input fuzzers (spec/hostile-input.md): one seed, a check that a
 * decoder either returns or throws a CairnError with one of the codes it documents, within a time
 * and allocation bound, and generators of hostile input: arbitrary bytes, byte-level mutations,
 * hostile u32 fields, and JSON documents with one value replaced by something of the wrong kind
 * (wrong type, huge or negative numbers, NaN-like strings, very long strings, deep nesting).
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { CairnError, ERROR_CODES, type ErrorCode } from '../../src/errors.js';

export const SEED = 20261124;

/** Longest a single decode of a fuzzed input may take (generous: the machine is shared). */
export const DECODE_MS = 1000;

/** Longest error message a decoder may produce, however long its input. */
export const MAX_MESSAGE = 2000;

/** Most that one decode may add to process.memoryUsage().arrayBuffers. */
export const DECODE_BYTES = 64 << 20;

function preview(input: unknown): string {
  if (input instanceof Uint8Array) {
    const head = Buffer.from(input.subarray(0, 96));
    return `${input.length} bytes: ${JSON.stringify(head.toString('latin1'))}${input.length > 96 ? '…' : ''}`;
  }
  return String(input).slice(0, 200);
}

/**
 * Runs `decode`; returns its result, or undefined when it threw a CairnError whose code is one of
 * `codes` (each a documented code) and whose message is non-empty and names `what` when given.
 * Anything else — a TypeError, RangeError, SyntaxError, a plain Error, an undocumented code — fails
 * the test with the input that caused it. Also fails when the call took longer than `ms` or grew
 * the process's ArrayBuffer memory by more than `bytes`.
 */
export function typedOnly<T>(
  decode: () => T,
  codes: readonly ErrorCode[],
  options: { input?: unknown; what?: string; ms?: number; bytes?: number } = {},
): T | undefined {
  for (const c of codes) expect(ERROR_CODES).toHaveProperty(c);
  const ab0 = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  let result: T | undefined;
  let thrown: unknown;
  try {
    result = decode();
  } catch (e) {
    thrown = e;
  }
  const ms = performance.now() - t0;
  const grown = process.memoryUsage().arrayBuffers - ab0;
  const label = options.input === undefined ? '' : ` (input ${preview(options.input)})`;
  if (thrown !== undefined) {
    if (!(thrown instanceof CairnError)) {
      const e = thrown as Error;
      throw new Error(`decoder threw ${e?.constructor?.name ?? typeof e} instead of a CairnError: ${e?.message}${label}`, { cause: e });
    }
    expect(codes, `unexpected code ${thrown.code}: ${thrown.message}${label}`).toContain(thrown.code);
    expect(thrown.message.length).toBeGreaterThan(0);
    // A message quotes the input only in part: a 10 MB string read from storage is not echoed.
    expect(thrown.message.length, `message of ${thrown.message.length} characters: ${thrown.message.slice(0, 300)}…${label}`).toBeLessThan(MAX_MESSAGE);
    if (options.what !== undefined) expect(thrown.message, label).toContain(options.what);
  }
  expect(ms, `decode took ${ms.toFixed(0)} ms${label}`).toBeLessThan(options.ms ?? DECODE_MS);
  expect(grown, `decode grew ArrayBuffer memory by ${(grown / 2 ** 20).toFixed(1)} MiB${label}`).toBeLessThan(options.bytes ?? DECODE_BYTES);
  return result;
}

/** As typedOnly, for an async decoder. */
export async function typedOnlyAsync<T>(
  decode: () => Promise<T>,
  codes: readonly ErrorCode[],
  options: { input?: unknown; what?: string; ms?: number; bytes?: number } = {},
): Promise<T | undefined> {
  const ab0 = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  let result: T | undefined;
  let thrown: unknown;
  try {
    result = await decode();
  } catch (e) {
    thrown = e;
  }
  const ms = performance.now() - t0;
  const grown = process.memoryUsage().arrayBuffers - ab0;
  return typedOnly(
    () => {
      if (thrown !== undefined) throw thrown;
      return result as T;
    },
    codes,
    { ...options, ms: (options.ms ?? DECODE_MS) - ms, bytes: (options.bytes ?? DECODE_BYTES) - grown },
  );
}

/** ArrayBuffer memory and time of `f`, which must throw a CairnError with `code`. */
export function expectRefusal(f: () => unknown, code: ErrorCode): { ms: number; bytes: number; error: CairnError } {
  const ab0 = process.memoryUsage().arrayBuffers;
  const t0 = performance.now();
  let thrown: unknown;
  try {
    f();
  } catch (e) {
    thrown = e;
  }
  const ms = performance.now() - t0;
  const bytes = process.memoryUsage().arrayBuffers - ab0;
  expect(thrown, 'expected a refusal').toBeInstanceOf(CairnError);
  expect((thrown as CairnError).code, (thrown as Error).message).toBe(code);
  return { ms, bytes, error: thrown as CairnError };
}

// ---------------------------------------------------------------------------------------------
// Bytes

/** Arbitrary bytes, mostly short, sometimes a few KiB. */
export const bytesArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 128 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 128, maxLength: 4096 }) },
);

/** u32 values a hostile length or count field would hold. */
export const hostileU32Arb: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, 1, 31, 32, 33, 36, 37, 41, 73, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff, 16 << 20, (16 << 20) + 1),
  fc.integer({ min: 0, max: 0xffffffff }),
);

export interface ByteEdit {
  readonly kind: 'flip' | 'set' | 'insert' | 'delete' | 'duplicate' | 'truncate' | 'u32';
  readonly at: number;
  readonly len: number;
  readonly byte: number;
  readonly u32: number;
}

export const byteEditsArb: fc.Arbitrary<ByteEdit[]> = fc.array(
  fc.record({
    kind: fc.constantFrom<ByteEdit['kind']>('flip', 'set', 'insert', 'delete', 'duplicate', 'truncate', 'u32'),
    at: fc.nat(),
    len: fc.integer({ min: 1, max: 16 }),
    byte: fc.integer({ min: 0, max: 255 }),
    u32: hostileU32Arb,
  }),
  { minLength: 1, maxLength: 4 },
);

/** `bytes` with the edits applied (a new array). */
export function editBytes(bytes: Uint8Array, edits: readonly ByteEdit[]): Uint8Array {
  let b = Array.from(bytes);
  for (const e of edits) {
    const at = b.length === 0 ? 0 : e.at % b.length;
    switch (e.kind) {
      case 'flip':
        if (b.length > 0) b[at] = b[at]! ^ (e.byte || 1);
        break;
      case 'set':
        if (b.length > 0) b[at] = e.byte;
        break;
      case 'insert':
        b.splice(at, 0, ...Array.from({ length: e.len }, (_, i) => (e.byte + i) & 255));
        break;
      case 'delete':
        b.splice(at, e.len);
        break;
      case 'duplicate':
        b.splice(at, 0, ...b.slice(at, at + e.len));
        break;
      case 'truncate':
        b = b.slice(0, at);
        break;
      case 'u32':
        for (let i = 0; i < 4 && at + i < b.length; i++) b[at + i] = (e.u32 >>> (8 * i)) & 255;
        break;
    }
  }
  return new Uint8Array(b);
}

// ---------------------------------------------------------------------------------------------
// JSON

/** Nested arrays `depth` deep, as raw JSON text. */
export function deepArray(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

/** Nested objects `depth` deep, as raw JSON text. */
export function deepObject(depth: number): string {
  return '{"a":'.repeat(depth) + 'null' + '}'.repeat(depth);
}

/**
 * Raw JSON text of values a field should never hold: every wrong type, numbers out of every range
 * (negative, fractional, 2^32, past 2^53, past 2^64, overflowing a double), NaN-like and
 * number-like strings, control characters and lone surrogates, very long strings and arrays, and
 * nesting far past any parser's comfort.
 */
export const hostileJsonArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'null', 'true', 'false', '0', '-0', '-1', '1.5', '-1.5', '1e3', '4294967295', '4294967296', '9007199254740993',
    '18446744073709551615', '18446744073709551616', '1e308', '-1e308', '1e999', '-1e999', '123456789012345678901234567890',
    '""', '"NaN"', '"Infinity"', '"-Infinity"', '"0x10"', '" 1"', '"1e3"', '"-1"', '"\\u0000"', '"\\ud800"', '"\\udc00\\ud800"',
    '"\\/"', '"<script>"', '"2006-01-02T15:04:05Z"', '"10000-01-01T00:00:00Z"', '"0000-00-00T00:00:00Z"', '"aGVsbG8="', '"===="',
    '[]', '[null]', '[1,2,3]', '[""]', '[[]]', '{}', '{"__proto__":{"x":1}}', '{"constructor":1}', '{"":null}',
  ),
  fc.constantFrom(deepArray(50_000), deepObject(50_000), deepArray(10_001), `[${'1,'.repeat(100_000)}1]`),
  fc.integer({ min: 1, max: 200_000 }).map((n) => JSON.stringify('x'.repeat(n))),
  fc.string({ unit: 'binary', maxLength: 40 }).map((s) => JSON.stringify(s)),
  fc.double().map((d) => (Number.isFinite(d) ? String(d) : 'null')),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String),
);

type Path = (string | number)[];

function paths(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (Array.isArray(v)) {
    v.forEach((x, i) => {
      out.push([...prefix, i]);
      paths(x, [...prefix, i], out);
    });
  } else if (typeof v === 'object' && v !== null) {
    for (const [k, x] of Object.entries(v)) {
      out.push([...prefix, k]);
      paths(x, [...prefix, k], out);
    }
  }
  return out;
}

export interface JsonEdit {
  readonly kind: 'replace' | 'delete' | 'upcase' | 'duplicate';
  readonly at: number;
  readonly value: string;
}

export const jsonEditsArb: fc.Arbitrary<JsonEdit[]> = fc.array(
  fc.record({ kind: fc.constantFrom<JsonEdit['kind']>('replace', 'replace', 'replace', 'delete', 'upcase', 'duplicate'), at: fc.nat(), value: hostileJsonArb }),
  { minLength: 1, maxLength: 3 },
);

const HOLE = '\u0000HOSTILE\u0000';

/**
 * `doc` (a JSON document's text) with structural edits: one value (anywhere, or the whole
 * document) replaced by hostile raw JSON, a key deleted, a key upper-cased (Go matches keys
 * case-insensitively), or a key repeated with a hostile value after it.
 */
export function editJson(doc: string, edits: readonly JsonEdit[]): string {
  // The edits work on the parsed document with placeholders for hostile values, which go in as
  // raw text at the end (JSON.stringify could not write most of them).
  const root: { v: unknown } = { v: JSON.parse(doc) };
  const raws: string[] = [];
  const hole = (raw: string): string => {
    raws.push(raw);
    return HOLE + (raws.length - 1);
  };
  for (const e of edits) {
    const all = paths(root.v);
    const i = e.at % (all.length + 1);
    if (i === all.length) {
      if (e.kind === 'replace') root.v = hole(e.value);
      continue;
    }
    const path = all[i]!;
    const last = path[path.length - 1]!;
    let parent: any = root.v;
    for (const k of path.slice(0, -1)) parent = parent[k];
    if (e.kind === 'replace') parent[last] = hole(e.value);
    else if (e.kind === 'delete') {
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete parent[last];
    } else if (typeof last === 'string') {
      // Rebuild the object to keep key order, with the renamed or repeated key in place.
      const rebuilt: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(parent)) {
        if (k !== last) rebuilt[k] = x;
        else if (e.kind === 'upcase') rebuilt[k.toUpperCase() === k ? k.toLowerCase() : k.toUpperCase()] = x;
        else {
          rebuilt[k] = x;
          rebuilt[k + HOLE + 'dup'] = hole(e.value);
        }
      }
      for (const k of Object.keys(parent)) delete parent[k];
      Object.assign(parent, rebuilt);
    }
  }
  let text = JSON.stringify(root.v);
  // A repeated key: JSON.stringify cannot write one, so the marked copy is renamed afterwards.
  text = text.split(JSON.stringify(HOLE + 'dup').slice(1, -1)).join('');
  raws.forEach((raw, j) => {
    text = text.replace(JSON.stringify(HOLE + j), () => raw);
  });
  return text;
}
