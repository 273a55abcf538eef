/** Repository locations as restic spells them, and opening a backend for one. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalBackend, openBackend, parseLocation } from '../../src/backend/index.js';
import { expectCode } from './conformance.js';

describe('parseLocation', () => {
  it('reads local directories: absolute, relative, ../, local:, Windows drives', () => {
    expect(parseLocation('/srv/repo')).toEqual({ kind: 'local', path: '/srv/repo' });
    expect(parseLocation('repo')).toEqual({ kind: 'local', path: 'repo' });
    expect(parseLocation('relative/path')).toEqual({ kind: 'local', path: 'relative/path' });
    expect(parseLocation('../up')).toEqual({ kind: 'local', path: '../up' });
    expect(parseLocation('local:/srv/repo')).toEqual({ kind: 'local', path: '/srv/repo' });
    expect(parseLocation('local:rel:with:colons')).toEqual({ kind: 'local', path: 'rel:with:colons' });
    expect(parseLocation('/abs/with:colon')).toEqual({ kind: 'local', path: '/abs/with:colon' });
    expect(parseLocation('C:\\backup')).toEqual({ kind: 'local', path: 'C:\\backup' });
  });

  it("refuses other backends for now (ERR_UNSUPPORTED) without echoing credentials", () => {
    for (const loc of ['sftp:user@host:/srv', 'b2:bucket:path', 'rclone:remote:path']) {
      const e = (() => {
        try {
          parseLocation(loc);
        } catch (err) {
          return err as { code: string; message: string };
        }
        throw new Error(`${loc} parsed`);
      })();
      expect(e.code).toBe('ERR_UNSUPPORTED');
      expect(e.message).not.toContain('secret');
    }
  });

  it('refuses an ambiguous name with a colon (restic does too) and empty locations', () => {
    for (const loc of ['foo:bar', '', 'local:']) {
      expect(() => parseLocation(loc)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });
});

describe('openBackend', () => {
  it('opens a local backend, a relative path taken from cwd', async () => {
    const root = await mkdtemp(join(tmpdir(), 'cairn-loc-'));
    try {
      const b = await openBackend('repo', { cwd: root });
      expect(b).toBeInstanceOf(LocalBackend);
      expect(b.location).toBe(join(root, 'repo'));
      await b.create();
      await b.save({ type: 'config', name: 'config' }, Uint8Array.of(1));
      const again = await openBackend({ kind: 'local', path: join(root, 'repo') });
      await expectCode(again.create(), 'ERR_REPO_EXISTS');
      expect((await openBackend(`local:${join(root, 'repo')}`)).location).toBe(join(root, 'repo'));
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
