/**
 * The one conformance suite every backend runs (restic `backend/test/tests.go` is the model):
 * `backendConformance(name, make)` registers a test for each MUST rule of the contract in
 * src/backend/types.ts. `make` returns a fresh, empty backend (not yet `create()`d) and a
 * cleanup; each test gets its own.
 */
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isCairnError, type ErrorCode } from '../../src/errors.js';
import type { Backend, FileInfo, Handle } from '../../src/backend/index.js';
import type { FileType } from '../../src/model/index.js';

export interface BackendFixture {
  readonly backend: Backend;
  cleanup(): Promise<void>;
}

const ID_TYPES: readonly Exclude<FileType, 'config'>[] = ['key', 'pack', 'index', 'snapshot', 'lock'];
const ALL_TYPES: readonly FileType[] = ['config', ...ID_TYPES];
const CONFIG: Handle = { type: 'config', name: 'config' };

/** restic's own test strings and their SHA-256 IDs (two contain slashes and dots). */
const RESTIC_STRINGS = [
  { id: 'c3ab8ff13720e8ad9047dd39466b3c8974e592c2fa383d4a3960714caef0c4f2', data: 'foobar' },
  { id: '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1', data: 'abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq' },
  { id: 'cc5d46bdb4991c6eae3eb739c9c8a7a46fe9654fab79c47b4fe48383b5b25e1c', data: 'foo/bar' },
  { id: '4e54d2c721cbdb730f01b10b62dec622962b36966ec685880effa63d71c808f2', data: 'foo/../../baz' },
] as const;

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A handle named by the SHA-256 of `data`, as restic names every file but config. */
export function handleFor(type: Exclude<FileType, 'config'>, data: Uint8Array): Handle {
  return { type, name: sha256Hex(data) };
}

/** Deterministic pseudo-random numbers (xorshift32), so failures can be replayed. */
export function rng(seed: number): (n: number) => number {
  let s = seed >>> 0 || 1;
  return (n) => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % n;
  };
}

export async function collect(it: AsyncIterable<FileInfo>): Promise<FileInfo[]> {
  const out: FileInfo[] = [];
  for await (const fi of it) out.push(fi);
  return out;
}

/** The listing of `type` as a sorted array of `name:size`, failing on a name listed twice. */
export async function listing(b: Backend, type: FileType): Promise<string[]> {
  const files = await collect(b.list(type));
  const names = files.map((f) => f.name);
  expect(new Set(names).size, `duplicate names in list(${type})`).toBe(names.length);
  return files.map((f) => `${f.name}:${f.size}`).sort();
}

/**
 * Expects `actual` to hold exactly the bytes of `expected` (fast, unlike a deep toEqual of large
 * arrays), and to be a plain Uint8Array: a Buffer's `slice` shares memory, a trap for the core.
 */
export function expectBytes(actual: Uint8Array, expected: Uint8Array, what = 'bytes'): void {
  expect(Object.getPrototypeOf(actual), `${what}: a plain Uint8Array`).toBe(Uint8Array.prototype);
  expect(actual.length, `${what}: length`).toBe(expected.length);
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength);
  const e = Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength);
  if (!a.equals(e)) {
    let i = 0;
    while (a[i] === e[i]) i++;
    expect.fail(`${what}: differ first at byte ${i} of ${a.length}`);
  }
}

/** Awaits `p`, expecting a CairnError with `code`; returns it. */
export async function expectCode(p: Promise<unknown>, code: ErrorCode): Promise<{ code: string; data: Readonly<Record<string, unknown>>; retryable: boolean; message: string }> {
  try {
    await p;
  } catch (e) {
    if (!isCairnError(e)) throw new Error(`expected CairnError ${code}, got ${String(e)}`, { cause: e });
    expect(e.code, e.message).toBe(code);
    return e;
  }
  throw new Error(`expected CairnError ${code}, but the call succeeded`);
}

