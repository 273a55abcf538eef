/**
 * A repository in an S3 bucket (AWS, or any S3-compatible store), in restic's default layout
 * under an optional key prefix: `PREFIX/config`, `PREFIX/keys/<id>`, `PREFIX/data/<id[0:2]>/<id>`,
 * `PREFIX/index/<id>`, `PREFIX/snapshots/<id>`, `PREFIX/locks/<id>` (restic 0.14 uses the same
 * default layout for S3 as for a directory; the pre-0.7 "s3legacy" layout is not read).
 *
 * Requests: one PUT per file, the body a Uint8Array of known length with its Content-MD5, so a
 * store that checks it rejects a body damaged in transit (PUT is atomic in S3: a reader sees the
 * old object or the new one, never a part). Flexible checksums are only sent when an operation
 * requires them (`WHEN_REQUIRED`), which keeps the body a plain stream that every S3-compatible
 * store accepts (no aws-chunked encoding). Loads are ranged GETs whose body is counted: a body
 * shorter or longer than asked is a retryable ERR_BACKEND, never short data. S3 has no "delete
 * if exists", so `remove` asks HEAD first to report a missing file as ERR_NOT_FOUND.
 *
 * At most `s3.connections` requests are in flight (a semaphore around each request, body
 * included). The SDK retries a failed request once (maxAttempts 2 by default); longer backoff
 * belongs to the retry decorator around the backend.
 */
import { createHash } from 'node:crypto';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import type { BucketLocationConstraint, S3Client, S3ClientConfig, StorageClass } from '@aws-sdk/client-s3';
import { CairnError, messageOf } from '../../errors.js';
import { isId, type FileType } from '../../model/index.js';
import { createLimiter } from '../../util/index.js';
import { trustStore } from '../ca.js';
import { checkHandle, checkRangeArgs, checkType, listConfig, describe, notFound, rangeLength } from '../local/checks.js';
import { TYPE_DIRS } from '../local/layout.js';
import type { Backend, FileInfo, Handle } from '../types.js';
import { formatS3Location, isAwsEndpoint, parseS3Options, regionOfAwsEndpoint, type S3Location, type S3Options } from './config.js';
import { codeOf, isNotFound, s3Failure, statusOf } from './errors.js';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

export interface S3BackendOptions {
  /** `-o` options; only the `s3.*` ones are read (unknown `s3.` keys are ERR_INVALID_ARGUMENT). */
  readonly options?: Readonly<Record<string, string>>;
  /** Extra trusted CA certificates (PEM text), added to the system's and NODE_EXTRA_CA_CERTS. */
  readonly caCerts?: readonly string[];
  /**
   * Where AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION and
   * AWS_DEFAULT_REGION are read. Without keys there, the SDK's default chain runs (the process
   * environment, profiles, SSO, instance and container roles). @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Explicit credentials (beat `env` and the default chain). */
  readonly credentials?: S3Credentials;
  /** Attempts per request inside the SDK (1 = no SDK retry). @default 2 */
  readonly maxAttempts?: number;
  /** Milliseconds to wait for a connection. @default 10000 */
  readonly connectionTimeoutMs?: number;
  /** Milliseconds a request's socket may stay idle. @default 60000 */
  readonly requestTimeoutMs?: number;
}

type Sdk = typeof import('@aws-sdk/client-s3');
let sdkLoad: Promise<Sdk> | undefined;
/**
 * The AWS SDK, loaded on first use: it costs ~0.1 s and ~25 MB of heap to load, which every
 * command on a local repository (and every library user who never opens a bucket) would
 * otherwise pay.
 */
function loadSdk(): Promise<Sdk> {
  return (sdkLoad ??= import('@aws-sdk/client-s3'));
}

const DEFAULT_REGION = 'us-east-1';

export class S3Backend implements Backend {
  readonly location: string;
  readonly bucket: string;
  readonly prefix: string;
  readonly settings: S3Options;
  readonly #config: S3ClientConfig;
  #client: Promise<S3Client> | undefined;
  readonly #limit: <T>(fn: () => Promise<T>) => Promise<T>;
  readonly #agents: (HttpAgent | HttpsAgent)[];

