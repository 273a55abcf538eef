/**
 * What an S3 repository location and its `-o s3.*` options mean, parsed and checked before any
 * request is made. Locations follow restic: `s3:https://HOST[:PORT]/BUCKET[/PREFIX]`,
 * `s3:http://HOST:PORT/BUCKET[/PREFIX]`, and `s3:HOST/BUCKET[/PREFIX]` (no scheme: https).
 * Credentials never belong in the location (they come from the AWS credential chain), so a URL
 * carrying `user:pass@` is refused, and no message ever echoes the text that was given.
 */
import { CairnError } from '../../errors.js';

/** A parsed `s3:` location. */
export interface S3Location {
  readonly kind: 's3';
  /** `https://host[:port]` or `http://host[:port]`: scheme, host and port only. */
  readonly endpoint: string;
  readonly bucket: string;
  /** The key prefix the repository lives under, without leading or trailing slashes ('' = bucket root). */
  readonly prefix: string;
}

/** How the bucket is addressed: in the host name (`dns`), in the path (`path`), or chosen (`auto`). */
export type BucketLookup = 'auto' | 'dns' | 'path';

/** The `-o s3.*` options cairn knows (restic's names). */
export interface S3Options {
  readonly region?: string;
  readonly bucketLookup: BucketLookup;
  readonly storageClass?: string;
  /** At most this many requests in flight. */
  readonly connections: number;
}

export const S3_DEFAULT_CONNECTIONS = 5;
const S3_OPTION_KEYS = ['s3.region', 's3.bucket-lookup', 's3.storage-class', 's3.connections'] as const;

function invalid(message: string, data: Record<string, unknown> = {}): CairnError {
  return new CairnError('ERR_INVALID_ARGUMENT', message, { data });
}

/** `s3:` + where: `s3:` is already stripped from `rest`. Throws ERR_INVALID_ARGUMENT. */
export function parseS3Location(rest: string): S3Location {
  const usage = 'write s3:https://HOST[:PORT]/BUCKET[/PREFIX], s3:http://HOST:PORT/BUCKET[/PREFIX] or s3:HOST/BUCKET[/PREFIX]';
  let text = rest;
  if (text.startsWith('//')) text = text.slice(2); // restic's old s3://host/bucket spelling
  const hasScheme = /^https?:\/\//i.test(text);
  if (!hasScheme && /^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    throw invalid(`the s3 location uses a scheme other than http or https; ${usage}`);
  }
  let url: URL;
  try {
    url = new URL(hasScheme ? text : `https://${text}`);
  } catch {
    throw invalid(`the s3 location is not a valid URL; ${usage}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw invalid('the s3 location contains credentials (user:password@); remove them and set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or use an AWS profile) instead');
  }
  if (url.search !== '' || url.hash !== '') {
    throw invalid(`the s3 location has a query or fragment (? or #), which cairn does not understand; ${usage}`);
  }
  if (url.hostname === '') throw invalid(`the s3 location names no host; ${usage}`);
  const parts = url.pathname.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
  const bucket = parts.shift();
  if (bucket === undefined) throw invalid(`the s3 location names no bucket; ${usage}`);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]{1,254}$/.test(bucket)) {
    throw invalid(`"${bucket}" is not a valid bucket name (letters, digits, '.', '-', '_'; 3 characters or more); ${usage}`, { bucket });
  }
  if (parts.some((p) => p === '.' || p === '..')) throw invalid('the s3 location prefix contains "." or ".." segments; give the prefix plainly', { bucket });
  return { kind: 's3', endpoint: `${url.protocol}//${url.host}`, bucket, prefix: parts.join('/') };
}

/** The location as text for messages and `Backend.location` (never credentials: it has none). */
export function formatS3Location(loc: S3Location): string {
  return `s3:${loc.endpoint}/${loc.bucket}${loc.prefix === '' ? '' : `/${loc.prefix}`}`;
}

/**
 * The `s3.*` entries of `options` (other namespaces are ignored, as restic ignores options meant
 * for another backend). An unknown `s3.` key or a bad value is ERR_INVALID_ARGUMENT.
 */
export function parseS3Options(options: Readonly<Record<string, string>> = {}): S3Options {
  let region: string | undefined;
  let bucketLookup: BucketLookup = 'auto';
  let storageClass: string | undefined;
  let connections = S3_DEFAULT_CONNECTIONS;
  for (const [key, value] of Object.entries(options)) {
    if (!key.startsWith('s3.')) continue;
    switch (key) {
      case 's3.region':
        if (value === '') throw invalid('-o s3.region= is empty; give a region such as us-east-1', { key });
        region = value;
        break;
      case 's3.bucket-lookup':
        if (value !== 'auto' && value !== 'dns' && value !== 'path') throw invalid(`-o s3.bucket-lookup must be auto, dns or path, got "${value}"`, { key, value });
        bucketLookup = value;
        break;
      case 's3.storage-class':
        if (!/^[A-Z0-9_]+$/.test(value)) throw invalid(`-o s3.storage-class must be a storage class name such as STANDARD_IA or GLACIER_IR, got "${value}"`, { key, value });
        storageClass = value;
        break;
      case 's3.connections': {
        const n = /^\d+$/.test(value) ? Number(value) : NaN;
        if (!Number.isSafeInteger(n) || n < 1 || n > 1000) throw invalid(`-o s3.connections must be a whole number from 1 to 1000, got "${value}"`, { key, value });
        connections = n;
        break;
      }
      default:
        throw invalid(`-o ${key}: unknown option for the s3 backend (known: ${S3_OPTION_KEYS.join(', ')})`, { key });
    }
  }
  return { bucketLookup, connections, ...(region !== undefined ? { region } : {}), ...(storageClass !== undefined ? { storageClass } : {}) };
}

/** True for AWS's own S3 endpoints, where virtual-hosted (dns) addressing is the norm. */
export function isAwsEndpoint(endpoint: string): boolean {
  const host = new URL(endpoint).hostname.toLowerCase();
  return /(^|\.)amazonaws\.com(\.cn)?$/.test(host);
}

/** The region an AWS endpoint names (`s3.eu-west-1.amazonaws.com`, `s3-eu-west-1…`), if any. */
export function regionOfAwsEndpoint(endpoint: string): string | undefined {
  const host = new URL(endpoint).hostname.toLowerCase();
  const m = /^s3[.-](?:dualstack\.)?([a-z]{2}(?:-gov)?-[a-z]+-\d)\.amazonaws\.com(\.cn)?$/.exec(host);
  return m?.[1];
}
