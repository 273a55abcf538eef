/**
 * The key library (src/repository/keys.ts) on an in-memory backend: listing (a damaged key file is
 * a warning, not a failure), finding by prefix, the refusals of removeKey, the verification of a
 * new key, and changePassword's order (add, verify, then remove; a failed removal leaves both keys
 * working and says so).
 */
import { describe, expect, it } from 'vitest';
import { MemoryBackend } from '../../src/backend/index.js';
import { isCairnError } from '../../src/errors.js';
import type { Id } from '../../src/model/index.js';
import {
  addPassword, changePassword, findKey, listKeys, Repository, removeKey, type KeyWarning,
} from '../../src/repository/index.js';

const KDF = { N: 1024, r: 8, p: 1 };
const PW = 'old password';

async function newRepo(): Promise<{ backend: MemoryBackend; repo: Repository }> {
  const backend = new MemoryBackend();
  const repo = await Repository.init(backend, PW, { kdf: KDF });
  return { backend, repo };
}

function keyNames(backend: MemoryBackend): string[] {
  return backend.files().filter((f) => f.handle.type === 'key').map((f) => f.handle.name).sort();
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  if (!isCairnError(e)) throw new Error(`expected a CairnError, got ${String(e)}`);
  return e.code;
}

describe('key library', () => {
  it('listKeys: oldest first with the current one marked; an unreadable key file is a warning and left out', async () => {
    const { backend, repo } = await newRepo();
    const added = await addPassword(repo, PW, 'new', { kdf: KDF, username: 'ann', hostname: 'laptop' });
    backend.put({ type: 'key', name: 'ab'.repeat(32) }, new TextEncoder().encode('{"not":"a key"}'));
    const warnings: KeyWarning[] = [];
    const keys = await listKeys(repo, { onWarning: (w) => warnings.push(w) });
    expect(keys.map((k) => [k.id, k.current, k.username, k.hostname])).toEqual([
      [repo.keyId, true, expect.any(String), expect.any(String)],
      [added, false, 'ann', 'laptop'],
    ]);
    expect(warnings).toEqual([expect.objectContaining({ code: 'KEY_UNREADABLE', key: 'ab'.repeat(32) })]);
    await repo.close();
  });

  it('open: a damaged key file is skipped (warning naming it); a wrong password names it; when it is the only key the repository cannot be opened', async () => {
    const { backend, repo } = await newRepo();
    const second = await addPassword(repo, PW, 'second', { kdf: KDF });
    await repo.close();
    // damage the first key file: its password is lost, the second one's is not
    const first = keyNames(backend).find((n) => n !== second)!;
    const bytes = backend.files().find((f) => f.handle.type === 'key' && f.handle.name === first)!.data.slice();
    bytes[40] = bytes[40]! ^ 1;
    backend.put({ type: 'key', name: first }, bytes);
    const warnings: KeyWarning[] = [];
    const opened = await Repository.open(backend, 'second', { onKeyWarning: (w) => warnings.push(w) });
    expect(opened.keyId).toBe(second);
    await opened.close();
    expect(warnings).toEqual([expect.objectContaining({ code: 'KEY_UNREADABLE', key: first })]);
    const wrong = await Repository.open(backend, 'nope').then(() => undefined, (e: unknown) => e);
    expect(wrong).toMatchObject({ code: 'ERR_WRONG_PASSWORD', data: { keysTried: 1, damagedKeys: [first] } });
    expect((wrong as Error).message).toContain(`keys/${first}`);
    backend.delete({ type: 'key', name: second });
    const only = await Repository.open(backend, PW).then(() => undefined, (e: unknown) => e);
    expect(only).toMatchObject({ code: 'ERR_CORRUPT' });
    expect((only as Error).message).toMatch(/cannot be opened: its only key file is damaged/);
  });

  it('findKey: full ID, prefix in any case; none and several are distinct errors', async () => {
    const backend = new MemoryBackend();
    const a = `abc1${'0'.repeat(60)}`;
    const b = `abc2${'0'.repeat(60)}`;
    for (const name of [a, b]) backend.put({ type: 'key', name }, new Uint8Array(1));
    expect(await findKey(backend, a)).toBe(a);
    expect(await findKey(backend, 'ABC2')).toBe(b);
    expect(await codeOf(findKey(backend, 'abc'))).toBe('ERR_AMBIGUOUS_ID');
    expect(await codeOf(findKey(backend, 'fff'))).toBe('ERR_KEY_NOT_FOUND');
    expect(await codeOf(findKey(backend, ''))).toBe('ERR_INVALID_ARGUMENT');
    expect(await codeOf(findKey(backend, 'xyz'))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('removeKey refuses the key in use and the last key, changing nothing', async () => {
    const { backend, repo } = await newRepo();
    const before = keyNames(backend);
    expect(await codeOf(removeKey(repo, repo.keyId))).toBe('ERR_KEY_IN_USE');
    // a caller whose own key is gone (or another one) still cannot remove the last key
    expect(await codeOf(removeKey({ backend, keyId: 'f'.repeat(64) as Id }, repo.keyId.slice(0, 6)))).toBe('ERR_LAST_KEY');
    expect(keyNames(backend)).toEqual(before);
    const other = await addPassword(repo, PW, 'new', { kdf: KDF });
    expect(await removeKey(repo, other.slice(0, 8))).toBe(other);
    expect(keyNames(backend)).toEqual(before);
    await repo.close();
  });

  it('a new key that does not read back correctly is removed again (ERR_KEY_VERIFY) and the old password still works', async () => {
    const { backend, repo } = await newRepo();
    const before = keyNames(backend);
    const saved: string[] = [];
    backend.fault = (op, h) => {
      if (h?.type !== 'key') return;
      if (op === 'save') saved.push(h.name);
      if (op === 'load' && saved.includes(h.name)) {
        const stored = backend.get(h)!;
        stored[10] = stored[10]! ^ 1; // the storage alters it
      }
    };
    const e = await addPassword(repo, PW, 'new', { kdf: KDF }).then(() => undefined, (err: unknown) => err);
    expect(e).toMatchObject({ code: 'ERR_KEY_VERIFY', data: { removed: true } });
    backend.fault = undefined;
    expect(keyNames(backend)).toEqual(before);
    await (await Repository.open(backend, PW)).close();
    await repo.close();
  });

  it('changePassword adds and verifies the new key before removing the old one', async () => {
    const { backend, repo } = await newRepo();
    const old = repo.keyId;
    const ops: string[] = [];
    backend.fault = (op, h) => {
      if (h?.type === 'key' && op !== 'list') ops.push(`${op} ${h.name === old ? 'old' : 'new'}`);
    };
    const r = await changePassword(repo, PW, 'new', { kdf: KDF });
    backend.fault = undefined;
    expect(r.removed).toBe(old);
    // load old (unwrap the master key), save new, load new (verify), remove old
    expect(ops).toEqual(['load old', 'save new', 'load new', 'remove old']);
    expect(keyNames(backend)).toEqual([r.added]);
    expect(await codeOf(Repository.open(backend, PW))).toBe('ERR_WRONG_PASSWORD');
    await (await Repository.open(backend, 'new')).close();
    await repo.close();
  });

  it('changePassword: when the old key cannot be removed, both passwords work and the error says so', async () => {
    const { backend, repo } = await newRepo();
    backend.fault = (op, h) => {
      if (op === 'remove' && h?.type === 'key') throw new Error('storage refused');
    };
    const e = await changePassword(repo, PW, 'new', { kdf: KDF }).then(() => undefined, (err: unknown) => err);
    backend.fault = undefined;
    expect(e).toMatchObject({ code: 'ERR_BACKEND', message: expect.stringMatching(/was added and works, but the old key .* could not be removed/) });
    expect(keyNames(backend)).toHaveLength(2);
    await (await Repository.open(backend, PW)).close();
    await (await Repository.open(backend, 'new')).close();
    await repo.close();
  });

  it('addPassword with a password that does not open the key in use is ERR_WRONG_PASSWORD and writes nothing', async () => {
    const { backend, repo } = await newRepo();
    const before = keyNames(backend);
    expect(await codeOf(addPassword(repo, 'not it', 'new', { kdf: KDF }))).toBe('ERR_WRONG_PASSWORD');
    expect(keyNames(backend)).toEqual(before);
    await repo.close();
  });
});
