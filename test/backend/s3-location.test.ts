/** `s3:` locations as restic spells them, parsed into where the bucket is, never echoing secrets. */
import { describe, expect, it } from 'vitest';
import { parseLocation, parseS3Options } from '../../src/backend/index.js';

describe('s3: locations', () => {
  it('reads https, http with a port, and restic\'s scheme-less HOST/BUCKET/PREFIX (https)', () => {
    expect(parseLocation('s3:https://s3.example.com/bkt')).toEqual({ kind: 's3', endpoint: 'https://s3.example.com', bucket: 'bkt', prefix: '' });
    expect(parseLocation('s3:http://127.0.0.1:9000/bkt/a/b/')).toEqual({ kind: 's3', endpoint: 'http://127.0.0.1:9000', bucket: 'bkt', prefix: 'a/b' });
    expect(parseLocation('s3:https://minio.lan:9443/backups/host1')).toEqual({ kind: 's3', endpoint: 'https://minio.lan:9443', bucket: 'backups', prefix: 'host1' });
    expect(parseLocation('s3:s3.amazonaws.com/my-bucket/restic')).toEqual({ kind: 's3', endpoint: 'https://s3.amazonaws.com', bucket: 'my-bucket', prefix: 'restic' });
    expect(parseLocation('s3:s3.eu-west-1.amazonaws.com/my-bucket')).toEqual({ kind: 's3', endpoint: 'https://s3.eu-west-1.amazonaws.com', bucket: 'my-bucket', prefix: '' });
    expect(parseLocation('s3://s3.amazonaws.com/old-style')).toEqual({ kind: 's3', endpoint: 'https://s3.amazonaws.com', bucket: 'old-style', prefix: '' });
    expect(parseLocation('s3:https://host//double//slashes/')).toEqual({ kind: 's3', endpoint: 'https://host', bucket: 'double', prefix: 'slashes' });
  });

  it('refuses a location without bucket, with credentials, a query, another scheme or ".." (ERR_INVALID_ARGUMENT), never echoing secrets', () => {
    for (const loc of ['s3:https://host', 's3:https://host/', 's3:host', 's3:https://AKIAX:topsecret@host/bkt', 's3:https://host/bkt?x=topsecret', 's3:ftp://host/bkt', 's3:https://host/b', 's3:https://host/bkt/../x', 's3:']) {
      let err: { code?: string; message?: string } | undefined;
      try {
        parseLocation(loc);
      } catch (e) {
        err = e as { code: string; message: string };
      }
      expect(err?.code, loc).toBe('ERR_INVALID_ARGUMENT');
      expect(err?.message, loc).not.toContain('topsecret');
    }
  });

  it('-o s3.* options: defaults, values, and refusals', () => {
    expect(parseS3Options()).toEqual({ bucketLookup: 'auto', connections: 5 });
    expect(parseS3Options({ 's3.region': 'eu-central-1', 's3.bucket-lookup': 'dns', 's3.storage-class': 'GLACIER_IR', 's3.connections': '12', 'rest.whatever': 'x' })).toEqual({
      region: 'eu-central-1', bucketLookup: 'dns', storageClass: 'GLACIER_IR', connections: 12,
    });
    for (const o of [{ 's3.unknown': 'x' }, { 's3.connections': '-1' }, { 's3.connections': '1.5' }, { 's3.bucket-lookup': 'vhost' }]) {
      expect(() => parseS3Options(o)).toThrowError(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
    }
  });
});
