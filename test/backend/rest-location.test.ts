/** `rest:` locations: parsed as restic spells them, credentials kept apart and never shown. */
import { describe, expect, it } from 'vitest';
import { RestBackend, openBackend, parseLocation, redactLocation } from '../../src/backend/index.js';
import { restOptions } from '../../src/backend/rest/index.js';

function refusal(text: string): { code: string; message: string; data: unknown; cause?: unknown } {
  try {
    parseLocation(text);
  } catch (e) {
    return e as { code: string; message: string; data: unknown };
  }
  throw new Error(`${text} parsed`);
}

describe('rest: locations', () => {
  it('parses http and https URLs, with or without a path, always ending in /', () => {
    expect(parseLocation('rest:http://127.0.0.1:8000/')).toEqual({ kind: 'rest', url: 'http://127.0.0.1:8000/' });
    expect(parseLocation('rest:http://host:8000')).toEqual({ kind: 'rest', url: 'http://host:8000/' });
    expect(parseLocation('rest:https://host/a/b')).toEqual({ kind: 'rest', url: 'https://host/a/b/' });
    expect(parseLocation('rest:http://[::1]:8000/repo/')).toEqual({ kind: 'rest', url: 'http://[::1]:8000/repo/' });
  });

  it('takes the user and password out of the URL (percent-decoded) for basic auth', () => {
    expect(parseLocation('rest:https://alice:s3cr%40t@host:8000/alice/')).toEqual({ kind: 'rest', url: 'https://host:8000/alice/', username: 'alice', password: 's3cr@t' });
    expect(parseLocation('rest:http://bob@host/')).toEqual({ kind: 'rest', url: 'http://host/', username: 'bob' });
  });

  it("the backend's location shows the password as *** (as restic prints it), and keeps the user", async () => {
    const b = await openBackend('rest:https://alice:s3cr%40t@host:8000/alice');
    expect(b.location).toBe('rest:https://alice:***@host:8000/alice/');
    await b.close();
    const plain = await openBackend('rest:http://127.0.0.1:8000/');
    expect(plain.location).toBe('rest:http://127.0.0.1:8000/');
    await plain.close();
  });

  it('redactLocation hides a URL password in any scheme:URL location and leaves others alone', () => {
    expect(redactLocation('rest:https://alice:s3cr%40t@host:8000/alice/')).toBe('rest:https://alice:***@host:8000/alice/');
    expect(redactLocation('rest:http://host:8000/')).toBe('rest:http://host:8000/');
    expect(redactLocation('/srv/repo')).toBe('/srv/repo');
    expect(redactLocation('local:/srv/a:b@c')).toBe('local:/srv/a:b@c');
    expect(redactLocation('rest:http://u:p w@[bad/x')).not.toContain('p w');
  });

  it('refuses what is not an http(s) URL with a host, without echoing the password', () => {
    for (const text of ['rest:', 'rest:host:8000/', 'rest:ftp://u:secretpw@host/', 'rest:http://u:secretpw@host/?x=1', 'rest:http://u:secretpw@host/#f', 'rest:http://u:secretpw@[bad/', 'rest:file:///tmp/x']) {
      const e = refusal(text);
      expect(e.code, text).toBe('ERR_INVALID_ARGUMENT');
      expect(`${e.message} ${JSON.stringify(e.data ?? null)} ${String(e.cause)}`, text).not.toContain('secretpw');
      expect(e.message, text).toContain('rest:');
    }
  });

  it('-o rest.connections is read (1…1000); other rest.* keys and bad values are refused', async () => {
    expect(restOptions({ 'rest.connections': '12', 's3.region': 'x' })).toEqual({ connections: 12 });
    expect(restOptions({})).toEqual({});
    for (const o of [{ 'rest.connections': '0' }, { 'rest.connections': 'many' }, { 'rest.connections': '2.5' }, { 'rest.nonsense': '1' }]) {
      expect(() => restOptions(o), JSON.stringify(o)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
    await expect(openBackend('rest:http://h/', { options: { 'rest.connections': '0' } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(() => new RestBackend({ kind: 'rest', url: 'http://h/' }, { connections: 0 })).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});