  constructor(where: S3Location, options: S3BackendOptions = {}) {
    this.settings = parseS3Options(options.options);
    this.location = formatS3Location(where);
    this.bucket = where.bucket;
    this.prefix = where.prefix;
    this.#limit = createLimiter(this.settings.connections);
    const env = options.env ?? process.env;
    // cairn supports Node 20; the SDK's notice about its future Node 22 requirement is noise here.
    process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';

    const sockets = { keepAlive: true, maxSockets: this.settings.connections };
    const ca = trustStore(options.caCerts);
    const httpAgent = new HttpAgent(sockets);
    const httpsAgent = new HttpsAgent({ ...sockets, ...(ca !== undefined ? { ca } : {}) });
    this.#agents = [httpAgent, httpsAgent];

    const aws = isAwsEndpoint(where.endpoint);
    const host = new URL(where.endpoint).hostname.toLowerCase();
    const endpointRegion = regionOfAwsEndpoint(where.endpoint);
    const region = this.settings.region ?? nonEmpty(env['AWS_REGION']) ?? nonEmpty(env['AWS_DEFAULT_REGION']) ?? endpointRegion;
    const creds = options.credentials ?? credentialsFromEnv(env);
    const config: S3ClientConfig = {
      region: region ?? regionFromProfile,
      // AWS's generic endpoint: let the SDK pick the regional one. Any other host is used as given.
      ...(aws && host === 's3.amazonaws.com' ? {} : { endpoint: where.endpoint }),
      forcePathStyle: this.settings.bucketLookup === 'path' || (this.settings.bucketLookup === 'auto' && !aws),
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: options.maxAttempts ?? 2,
      requestHandler: {
        httpAgent,
        httpsAgent,
        connectionTimeout: options.connectionTimeoutMs ?? 10_000,
        requestTimeout: options.requestTimeoutMs ?? 60_000,
      },
      ...(creds !== undefined ? { credentials: creds } : {}),
    };
    this.#config = config;
  }

  /** The object key of a (valid) handle. */
  key(h: Handle): string {
    checkHandle(h, this.location);
    if (h.type === 'config') return this.#under('config');
    if (h.type === 'pack') return this.#under(`${TYPE_DIRS.pack}/${h.name.slice(0, 2)}/${h.name}`);
    return this.#under(`${TYPE_DIRS[h.type]}/${h.name}`);
  }

