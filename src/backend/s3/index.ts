/**
 * The S3 backend: a repository in a bucket of AWS S3 or any S3-compatible store (MinIO, Ceph RGW,
 * R2, B2, Wasabi…), laid out as restic lays it out (`PREFIX/config`, `PREFIX/data/<id[0:2]>/<id>`…),
 * so restic and cairn read each other's repositories. Invariants: a file is one object written by
 * one PUT (atomic); a load returns exactly the bytes asked for or throws a retryable ERR_BACKEND;
 * a missing object is ERR_NOT_FOUND; at most `s3.connections` requests are in flight; errors say
 * whether retrying can help and never carry credentials. Credentials come from the AWS chain.
 */
export { S3Backend, type S3BackendOptions, type S3Credentials } from './s3-backend.js';
export { parseS3Location, formatS3Location, parseS3Options, S3_DEFAULT_CONNECTIONS, type S3Location, type S3Options, type BucketLookup } from './config.js';
export { isRetryable as isRetryableS3Error } from './errors.js';
