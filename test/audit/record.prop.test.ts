/**
 * The audit record codec (spec/format.md, "Audit log"): a seeded round trip (decode(encode(r))
 * equals r, and encoding is stable), and redaction: no secret given as a flag value, an -o value
 * with a secret-looking key or a URL password survives redactArgs, and other arguments do.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAuditRecord, encodeAuditRecord, redactArgs, REDACTED } from '../../src/audit/index.js';
import { recordArb } from './arbitraries.js';

const SEED = 20261124;
describe('audit record codec', () => {
  it('decode(encode(r)) = r, and re-encoding gives the same bytes', () => {
    fc.assert(
      fc.property(recordArb, (r) => {
        const bytes = encodeAuditRecord(r);
        const back = decodeAuditRecord(bytes, 'cairn-log/x');
        expect(back).toEqual(r);
        expect(Buffer.from(encodeAuditRecord(back)).equals(Buffer.from(bytes))).toBe(true);
      }),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('writes the fields in the documented order and ignores unknown fields when reading', () => {
    const r = fc.sample(recordArb, { seed: SEED, numRuns: 1 })[0]!;
    const json = JSON.parse(new TextDecoder().decode(encodeAuditRecord(r))) as Record<string, unknown>;
    expect(Object.keys(json).slice(0, 8)).toEqual(['version', 'time', 'hostname', 'username', 'pid', 'command', 'args', 'result']);
    const extra = new TextEncoder().encode(JSON.stringify({ ...json, future: { x: 1 } }));
    expect(decodeAuditRecord(extra, 'f')).toEqual(r);
  });
});

describe('redactArgs', () => {
  const secretArb = fc.stringMatching(/^[A-Za-z0-9]{12,24}$/).map((s) => `Zq${s}`);
  it('no secret survives; other arguments are kept as they were', () => {
    fc.assert(
      fc.property(secretArb, fc.constantFrom('s3.secret-access-key', 'rest.token', 'x.password', 'azure.account-key', 'b2.AUTH'), (secret, key) => {
        const args = [
          '-r', `rest:https://ann:${secret}@host:8000/repo`,
          '-o', `${key}=${secret}`, `--option=${key}=${secret}`, `-o${key}=${secret}`,
          '--password', secret, `--password=${secret}`, '--password-command', `echo ${secret}`,
          '--from-password-command', `pass ${secret}`, `--from-password=${secret}`,
          '--password-file', '/etc/pw', '-o', 's3.region=eu-west-1', 'snapshot', '/home/ann',
        ];
        const out = redactArgs(args);
        expect(out).toHaveLength(args.length);
        expect(out.join(' ')).not.toContain(secret);
        expect(out).toContain(`${key}=${REDACTED}`);
        expect(out).toContain('rest:https://ann:[redacted]@host:8000/repo');
        for (const kept of ['/etc/pw', 's3.region=eu-west-1', 'snapshot', '/home/ann', '--password-file']) expect(out).toContain(kept);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('keeps arguments after -- except URL passwords', () => {
    expect(redactArgs(['snapshot', '--', '--password', 'x', 's3://k:v@h/b'])).toEqual(['snapshot', '--', '--password', 'x', 's3://k:[redacted]@h/b']);
  });
});