  async create(): Promise<void> {
    await this.#limit(async () => {
      const s3 = await this.#ready();
      try {
        await s3.client.send(new s3.sdk.HeadBucketCommand({ Bucket: this.bucket }));
      } catch (e) {
        if (!(isNotFound(e) || codeOf(e) === 'NoSuchBucket')) throw s3Failure(this.location, this.bucket, 'check that the bucket exists', e);
        await this.#createBucket();
      }
    });
    const config: Handle = { type: 'config', name: 'config' };
    try {
      await this.stat(config);
    } catch (e) {
      if (e instanceof CairnError && e.code === 'ERR_NOT_FOUND') return;
      throw e;
    }
    throw new CairnError('ERR_REPO_EXISTS', `a repository already exists at ${this.location} (it has a config file); use it, or choose an empty location`, {
      data: { location: this.location },
    });
  }

  async save(h: Handle, data: Uint8Array): Promise<void> {
    const key = this.key(h);
    if (!(data instanceof Uint8Array)) {
      throw new CairnError('ERR_INVALID_ARGUMENT', `${this.location}: cannot save ${describe(h)}: the data is not a Uint8Array; this is a bug in the caller`, {
        data: { type: h.type, name: h.name },
      });
    }
    const md5 = createHash('md5').update(data).digest('base64');
    const storageClass = h.type === 'pack' ? this.settings.storageClass : undefined;
    await this.#limit(async () => {
      const s3 = await this.#ready();
      try {
        await s3.client.send(
          new s3.sdk.PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: data,
            ContentLength: data.length,
            ContentMD5: md5,
            ContentType: 'application/octet-stream',
            ...(storageClass !== undefined ? { StorageClass: storageClass as StorageClass } : {}),
          }),
        );
      } catch (e) {
        throw s3Failure(this.location, this.bucket, `save ${describe(h)}`, e, h, key);
      }
    });
  }

  async load(h: Handle, offset = 0, length?: number): Promise<Uint8Array> {
    const key = this.key(h);
    checkRangeArgs(h, this.location, offset, length);
    if (length === 0) {
      // HTTP cannot ask for an empty range: check the range against the size instead.
      rangeLength(h, this.location, offset, length, (await this.stat(h)).size);
      return new Uint8Array(0);
    }
    const ranged = offset > 0 || length !== undefined;
    const range = ranged ? `bytes=${offset}-${length === undefined ? '' : offset + length - 1}` : undefined;
    return this.#limit(async () => {
      const s3 = await this.#ready();
      let res;
      try {
        res = await s3.client.send(new s3.sdk.GetObjectCommand({ Bucket: this.bucket, Key: key, ...(range !== undefined ? { Range: range } : {}) }));
      } catch (e) {
        if (isNotFound(e)) throw notFound(h, this.location, e);
        if (statusOf(e) === 416 || codeOf(e) === 'InvalidRange') return this.#emptyOrOutOfRange(h, offset, length);
        throw s3Failure(this.location, this.bucket, `load ${describe(h)}`, e, h, key);
      }
      const body = res.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
      // Where the body starts in the file and how big the file is: from Content-Range on a 206,
      // else the body is the whole file (a store may ignore Range). A store may also send more
      // than asked (s3rver answers bytes=0-0 with the whole file): the extra is not read.
      const cr = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.ContentRange ?? '');
      let skip: number;
      let want: number;
      if (ranged && cr !== null) {
        const start = Number(cr[1]);
        want = rangeLength(h, this.location, offset, length, Number(cr[3]));
        skip = offset - start;
        if (skip < 0) {
          body?.destroy?.();
          throw this.#badBody(h, key, `the server answered with bytes from ${start}, not ${offset}`, offset, want, 0);
        }
      } else {
        if (res.ContentLength === undefined) {
          body?.destroy?.();
          throw this.#badBody(h, key, 'the response has no Content-Length', offset, length ?? -1, 0);
        }
        want = rangeLength(h, this.location, offset, length, res.ContentLength);
        skip = offset;
      }
      return this.#readBody(h, key, body, skip, want, offset);
    });
  }

  async stat(h: Handle): Promise<FileInfo> {
    const key = this.key(h);
    return this.#limit(async () => {
      const s3 = await this.#ready();
      try {
        const res = await s3.client.send(new s3.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: key }));
        if (res.ContentLength === undefined) throw new Error('the response has no Content-Length');
        return { name: h.name, size: res.ContentLength };
      } catch (e) {
        if (isNotFound(e)) throw notFound(h, this.location, e);
        throw s3Failure(this.location, this.bucket, `stat ${describe(h)}`, e, h, key);
      }
    });
  }

  async *list(type: FileType): AsyncIterable<FileInfo> {
    checkType(type, this.location);
    if (type === 'config') {
      yield* listConfig((h) => this.stat(h));
      return;
    }
    const dir = this.#under(TYPE_DIRS[type]) + '/';
    let token: string | undefined;
    do {
      const page = await this.#limit(async () => {
        const s3 = await this.#ready();
        try {
          return await s3.client.send(new s3.sdk.ListObjectsV2Command({ Bucket: this.bucket, Prefix: dir, ...(token !== undefined ? { ContinuationToken: token } : {}) }));
        } catch (e) {
          throw s3Failure(this.location, this.bucket, `list ${type} files`, e, undefined, dir);
        }
      });
      for (const o of page.Contents ?? []) {
        if (o.Key === undefined || o.Size === undefined) continue;
        const name = nameIn(type, o.Key.slice(dir.length));
        if (name !== undefined) yield { name, size: o.Size };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async remove(h: Handle): Promise<void> {
    const key = this.key(h);
    await this.stat(h); // ERR_NOT_FOUND when missing: S3's DELETE succeeds either way
    await this.#limit(async () => {
      const s3 = await this.#ready();
      try {
        await s3.client.send(new s3.sdk.DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
      } catch (e) {
        if (isNotFound(e)) throw notFound(h, this.location, e);
        throw s3Failure(this.location, this.bucket, `remove ${describe(h)}`, e, h, key);
      }
    });
  }

  async close(): Promise<void> {
    if (this.#client !== undefined) (await this.#client).destroy();
    for (const a of this.#agents) a.destroy();
  }

  /** The client, made on first use (the SDK is loaded then). */
  #sdkClient(): Promise<S3Client> {
    return (this.#client ??= loadSdk().then((sdk) => new sdk.S3Client(this.#config)));
  }

  /** The SDK and the client, both loaded on first use. */
  async #ready(): Promise<{ sdk: Sdk; client: S3Client }> {
    return { sdk: await loadSdk(), client: await this.#sdkClient() };
  }

  #under(rel: string): string {
    return this.prefix === '' ? rel : `${this.prefix}/${rel}`;
  }

  async #createBucket(): Promise<void> {
    const s3 = await this.#ready();
    const region = await s3.client.config.region();
    try {
      await s3.client.send(
        new s3.sdk.CreateBucketCommand({
          Bucket: this.bucket,
          // us-east-1 is the one region that must not be named.
          ...(region !== DEFAULT_REGION ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } } : {}),
        }),
      );
    } catch (e) {
      if (codeOf(e) === 'BucketAlreadyOwnedByYou') return;
      throw s3Failure(this.location, this.bucket, 'create the bucket', e);
    }
  }

  /** After a 416: an empty read at the very end is fine; anything else is out of range. */
  async #emptyOrOutOfRange(h: Handle, offset: number, length: number | undefined): Promise<Uint8Array> {
    const s3 = await this.#ready();
    const size = await s3.client.send(new s3.sdk.HeadObjectCommand({ Bucket: this.bucket, Key: this.key(h) }))
      .then((r) => r.ContentLength ?? 0)
      .catch((e: unknown) => {
        if (isNotFound(e)) throw notFound(h, this.location, e);
        throw s3Failure(this.location, this.bucket, `stat ${describe(h)}`, e, h, this.key(h));
      });
    rangeLength(h, this.location, offset, length, size);
    return new Uint8Array(0);
  }

  /** Reads exactly `want` bytes after skipping `skip`; the body must end right there. */
  async #readBody(h: Handle, key: string, body: (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined, skip: number, want: number, offset: number): Promise<Uint8Array> {
    const out = new Uint8Array(want);
    let got = 0;
    let toSkip = skip;
    if (body === undefined) {
      if (want === 0) return out;
      throw this.#badBody(h, key, 'the response has no body', offset, want, 0);
    }
    try {
      for await (const chunk of body) {
        let c = chunk;
        if (toSkip > 0) {
          const n = Math.min(toSkip, c.length);
          toSkip -= n;
          c = c.subarray(n);
        }
        if (c.length === 0) continue;
        if (got + c.length > want) {
          out.set(c.subarray(0, want - got), got);
          got = want;
          break; // leaving the loop ends the body; whatever follows is not needed
        }
        out.set(c, got);
        got += c.length;
      }
    } catch (e) {
      if (e instanceof CairnError) throw e;
      throw new CairnError('ERR_BACKEND', `${this.location}: could not load ${describe(h)} (s3://${this.bucket}/${key}): the body broke off after ${got} of ${want} bytes: ${messageOf(e)}; this is likely transient: try again`, {
        cause: e,
        retryable: true,
        data: { backend: 's3', bucket: this.bucket, key, type: h.type, name: h.name, offset, length: want, got },
      });
    }
    if (got < want) throw this.#badBody(h, key, `short read: got ${got} of ${want} bytes`, offset, want, got);
    return out;
  }

  #badBody(h: Handle, key: string, why: string, offset: number, want: number, got: number): CairnError {
    return new CairnError('ERR_BACKEND', `${this.location}: could not load ${describe(h)} (s3://${this.bucket}/${key}) at offset ${offset}: ${why}; the transfer was damaged or the object changed meanwhile: try again, then run \`cairn check\``, {
      retryable: true,
      data: { backend: 's3', bucket: this.bucket, key, type: h.type, name: h.name, offset, length: want, got },
    });
  }
}

