/**
 * Turning what the AWS SDK throws into CairnErrors a user can act on. Transient failures (HTTP 5xx,
 * 429, SlowDown, request timeouts, connection resets and refusals, a body cut short) are
 * retryable ERR_BACKEND; permanent ones (403 and bad or missing credentials, a missing bucket,
 * TLS verification failures, other 4xx) are not, and their message says what to do. A missing
 * object is mapped by the caller (it knows the handle) to ERR_NOT_FOUND.
 */
import { CairnError, messageOf } from '../../errors.js';
import type { Handle } from '../types.js';

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
  $retryable?: unknown;
}

/** The HTTP status of an SDK service error, if the failure got that far. */
export function statusOf(e: unknown): number | undefined {
  const s = (e as SdkErrorShape | null)?.$metadata?.httpStatusCode;
  return typeof s === 'number' ? s : undefined;
}

/** The S3 error code (`NoSuchKey`, `AccessDenied`…) or the Node error code (`ECONNRESET`…). */
export function codeOf(e: unknown): string | undefined {
  const x = e as SdkErrorShape | null;
  for (const v of [x?.Code, x?.code, x?.name]) if (typeof v === 'string' && v !== 'Error' && v !== '') return v;
  return undefined;
}

/** True when the object (or bucket, for HEAD, which has no body to tell) is not there. */
export function isNotFound(e: unknown): boolean {
  const c = codeOf(e);
  return c === 'NoSuchKey' || c === 'NotFound' || (statusOf(e) === 404 && c !== 'NoSuchBucket');
}

const RETRYABLE_CODES = new Set([
  'SlowDown', 'ServiceUnavailable', 'InternalError', 'RequestTimeout', 'RequestTimeTooSkewed', 'Throttling', 'ThrottlingException',
  'TooManyRequestsException', 'RequestLimitExceeded', 'BandwidthLimitExceeded', 'TimeoutError', 'RequestTimeoutException',
  'ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE', 'UND_ERR_SOCKET', 'AbortError',
]);

const CREDENTIAL_CODES = new Set([
  'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired',
  'AllAccessDisabled', 'AccountProblem', 'CredentialsProviderError', 'InvalidClientTokenId', 'UnrecognizedClientException',
]);

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED', 'UNABLE_TO_GET_ISSUER_CERT',
]);

/** Whether trying the same request again can help. */
export function isRetryable(e: unknown): boolean {
  const status = statusOf(e);
  const code = codeOf(e);
  if (code !== undefined && RETRYABLE_CODES.has(code)) return true;
  if (status !== undefined) return status >= 500 || status === 429 || status === 408;
  if (code !== undefined && (CREDENTIAL_CODES.has(code) || TLS_CODES.has(code) || code === 'ENOTFOUND')) return false;
  // No HTTP status and no known code: the request failed on the way (socket, parser): transient.
  const msg = messageOf(e);
  return /socket|hang up|timeout|timed out|reset|premature|aborted|ECONN|EPIPE|network/i.test(msg) || (e as SdkErrorShape | null)?.$retryable !== undefined;
}

function adviceFor(e: unknown, code: string | undefined, status: number | undefined, retryable: boolean, bucket: string): string {
  if (code === 'NoSuchBucket') return `the bucket "${bucket}" does not exist: check the location, or create the repository (and the bucket) with \`cairn repo init\``;
  if (code === 'CredentialsProviderError') return 'no AWS credentials were found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary ones), or AWS_PROFILE for a profile in ~/.aws/credentials';
  if (code === 'InvalidAccessKeyId') return 'the access key is not known to the server: check AWS_ACCESS_KEY_ID (or the profile in use)';
  if (code === 'SignatureDoesNotMatch') return 'the secret key does not match the access key: check AWS_SECRET_ACCESS_KEY (or the profile in use)';
  if (code === 'ExpiredToken' || code === 'TokenRefreshRequired' || code === 'InvalidToken') return 'the session token has expired or is invalid: get fresh temporary credentials (AWS_SESSION_TOKEN)';
  if (status === 403 || (code !== undefined && CREDENTIAL_CODES.has(code))) return 'access was denied: check the credentials (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or the profile) and that they may read and write this bucket';
  if (code !== undefined && TLS_CODES.has(code)) return "the server's TLS certificate could not be verified: if the store uses a private CA, pass its certificate with --cacert FILE (or NODE_EXTRA_CA_CERTS)";
  if (code === 'ENOTFOUND') return 'the host name does not resolve: check the endpoint in the location';
  if (code === 'PermanentRedirect' || code === 'AuthorizationHeaderMalformed' || status === 301) return 'the bucket is in another region: set -o s3.region=REGION (or AWS_REGION) to the bucket\'s region';
  if (code === 'InvalidStorageClass') return 'the store does not accept that storage class: check -o s3.storage-class';
  void e;
  return retryable ? 'this is likely transient: try again' : 'check the location, the options and the store';
}

/**
 * ERR_BACKEND for a failed S3 request: `what` says what was being done (`load pack file 01ab…`),
 * `key` is the object key (or undefined for bucket-level requests).
 */
export function s3Failure(location: string, bucket: string, what: string, e: unknown, h?: Handle, key?: string): CairnError {
  if (e instanceof CairnError) return e;
  const status = statusOf(e);
  const code = codeOf(e);
  const retryable = isRetryable(e);
  const reason = [status !== undefined ? `HTTP ${status}` : undefined, code, messageOf(e)].filter((x) => x !== undefined && x !== '').join(' ');
  const object = key === undefined ? `bucket ${bucket}` : `s3://${bucket}/${key}`;
  return new CairnError('ERR_BACKEND', `${location}: could not ${what} (${object}): ${reason}; ${adviceFor(e, code, status, retryable, bucket)}`, {
    cause: e,
    retryable,
    data: {
      backend: 's3',
      bucket,
      ...(key !== undefined ? { key } : {}),
      ...(h !== undefined ? { type: h.type, name: h.name } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(code !== undefined ? { s3code: code } : {}),
    },
  });
}