export function backendConformance(name: string, make: () => Promise<BackendFixture>): void {
  /** Runs `fn` with a fresh, created backend and always cleans up. */
  const withBackend = async (fn: (b: Backend) => Promise<void>, create = true): Promise<void> => {
    const { backend, cleanup } = await make();
    try {
      if (create) await backend.create();
      await fn(backend);
    } finally {
      await backend.close();
      await cleanup();
    }
  };

  describe(`backend conformance: ${name}`, () => {
    it('names its location', () =>
      withBackend(async (b) => {
        expect(typeof b.location).toBe('string');
        expect(b.location.length).toBeGreaterThan(0);
      }));

    it('a new backend lists nothing, of any type', () =>
      withBackend(async (b) => {
        for (const t of ALL_TYPES) expect(await listing(b, t), t).toEqual([]);
      }));

    it('create() refuses a location that has a config (ERR_REPO_EXISTS), and works again once it is gone', () =>
      withBackend(async (b) => {
        await b.create(); // a second create without a config is harmless
        await b.save(CONFIG, utf8('test config'));
        const e = await expectCode(b.create(), 'ERR_REPO_EXISTS');
        expect(e.message).toContain(b.location);
        expectBytes(await b.load(CONFIG), utf8('test config')); // create() changed nothing
        await b.remove(CONFIG);
        await b.create();
      }));

    it('config: missing is ERR_NOT_FOUND; saved, it loads, stats and lists under the name config', () =>
      withBackend(async (b) => {
        const e = await expectCode(b.load(CONFIG), 'ERR_NOT_FOUND');
        expect(e.data).toMatchObject({ type: 'config', name: 'config' });
        await expectCode(b.stat(CONFIG), 'ERR_NOT_FOUND');
        const data = randomBytes(155);
        await b.save(CONFIG, data);
        expectBytes(await b.load(CONFIG), data);
        expect(await b.stat(CONFIG)).toEqual({ name: 'config', size: 155 });
        expect(await listing(b, 'config')).toEqual(['config:155']);
        for (const t of ID_TYPES) expect(await listing(b, t), t).toEqual([]);
      }));

    it('save then load round-trips the bytes: empty, 1 byte, several MiB', () =>
      withBackend(async (b) => {
        for (const size of [0, 1, 5 * 1024 * 1024 + 17]) {
          const data = new Uint8Array(randomBytes(size));
          const h = handleFor('pack', data);
          await b.save(h, data);
          const back = await b.load(h);
          expect(back.length).toBe(size);
          expect(sha256Hex(back)).toBe(h.name);
          expect(await b.stat(h)).toEqual({ name: h.name, size });
          expectBytes(back, data, `${size} bytes`);
          if (size > 0) expectBytes(await b.load(h, 0, 1), data.subarray(0, 1));
        }
        expect((await listing(b, 'pack')).length).toBe(3);
      }));

    it('every type stores the names restic uses and lists only its own files, with sizes', () =>
      withBackend(async (b) => {
        for (const t of ID_TYPES) {
          for (const ts of RESTIC_STRINGS) {
            const h: Handle = { type: t, name: ts.id };
            await expectCode(b.stat(h), 'ERR_NOT_FOUND');
            await b.save(h, utf8(ts.data));
            expect(new TextDecoder().decode(await b.load(h))).toBe(ts.data);
            const mid = await b.load(h, 1, ts.data.length - 3);
            expect(new TextDecoder().decode(mid)).toBe(ts.data.slice(1, -2));
          }
        }
        await b.save(CONFIG, utf8('config bytes'));
        const want = RESTIC_STRINGS.map((ts) => `${ts.id}:${ts.data.length}`).sort();
        for (const t of ID_TYPES) expect(await listing(b, t), t).toEqual(want);
        expect(await listing(b, 'config')).toEqual(['config:12']);
        // Each type is its own namespace: removing a key leaves the pack of the same name.
        await b.remove({ type: 'key', name: RESTIC_STRINGS[0].id });
        expect(await listing(b, 'key')).toEqual(want.slice().filter((s) => !s.startsWith(RESTIC_STRINGS[0].id)));
        expect(await listing(b, 'pack')).toEqual(want);
        expect(new TextDecoder().decode(await b.load({ type: 'pack', name: RESTIC_STRINGS[0].id }))).toBe('foobar');
      }));

    it('lists many packs (spread over data/xx) with their sizes, each once', () =>
      withBackend(async (b) => {
        const r = rng(7);
        const want: string[] = [];
        for (let i = 0; i < 40; i++) {
          const data = new Uint8Array(randomBytes(55 + r(100)));
          const h = handleFor('pack', data);
          await b.save(h, data);
          want.push(`${h.name}:${data.length}`);
        }
        expect(await listing(b, 'pack')).toEqual(want.sort());
        for (const t of ID_TYPES.filter((t) => t !== 'pack')) expect(await listing(b, t), t).toEqual([]);
      }));

    it('ranged loads return exactly the bytes asked for', () =>
      withBackend(async (b) => {
        const size = 10_000;
        const data = new Uint8Array(randomBytes(size));
        const h = handleFor('pack', data);
        await b.save(h, data);
        const cases: Array<[number, number | undefined]> = [
          [0, undefined], [0, 0], [0, size], [1, size - 2], [size - 1, 1], [size - 1, undefined],
          [size, undefined], [size, 0], [123, undefined], [4096, 4096], [0, 1],
        ];
        const r = rng(42);
        for (let i = 0; i < 50; i++) {
          const o = r(size + 1);
          cases.push([o, r(2) === 0 ? undefined : r(size - o + 1)]);
        }
        for (const [o, l] of cases) {
          const got = await b.load(h, o, l);
          const end = l === undefined ? size : o + l;
          expectBytes(got, data.subarray(o, end), `load(${o}, ${String(l)})`);
        }
      }));

    it('a range past the end of the file, or a bad offset or length, is ERR_INVALID_ARGUMENT', () =>
      withBackend(async (b) => {
        const data = new Uint8Array(randomBytes(1000));
        const h = handleFor('index', data);
        await b.save(h, data);
        const bad: Array<[number, number | undefined]> = [
          [0, 1001], [999, 2], [1000, 1], [1001, undefined], [1001, 0], [5000, 10],
          [-1, undefined], [-1, 10], [0, -1], [0.5, 10], [0, 1.5], [Number.NaN, undefined], [0, Number.POSITIVE_INFINITY],
        ];
        for (const [o, l] of bad) {
          const e = await expectCode(b.load(h, o, l), 'ERR_INVALID_ARGUMENT');
          expect(e.data, `load(${o}, ${String(l)})`).toMatchObject({ type: 'index', name: h.name });
        }
        // and the file is still whole
        expectBytes(await b.load(h), data);
      }));

    it('a missing file is ERR_NOT_FOUND with { type, name } for load, stat and remove', () =>
      withBackend(async (b) => {
        for (const t of ID_TYPES) {
          const h: Handle = { type: t, name: RESTIC_STRINGS[1].id };
          const calls = [['load', () => b.load(h)], ['ranged load', () => b.load(h, 1, 2)], ['stat', () => b.stat(h)], ['remove', () => b.remove(h)]] as const;
          for (const [what, call] of calls) {
            const e = await expectCode(call(), 'ERR_NOT_FOUND');
            expect(e.data, `${what} ${t}`).toEqual({ type: t, name: h.name });
            expect(e.retryable).toBe(false);
          }
        }
        for (const call of [() => b.load(CONFIG), () => b.stat(CONFIG), () => b.remove(CONFIG)]) {
          expect((await expectCode(call(), 'ERR_NOT_FOUND')).data).toEqual({ type: 'config', name: 'config' });
        }
      }));

    it('remove deletes the file: gone from load, stat and list, and removing it again is ERR_NOT_FOUND', () =>
      withBackend(async (b) => {
        for (const t of ALL_TYPES) {
          const data = new Uint8Array(randomBytes(300));
          const h: Handle = t === 'config' ? CONFIG : handleFor(t, data);
          await b.save(h, data);
          await b.remove(h);
          await expectCode(b.load(h), 'ERR_NOT_FOUND');
          await expectCode(b.stat(h), 'ERR_NOT_FOUND');
          await expectCode(b.remove(h), 'ERR_NOT_FOUND');
          expect(await listing(b, t), t).toEqual([]);
          await b.save(h, data); // and it can be saved again
          expectBytes(await b.load(h), data);
        }
      }));

    it('saving a name that exists replaces the file (longer, then shorter)', () =>
      withBackend(async (b) => {
        for (const t of ALL_TYPES) {
          const h: Handle = t === 'config' ? CONFIG : { type: t, name: RESTIC_STRINGS[2].id };
          const big = new Uint8Array(randomBytes(70_000));
          const small = new Uint8Array(randomBytes(10));
          await b.save(h, small);
          await b.save(h, big);
          expectBytes(await b.load(h), big);
          await b.save(h, small);
          expectBytes(await b.load(h), small);
          expect(await b.stat(h)).toEqual({ name: h.name, size: 10 });
          expect(await listing(b, t)).toEqual([`${h.name}:10`]);
        }
      }));

    it('stored bytes are private: changing the saved or the loaded array afterwards changes nothing', () =>
      withBackend(async (b) => {
        const data = new Uint8Array(randomBytes(64));
        const copy = data.slice();
        const h = handleFor('snapshot', copy);
        await b.save(h, data);
        data.fill(0);
        const first = await b.load(h);
        expectBytes(first, copy);
        first.fill(1);
        expectBytes(await b.load(h), copy);
        // a view into a larger buffer saves only the view
        const outer = new Uint8Array(randomBytes(100));
        const view = outer.subarray(10, 20);
        const hv = handleFor('lock', view);
        await b.save(hv, view);
        expectBytes(await b.load(hv), outer.slice(10, 20));
      }));

    it('names that are not valid for the type are refused (ERR_INVALID_ARGUMENT) and reach nothing', () =>
      withBackend(async (b) => {
        const id = RESTIC_STRINGS[0].id;
        const bad: Handle[] = [
          { type: 'pack', name: 'foobar' },
          { type: 'pack', name: '' },
          { type: 'key', name: '../config' },
          { type: 'index', name: `../keys/${id}` },
          { type: 'snapshot', name: id.toUpperCase() },
          { type: 'lock', name: id.slice(1) },
          { type: 'pack', name: `${id}0` },
          { type: 'config', name: id },
          { type: 'config', name: '' },
          { type: 'nonsense' as FileType, name: id },
        ];
        for (const h of bad) {
          await expectCode(b.save(h, utf8('x')), 'ERR_INVALID_ARGUMENT');
          await expectCode(b.load(h), 'ERR_INVALID_ARGUMENT');
          await expectCode(b.stat(h), 'ERR_INVALID_ARGUMENT');
          await expectCode(b.remove(h), 'ERR_INVALID_ARGUMENT');
        }
        await expectCode(collect(b.list('nonsense' as FileType)), 'ERR_INVALID_ARGUMENT');
        for (const t of ALL_TYPES) expect(await listing(b, t), t).toEqual([]);
      }));

    it('many saves and loads at once: every file arrives whole', () =>
      withBackend(async (b) => {
        const r = rng(99);
        const fixed = new Uint8Array(randomBytes(300_000));
        const hf = handleFor('pack', fixed);
        await b.save(hf, fixed);
        const files = Array.from({ length: 48 }, (_, i) => {
          const data = new Uint8Array(randomBytes(i % 7 === 0 ? 0 : r(200_000)));
          return { h: handleFor(ID_TYPES[i % ID_TYPES.length]!, data), data };
        });
        const loads = Array.from({ length: 16 }, () => b.load(hf));
        await Promise.all([...files.map((f) => b.save(f.h, f.data)), ...loads]);
        for (const l of await Promise.all(loads)) expect(sha256Hex(l)).toBe(hf.name);
        const back = await Promise.all(files.map((f) => b.load(f.h)));
        back.forEach((d, i) => expect(sha256Hex(d), `file ${i}`).toBe(files[i]!.h.name));
        for (const t of ID_TYPES) {
          const want = files.filter((f) => f.h.type === t).map((f) => `${f.h.name}:${f.data.length}`);
          if (t === 'pack') want.push(`${hf.name}:${fixed.length}`);
          expect(await listing(b, t), t).toEqual([...new Set(want)].sort());
        }
      }));

    it('the same name saved twice at once ends as one of the two, whole', () =>
      withBackend(async (b) => {
        const h: Handle = { type: 'pack', name: RESTIC_STRINGS[3].id };
        for (let round = 0; round < 5; round++) {
          const a = new Uint8Array(randomBytes(1024 * 1024));
          const c = new Uint8Array(randomBytes(512 * 1024 + round));
          await Promise.all([b.save(h, a), b.save(h, c)]);
          const got = sha256Hex(await b.load(h));
          expect([sha256Hex(a), sha256Hex(c)]).toContain(got);
          const size = (await b.stat(h)).size;
          expect(size).toBe(got === sha256Hex(a) ? a.length : c.length);
          expect(await listing(b, 'pack')).toEqual([`${h.name}:${size}`]);
        }
      }));
  });
}