/** The file name a listed key (relative to the type's directory) stands for, or undefined. */
function nameIn(type: Exclude<FileType, 'config'>, rel: string): string | undefined {
  if (type === 'pack') {
    const slash = rel.indexOf('/');
    const name = rel.slice(slash + 1);
    return slash === 2 && isId(name) && rel.slice(0, 2) === name.slice(0, 2) ? name : undefined;
  }
  return isId(rel) ? rel : undefined;
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

function credentialsFromEnv(env: Readonly<Record<string, string | undefined>>): S3Credentials | undefined {
  const accessKeyId = nonEmpty(env['AWS_ACCESS_KEY_ID']);
  const secretAccessKey = nonEmpty(env['AWS_SECRET_ACCESS_KEY']);
  if (accessKeyId === undefined || secretAccessKey === undefined) return undefined;
  const sessionToken = nonEmpty(env['AWS_SESSION_TOKEN']);
  return { accessKeyId, secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) };
}

/** The region of the AWS profile in use (config files, as the SDK reads them), else us-east-1. */
async function regionFromProfile(): Promise<string> {
  const probe = new (await loadSdk()).S3Client({});
  try {
    return await probe.config.region();
  } catch {
    return DEFAULT_REGION;
  } finally {
    probe.destroy();
  }
}

