/**
 * The memory backend: the shared conformance suite, then its test helpers (inspect and damage
 * stored bytes, inject failures).
 */
import { describe, expect, it } from 'vitest';
import { CairnError } from '../../src/errors.js';
import { MemoryBackend, type Handle } from '../../src/backend/index.js';
import { backendConformance, expectBytes, expectCode, handleFor } from './conformance.js';

backendConformance('memory', async () => ({ backend: new MemoryBackend(), cleanup: async () => undefined }));

describe('memory backend helpers', () => {
  it('get/put/delete/files reach the stored bytes directly', async () => {
    const b = new MemoryBackend();
    const data = Uint8Array.of(1, 2, 3);
    const h = handleFor('pack', data);
    await b.save(h, data);
    const stored = b.get(h)!;
    stored[0] = 9; // damage it
    expectBytes(await b.load(h), Uint8Array.of(9, 2, 3));
    const cfg: Handle = { type: 'config', name: 'config' };
    b.put(cfg, Uint8Array.of(7));
    expectBytes(await b.load(cfg), Uint8Array.of(7));
    expect(b.files().map((f) => f.handle.type).sort()).toEqual(['config', 'pack']);
    expect(b.delete(h)).toBe(true);
    await expectCode(b.load(h), 'ERR_NOT_FOUND');
    expect(b.location).toBe('memory:');
  });

  it('the fault hook makes an operation fail and change nothing', async () => {
    const b = new MemoryBackend({ location: 'memory:test' });
    const data = Uint8Array.of(4, 5);
    const h = handleFor('index', data);
    b.fault = (op) => {
      if (op === 'save') throw new CairnError('ERR_BACKEND', 'injected', { retryable: true });
    };
    const e = await expectCode(b.save(h, data), 'ERR_BACKEND');
    expect(e.retryable).toBe(true);
    expect(b.get(h)).toBeUndefined();
    b.fault = undefined;
    await b.save(h, data);
    expectBytes(await b.load(h), data);
  });
});
