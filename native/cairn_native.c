/*
 * cairn_native: the few file-system calls Node's fs lacks, as a plain N-API addon (Linux).
 *
 *   listXattrs(path)                    -> [[name, value], ...]   llistxattr + lgetxattr
 *   setXattr(path, name, value)                                   lsetxattr
 *   utimens(path, aSec, aNsec, mSec, mNsec, followSymlinks)       utimensat (nanoseconds, 64-bit)
 *   mknod(path, mode, dev)                                        mknod (FIFOs, devices)
 *   scanDir(path[, xattrs]) -> Promise<[names, ends, stats]>   open(O_DIRECTORY|O_NOFOLLOW|
 *                                             O_NOATIME) + readdir, sorted by name bytes, with each
 *                                             entry's fstatat(AT_SYMLINK_NOFOLLOW) and, if `xattrs`
 *                                             (default true),
 *                                             the size of its llistxattr list (else -2; layout:
 *                                             STAT_STRIDE)
 *   readFiles(paths, maxBytes, into) -> Promise<[ends, stats]>   per file: open(O_NOFOLLOW|
 *                                             O_NOATIME) + read up to its maxBytes into `into`
 *                                             (file i at the sum of the maxBytes before it)
 *                                             + fstat + close
 *   finishFiles(args: Float64Array) -> Promise<Int32Array>   per restored file's descriptor:
 *                                             fchown (if asked) + fchmod + futimens, stopping at
 *                                             the first failure, then close (always); many in one
 *                                             job (9 numbers in, 3 out per file)
 *   openFiles(paths, flags, mode) -> Promise<Int32Array>   open(flags|O_CLOEXEC, mode) per path in
 *                                             one job: each descriptor or -errno
 *   trimMalloc(bytes) -> boolean              mallopt(M_TRIM_THRESHOLD) (glibc only)
 *
 * Every call but scanDir, readFiles, finishFiles and openFiles is one or a few fast syscalls, so those are
 * synchronous. These may list millions of entries or wait for a disk, so they run on
 * libuv's thread pool like Node's fs; scanDir, readFiles, finishFiles and openFiles do in one job what would otherwise
 * be one job (and one promise, one stat object) per syscall. Paths, attribute names and
 * values are raw bytes (any Uint8Array, Buffers included), never decoded: a path is copied and
 * NUL-terminated, and one holding a NUL byte is refused. Nothing touches a symlink's target unless
 * the caller asks (utimens followSymlinks).
 *
 * A failed syscall throws an Error shaped like Node's fs errors:
 *   message "ENOENT: no such file or directory, lsetxattr '/x'", code 'ENOENT',
 *   errno -2 (negative, libuv's convention, as Node's fs uses), syscall 'lsetxattr', path '/x'.
 * Bad arguments throw a TypeError (code ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE) or a
 * RangeError (ERR_OUT_OF_RANGE), as Node does.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <node_api.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>
#include <pthread.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <openssl/crypto.h>
#include <openssl/evp.h>

/* Give up when an attribute list or value keeps growing between the size query and the read. */
#define XATTR_MAX_RETRIES 64
/* First buffer for names and values; most fit, so one syscall per attribute is the common case. */
#define XATTR_INITIAL_CAPACITY 1024

/* ---------------------------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------------------------- */

static const char *errno_name(int err) {
  switch (err) {
#define E(x) case x: return #x;
    E(EPERM) E(ENOENT) E(ESRCH) E(EINTR) E(EIO) E(ENXIO) E(E2BIG) E(ENOEXEC) E(EBADF)
    E(ECHILD) E(EAGAIN) E(ENOMEM) E(EACCES) E(EFAULT) E(ENOTBLK) E(EBUSY) E(EEXIST) E(EXDEV)
    E(ENODEV) E(ENOTDIR) E(EISDIR) E(EINVAL) E(ENFILE) E(EMFILE) E(ENOTTY) E(ETXTBSY) E(EFBIG)
    E(ENOSPC) E(ESPIPE) E(EROFS) E(EMLINK) E(EPIPE) E(EDOM) E(ERANGE) E(EDEADLK)
    E(ENAMETOOLONG) E(ENOLCK) E(ENOSYS) E(ENOTEMPTY) E(ELOOP) E(ENODATA) E(EOVERFLOW)
    E(EILSEQ) E(ENOTSUP) E(EDQUOT) E(ESTALE) E(ENOTCONN) E(ETIMEDOUT) E(ECONNREFUSED)
    E(EHOSTDOWN) E(ECANCELED) E(EREMOTEIO)
#undef E
    default: return "UNKNOWN";
  }
}

/* Throws a generic error unless one is already pending (after a failed napi_* call). */
static void throw_napi_failure(napi_env env, const char *what) {
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  char msg[256];
  snprintf(msg, sizeof msg, "cairn_native: %s failed: %s", what,
           info != NULL && info->error_message != NULL ? info->error_message : "N-API call failed");
  napi_throw_error(env, NULL, msg);
}

#define NAPI_CALL(env, call)                        \
  do {                                              \
    if ((call) != napi_ok) {                        \
      throw_napi_failure((env), #call);             \
      return NULL;                                  \
    }                                               \
  } while (0)

/* Sets obj[key] = value; false (with an exception pending) on failure. */
static bool set_prop(napi_env env, napi_value obj, const char *key, napi_value value) {
  if (napi_set_named_property(env, obj, key, value) != napi_ok) {
    throw_napi_failure(env, "napi_set_named_property");
    return false;
  }
  return true;
}

/* Node's fs error shape for errno `err` from `syscall` on `path`; NULL with an exception pending. */
static napi_value make_errno_error(napi_env env, int err, const char *syscall, const char *path) {
  char reason[256];
  /* GNU strerror_r returns the string (maybe not in reason). */
  const char *text = strerror_r(err, reason, sizeof reason);
  const char *code = errno_name(err);
  size_t len = strlen(code) + strlen(text) + strlen(syscall) + strlen(path) + 16;
  char *msg = malloc(len);
  if (msg == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  int n = snprintf(msg, len, "%s: %s, %s '%s'", code, text, syscall, path);
  /* libuv (and so Node) words its messages in lower case: "no such file or directory". */
  size_t at = strlen(code) + 2;
  if (n > 0 && at < (size_t)n && msg[at] >= 'A' && msg[at] <= 'Z' &&
      !(msg[at + 1] >= 'A' && msg[at + 1] <= 'Z')) {
    msg[at] = (char)(msg[at] - 'A' + 'a');
  }

  napi_value js_code, js_msg, error = NULL, js_errno, js_syscall, js_path;
  bool ok = napi_create_string_utf8(env, code, NAPI_AUTO_LENGTH, &js_code) == napi_ok &&
            napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &js_msg) == napi_ok &&
            napi_create_error(env, js_code, js_msg, &error) == napi_ok &&
            napi_create_int32(env, -err, &js_errno) == napi_ok &&
            napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &js_syscall) == napi_ok &&
            /* Invalid UTF-8 decodes to U+FFFD here: display only; the bytes stay the caller's. */
            napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &js_path) == napi_ok;
  free(msg);
  if (!ok) {
    throw_napi_failure(env, "creating an error");
    return NULL;
  }
  if (!set_prop(env, error, "errno", js_errno) || !set_prop(env, error, "syscall", js_syscall) ||
      !set_prop(env, error, "path", js_path)) {
    return NULL;
  }
  return error;
}

/* Throws Node's fs error shape for errno `err` from `syscall` on `path`. Returns NULL. */
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  napi_value error = make_errno_error(env, err, syscall, path);
  if (error != NULL) napi_throw(env, error);
  return NULL;
}

static napi_value throw_type(napi_env env, const char *code, const char *msg) {
  napi_throw_type_error(env, code, msg);
  return NULL;
}

static napi_value throw_range(napi_env env, const char *msg) {
  napi_throw_range_error(env, "ERR_OUT_OF_RANGE", msg);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Arguments
 * ------------------------------------------------------------------------------------------- */

/* The bytes of a Uint8Array (a Buffer is one). False with a TypeError pending otherwise. */
static bool get_bytes(napi_env env, napi_value v, const char *what, const uint8_t **data,
                      size_t *length) {
  bool is_typed = false;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok) {
    throw_napi_failure(env, "napi_is_typedarray");
    return false;
  }
  if (is_typed) {
    napi_typedarray_type type;
    void *p = NULL;
    if (napi_get_typedarray_info(env, v, &type, length, &p, NULL, NULL) != napi_ok) {
      throw_napi_failure(env, "napi_get_typedarray_info");
      return false;
    }
    if (type == napi_uint8_array) {
      /* N-API already adds the view's byte offset to p. */
      *data = p;
      return true;
    }
  }
  char msg[128];
  snprintf(msg, sizeof msg, "The \"%s\" argument must be a Buffer or Uint8Array", what);
  throw_type(env, "ERR_INVALID_ARG_TYPE", msg);
  return false;
}

/* A fresh NUL-terminated copy of a byte argument (free it). NULL with an exception pending. */
static char *get_cstring(napi_env env, napi_value v, const char *what) {
  const uint8_t *data = NULL;
  size_t length = 0;
  if (!get_bytes(env, v, what, &data, &length)) return NULL;
  if (length > 0 && memchr(data, 0, length) != NULL) {
    char msg[128];
    snprintf(msg, sizeof msg, "The \"%s\" argument must not contain null bytes", what);
    throw_type(env, "ERR_INVALID_ARG_VALUE", msg);
    return NULL;
  }
  char *s = malloc(length + 1);
  if (s == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  if (length > 0) memcpy(s, data, length);
  s[length] = '\0';
  return s;
}

/* Frees the first `count` strings of `paths` (NULLs allowed), then `paths`. */
static void free_paths(char **paths, size_t count) {
  if (paths == NULL) return;
  for (size_t i = 0; i < count; i++) free(paths[i]);
  free(paths);
}

/* Fresh NUL-terminated copies of the `count` byte strings in `array` (free_paths them): all or,
 * with an exception pending, NULL. */
static char **get_paths(napi_env env, napi_value array, uint32_t count) {
  char **paths = calloc(count > 0 ? count : 1, sizeof *paths);
  if (paths == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value path;
    if (napi_get_element(env, array, i, &path) != napi_ok) {
      throw_napi_failure(env, "napi_get_element");
      free_paths(paths, i);
      return NULL;
    }
    paths[i] = get_cstring(env, path, "path");
    if (paths[i] == NULL) {
      free_paths(paths, i);
      return NULL;
    }
  }
  return paths;
}

/* An integer given as a number (exactly integral, |x| <= 2^53) or a bigint (lossless). */
static bool get_int64(napi_env env, napi_value v, const char *what, int64_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) {
    throw_napi_failure(env, "napi_typeof");
    return false;
  }
  char msg[160];
  if (t == napi_bigint) {
    bool lossless = false;
    if (napi_get_value_bigint_int64(env, v, out, &lossless) != napi_ok) {
      throw_napi_failure(env, "napi_get_value_bigint_int64");
      return false;
    }
    if (!lossless) {
      snprintf(msg, sizeof msg, "The value of \"%s\" is out of range: it must fit in 64 bits", what);
      throw_range(env, msg);
      return false;
    }
    return true;
  }
  if (t == napi_number) {
    double d = 0;
    if (napi_get_value_double(env, v, &d) != napi_ok) {
      throw_napi_failure(env, "napi_get_value_double");
      return false;
    }
    /* 2^53: beyond it a double no longer names one integer. */
    if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) || d != (double)(int64_t)d) {
      snprintf(msg, sizeof msg, "The value of \"%s\" is out of range: it must be a safe integer", what);
      throw_range(env, msg);
      return false;
    }
    *out = (int64_t)d;
    return true;
  }
  snprintf(msg, sizeof msg, "The \"%s\" argument must be of type number or bigint", what);
  throw_type(env, "ERR_INVALID_ARG_TYPE", msg);
  return false;
}

/* An integer in [lo, hi] given as a number or bigint. */
static bool get_ranged(napi_env env, napi_value v, const char *what, int64_t lo, int64_t hi,
                       int64_t *out) {
  if (!get_int64(env, v, what, out)) return false;
  if (*out < lo || *out > hi) {
    char msg[200];
    snprintf(msg, sizeof msg, "The value of \"%s\" is out of range: it must be >= %lld and <= %lld",
             what, (long long)lo, (long long)hi);
    throw_range(env, msg);
    return false;
  }
  return true;
}

/* An unsigned 64-bit integer given as a bigint or a non-negative safe-integer number. */
static bool get_uint64(napi_env env, napi_value v, const char *what, uint64_t *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) {
    throw_napi_failure(env, "napi_typeof");
    return false;
  }
  if (t == napi_bigint) {
    bool lossless = false;
    if (napi_get_value_bigint_uint64(env, v, out, &lossless) != napi_ok) {
      throw_napi_failure(env, "napi_get_value_bigint_uint64");
      return false;
    }
    if (!lossless) {
      char msg[160];
      snprintf(msg, sizeof msg, "The value of \"%s\" is out of range: it must be >= 0 and < 2^64", what);
      throw_range(env, msg);
      return false;
    }
    return true;
  }
  int64_t s = 0;
  if (!get_ranged(env, v, what, 0, INT64_MAX, &s)) return false;
  *out = (uint64_t)s;
  return true;
}

static bool get_bool(napi_env env, napi_value v, const char *what, bool *out) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok) {
    throw_napi_failure(env, "napi_typeof");
    return false;
  }
  if (t != napi_boolean) {
    char msg[128];
    snprintf(msg, sizeof msg, "The \"%s\" argument must be of type boolean", what);
    throw_type(env, "ERR_INVALID_ARG_TYPE", msg);
    return false;
  }
  if (napi_get_value_bool(env, v, out) != napi_ok) {
    throw_napi_failure(env, "napi_get_value_bool");
    return false;
  }
  return true;
}

/* Fetches exactly `want` arguments into argv. */
static bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_napi_failure(env, "napi_get_cb_info");
    return false;
  }
  if (argc < want) {
    char msg[96];
    snprintf(msg, sizeof msg, "expected %zu arguments, got %zu", want, argc);
    throw_type(env, "ERR_MISSING_ARGS", msg);
    return false;
  }
  return true;
}

/* ---------------------------------------------------------------------------------------------
 * Extended attributes
 * ------------------------------------------------------------------------------------------- */

/* A growable byte buffer. */
typedef struct {
  char *data;
  size_t capacity;
} buf_t;

static bool buf_reserve(buf_t *b, size_t want) {
  if (want <= b->capacity) return true;
  size_t cap = b->capacity > 0 ? b->capacity : XATTR_INITIAL_CAPACITY;
  while (cap < want) cap *= 2;
  char *p = realloc(b->data, cap);
  if (p == NULL) return false;
  b->data = p;
  b->capacity = cap;
  return true;
}

/*
 * Reads the attribute list into b: one call when it fits, else ask the size, grow, try again
 * (the list may change in between: ERANGE means it grew). Returns its length, or -1 with errno.
 */
static ssize_t read_list(const char *path, buf_t *b) {
  for (int attempt = 0; attempt < XATTR_MAX_RETRIES; attempt++) {
    ssize_t n = llistxattr(path, b->data, b->capacity);
    if (n >= 0) return n;
    if (errno != ERANGE) return -1;
    ssize_t size = llistxattr(path, NULL, 0);
    if (size < 0) return -1;
    if (!buf_reserve(b, (size_t)size)) {
      errno = ENOMEM;
      return -1;
    }
  }
  errno = ERANGE;
  return -1;
}

/* Reads one attribute's value into b, like read_list. */
static ssize_t read_value(const char *path, const char *name, buf_t *b) {
  for (int attempt = 0; attempt < XATTR_MAX_RETRIES; attempt++) {
    ssize_t n = lgetxattr(path, name, b->data, b->capacity);
    if (n >= 0) return n;
    if (errno != ERANGE) return -1;
    ssize_t size = lgetxattr(path, name, NULL, 0);
    if (size < 0) return -1;
    if (!buf_reserve(b, (size_t)size)) {
      errno = ENOMEM;
      return -1;
    }
  }
  errno = ERANGE;
  return -1;
}

static napi_value ListXattrs(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  char *path = get_cstring(env, argv[0], "path");
  if (path == NULL) return NULL;

  napi_value result = NULL;
  buf_t names = {NULL, 0}, value = {NULL, 0};
  if (!buf_reserve(&names, XATTR_INITIAL_CAPACITY) || !buf_reserve(&value, XATTR_INITIAL_CAPACITY)) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    goto done;
  }
  ssize_t list_len = read_list(path, &names);
  if (list_len < 0) {
    /* No xattr support on this file system (or CIFS's ENODATA for "none"): no attributes. */
    if (errno != ENOTSUP && errno != ENODATA) {
      throw_errno(env, errno, "llistxattr", path);
      goto done;
    }
    list_len = 0;
  }
  if (napi_create_array(env, &result) != napi_ok) {
    throw_napi_failure(env, "napi_create_array");
    result = NULL;
    goto done;
  }
  uint32_t count = 0;
  for (ssize_t at = 0; at < list_len;) {
    const char *name = names.data + at;
    size_t remaining = (size_t)(list_len - at);
    size_t name_len = strnlen(name, remaining);
    /* Defensive: an unterminated last name (the kernel always terminates each one). */
    if (name_len == remaining) break;
    at += (ssize_t)name_len + 1;
    if (name_len == 0) continue;
    ssize_t value_len = read_value(path, name, &value);
    if (value_len < 0) {
      /* Removed since the list was read: it is no longer there to back up. */
      if (errno == ENODATA) continue;
      throw_errno(env, errno, "lgetxattr", path);
      result = NULL;
      goto done;
    }
    napi_value pair, js_name, js_value;
    if (napi_create_buffer_copy(env, name_len, name, NULL, &js_name) != napi_ok ||
        napi_create_buffer_copy(env, (size_t)value_len, value.data, NULL, &js_value) != napi_ok ||
        napi_create_array_with_length(env, 2, &pair) != napi_ok ||
        napi_set_element(env, pair, 0, js_name) != napi_ok ||
        napi_set_element(env, pair, 1, js_value) != napi_ok ||
        napi_set_element(env, result, count, pair) != napi_ok) {
      throw_napi_failure(env, "building the attribute list");
      result = NULL;
      goto done;
    }
    count++;
  }

done:
  free(names.data);
  free(value.data);
  free(path);
  return result;
}

static napi_value SetXattr(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  const uint8_t *value = NULL;
  size_t value_len = 0;
  if (!get_bytes(env, argv[2], "value", &value, &value_len)) return NULL;
  char *path = get_cstring(env, argv[0], "path");
  if (path == NULL) return NULL;
  char *name = get_cstring(env, argv[1], "name");
  if (name == NULL) {
    free(path);
    return NULL;
  }
  static const uint8_t empty = 0;
  if (lsetxattr(path, name, value_len > 0 ? (const void *)value : (const void *)&empty, value_len, 0) != 0) {
    throw_errno(env, errno, "lsetxattr", path);
  }
  free(name);
  free(path);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Times
 * ------------------------------------------------------------------------------------------- */

static bool get_timespec(napi_env env, napi_value sec, napi_value nsec, const char *sec_what,
                         const char *nsec_what, struct timespec *out) {
  int64_t s = 0, ns = 0;
  if (!get_int64(env, sec, sec_what, &s)) return false;
  if (!get_ranged(env, nsec, nsec_what, 0, 999999999, &ns)) return false;
  /* time_t is 64-bit on every 64-bit Linux and on 32-bit with _TIME_BITS=64 (see binding.gyp). */
  if ((int64_t)(time_t)s != s) {
    char msg[160];
    snprintf(msg, sizeof msg, "The value of \"%s\" is out of range: time_t has only %zu bits here",
             sec_what, sizeof(time_t) * 8);
    throw_range(env, msg);
    return false;
  }
  out->tv_sec = (time_t)s;
  out->tv_nsec = (long)ns;
  return true;
}

static napi_value Utimens(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, 6, argv)) return NULL;
  struct timespec times[2];
  bool follow = false;
  if (!get_timespec(env, argv[1], argv[2], "atimeSec", "atimeNsec", &times[0]) ||
      !get_timespec(env, argv[3], argv[4], "mtimeSec", "mtimeNsec", &times[1]) ||
      !get_bool(env, argv[5], "followSymlinks", &follow)) {
    return NULL;
  }
  char *path = get_cstring(env, argv[0], "path");
  if (path == NULL) return NULL;
  if (utimensat(AT_FDCWD, path, times, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0) {
    throw_errno(env, errno, "utimensat", path);
  }
  free(path);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Special files
 * ------------------------------------------------------------------------------------------- */

static napi_value Mknod(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  int64_t mode = 0;
  uint64_t dev = 0;
  if (!get_ranged(env, argv[1], "mode", 0, UINT32_MAX, &mode) ||
      !get_uint64(env, argv[2], "dev", &dev)) {
    return NULL;
  }
  if ((uint64_t)(dev_t)dev != dev) {
    return throw_range(env, "The value of \"dev\" is out of range for dev_t");
  }
  char *path = get_cstring(env, argv[0], "path");
  if (path == NULL) return NULL;
  /* dev is st_rdev as stat reports it (glibc's makedev encoding), which mknod takes back as is. */
  if (mknod(path, (mode_t)mode, (dev_t)dev) != 0) {
    throw_errno(env, errno, "mknod", path);
  }
  free(path);
  return NULL;
}

/* ---------------------------------------------------------------------------------------------
 * Directories
 * ------------------------------------------------------------------------------------------- */

/*
 * A directory listing job. The worker fills `names` (each name's bytes, back to back) and
 * `lengths`, or sets `err`/`syscall`; the main thread then settles `deferred`.
 */
typedef struct {
  char *path;
  napi_deferred deferred;
  napi_async_work work;
  buf_t names;
  size_t used;
  size_t *lengths;
  size_t count;
  size_t lengths_capacity;
  int err;
  const char *syscall;
} readdir_job_t;

static bool job_add_name(readdir_job_t *job, const char *name, size_t length) {
  if (job->count == job->lengths_capacity) {
    size_t cap = job->lengths_capacity > 0 ? job->lengths_capacity * 2 : 64;
    size_t *p = realloc(job->lengths, cap * sizeof *p);
    if (p == NULL) return false;
    job->lengths = p;
    job->lengths_capacity = cap;
  }
  if (!buf_reserve(&job->names, job->used + length)) return false;
  memcpy(job->names.data + job->used, name, length);
  job->used += length;
  job->lengths[job->count++] = length;
  return true;
}

/*
 * Opens job->path as a directory without following a symlink and without moving its atime, and
 * lists its names (without . and ..) into job. Returns the directory's descriptor (a second one,
 * for fstatat) when keep_fd, else closes everything and returns -1. On failure job->err and
 * job->syscall say why, and -1 is returned.
 */
static int list_directory(readdir_job_t *job, bool keep_fd) {
  int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
  /* O_NOATIME needs the owner or CAP_FOWNER: EPERM otherwise, then read without it. */
  int fd = open(job->path, flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(job->path, flags);
  if (fd < 0) {
    job->err = errno;
    job->syscall = "open";
    return -1;
  }
  /* fdopendir takes fd over; a second descriptor stays the caller's. */
  int kept = -1;
  if (keep_fd) {
    kept = dup(fd);
    if (kept < 0) {
      job->err = errno;
      job->syscall = "dup";
      close(fd);
      return -1;
    }
  }
  DIR *dir = fdopendir(fd);
  if (dir == NULL) {
    job->err = errno;
    job->syscall = "fdopendir";
    close(fd);
    if (kept >= 0) close(kept);
    return -1;
  }
  for (;;) {
    errno = 0;
    struct dirent *entry = readdir(dir);
    if (entry == NULL) {
      if (errno != 0) {
        job->err = errno;
        job->syscall = "readdir";
      }
      break;
    }
    const char *name = entry->d_name;
    if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))) continue;
    if (!job_add_name(job, name, strlen(name))) {
      job->err = ENOMEM;
      job->syscall = "readdir";
      break;
    }
  }
  closedir(dir);
  if (job->err != 0 && kept >= 0) {
    close(kept);
    return -1;
  }
  return kept;
}

static void listing_free(napi_env env, readdir_job_t *job) {
  if (job->work != NULL) napi_delete_async_work(env, job->work);
  free(job->path);
  free(job->names.data);
  free(job->lengths);
  free(job);
}

/* ---------------------------------------------------------------------------------------------
 * Directory scans and small-file reads (batched: one thread-pool job instead of one per syscall)
 * ------------------------------------------------------------------------------------------- */

/*
 * One stat as 18 int64 values, the layout scanDir and readFiles share with src/fs/native.ts:
 * dev, ino, mode, nlink, uid, gid, rdev, size, blksize, blocks, atime sec, atime nsec,
 * mtime sec, mtime nsec, ctime sec, ctime nsec, then (scanDir only) the errno of the entry's
 * fstatat (0: the stat is valid) and the size of its extended-attribute list (llistxattr: 0 none
 * or no xattr support, > 0 some, -1 the query failed: read them again to learn why; -2 not asked).
 */
#define STAT_STRIDE 18
#define STAT_ERRNO 16
#define STAT_XATTRS 17
/* scanDir(path, false): the xattr column of every stat-ed entry (the list was not asked for). */
#define XATTRS_NOT_ASKED (-2)

static void put_stat(int64_t *out, const struct stat *st) {
  out[0] = (int64_t)st->st_dev;
  out[1] = (int64_t)st->st_ino;
  out[2] = (int64_t)st->st_mode;
  out[3] = (int64_t)st->st_nlink;
  out[4] = (int64_t)st->st_uid;
  out[5] = (int64_t)st->st_gid;
  out[6] = (int64_t)st->st_rdev;
  out[7] = (int64_t)st->st_size;
  out[8] = (int64_t)st->st_blksize;
  out[9] = (int64_t)st->st_blocks;
  out[10] = (int64_t)st->st_atim.tv_sec;
  out[11] = (int64_t)st->st_atim.tv_nsec;
  out[12] = (int64_t)st->st_mtim.tv_sec;
  out[13] = (int64_t)st->st_mtim.tv_nsec;
  out[14] = (int64_t)st->st_ctim.tv_sec;
  out[15] = (int64_t)st->st_ctim.tv_nsec;
}

/* Rejects `deferred` with whatever exception is pending, or a generic error naming `what`. */
static void reject_pending(napi_env env, napi_deferred deferred, const char *what) {
  napi_value error = NULL;
  bool pending = false;
  if (napi_is_exception_pending(env, &pending) == napi_ok && pending) {
    napi_get_and_clear_last_exception(env, &error);
  } else {
    napi_value msg;
    napi_create_string_utf8(env, what, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &error);
  }
  napi_reject_deferred(env, deferred, error);
}

/* A fresh BigInt64Array over a copy of `count` int64 values. */
static bool make_int64_array(napi_env env, const int64_t *values, size_t count, napi_value *out) {
  void *data = NULL;
  napi_value ab;
  if (napi_create_arraybuffer(env, count * sizeof(int64_t), &data, &ab) != napi_ok) return false;
  if (count > 0) memcpy(data, values, count * sizeof(int64_t));
  return napi_create_typedarray(env, napi_bigint64_array, count, ab, 0, out) == napi_ok;
}

/*
 * scanDir's answer: [bytes (one Buffer of `total` bytes), ends (Float64Array
 * of `count`: where each item's bytes end), stats (BigInt64Array, STAT_STRIDE per item)]. The
 * caller fills *bytes and *ends before settling with *result.
 */
static bool make_segments(napi_env env, size_t total, size_t count, const int64_t *stat_values,
                          char **bytes, double **ends, napi_value *result) {
  napi_value data, ends_ab, ends_array, stats;
  void *data_ptr = NULL, *ends_ptr = NULL;
  bool ok = napi_create_buffer(env, total, &data_ptr, &data) == napi_ok &&
            napi_create_arraybuffer(env, count * sizeof(double), &ends_ptr, &ends_ab) == napi_ok &&
            napi_create_typedarray(env, napi_float64_array, count, ends_ab, 0, &ends_array) == napi_ok &&
            make_int64_array(env, stat_values, count * STAT_STRIDE, &stats) &&
            napi_create_array_with_length(env, 3, result) == napi_ok &&
            napi_set_element(env, *result, 0, data) == napi_ok &&
            napi_set_element(env, *result, 1, ends_array) == napi_ok &&
            napi_set_element(env, *result, 2, stats) == napi_ok;
  *bytes = data_ptr;
  *ends = ends_ptr;
  return ok;
}

/*
 * Queues a thread-pool job: a promise settled by `complete`. NULL (with a pending exception) when
 * that fails; the caller then frees the job.
 */
static napi_value queue_job(napi_env env, const char *name, napi_async_execute_callback execute,
                            napi_async_complete_callback complete, void *job, napi_deferred *deferred,
                            napi_async_work *work) {
  napi_value promise, resource;
  if (napi_create_promise(env, deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource) != napi_ok ||
      napi_create_async_work(env, NULL, resource, execute, complete, job, work) != napi_ok ||
      napi_queue_async_work(env, *work) != napi_ok) {
    /* A created promise is dropped unsettled; nobody has seen it. */
    throw_napi_failure(env, name);
    return NULL;
  }
  return promise;
}

/*
 * One scanDir call: readdir_job_t's listing, then per entry (sorted by name bytes) its lstat
 * (fstatat relative to the open directory, so no path is walked again) and xattr-list size.
 */
typedef struct {
  readdir_job_t list;
  size_t *order;  /* entry indices in name order */
  size_t *starts; /* each entry's first byte in list.names */
  int64_t *stats; /* STAT_STRIDE values per entry, in name order */
  bool xattrs;    /* ask each entry's xattr-list size (else NOT_ASKED in that column) */
} scandir_job_t;

/* qsort has no context argument: the names being sorted, for the comparator (one job per thread). */
static __thread const scandir_job_t *sorting;

static int compare_entries(const void *pa, const void *pb) {
  size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
  const scandir_job_t *job = sorting;
  size_t la = job->list.lengths[a], lb = job->list.lengths[b];
  int d = memcmp(job->list.names.data + job->starts[a], job->list.names.data + job->starts[b], la < lb ? la : lb);
  if (d != 0) return d;
  return la < lb ? -1 : la > lb ? 1 : 0;
}

static void scandir_execute(napi_env env, void *data) {
  (void)env;
  scandir_job_t *job = data;
  readdir_job_t *list = &job->list;
  int statfd = list_directory(list, true);
  if (statfd < 0) return;

  size_t n = list->count;
  job->order = malloc((n > 0 ? n : 1) * sizeof *job->order);
  job->starts = malloc((n > 0 ? n : 1) * sizeof *job->starts);
  job->stats = calloc(n > 0 ? n * STAT_STRIDE : 1, sizeof *job->stats);
  size_t path_len = strlen(list->path);
  size_t longest = 0;
  for (size_t i = 0; i < n; i++) longest = list->lengths[i] > longest ? list->lengths[i] : longest;
  /* The directory's path, a slash, the name: for llistxattr, which has no *at form. */
  char *full = malloc(path_len + longest + 2);
  if (job->order == NULL || job->starts == NULL || job->stats == NULL || full == NULL) {
    free(full);
    close(statfd);
    list->err = ENOMEM;
    list->syscall = "scandir";
    return;
  }
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    job->order[i] = i;
    job->starts[i] = at;
    at += list->lengths[i];
  }
  sorting = job;
  qsort(job->order, n, sizeof *job->order, compare_entries);
  sorting = NULL;

  memcpy(full, list->path, path_len);
  size_t prefix = path_len;
  if (prefix == 0 || full[prefix - 1] != '/') full[prefix++] = '/';
  for (size_t k = 0; k < n; k++) {
    size_t i = job->order[k];
    size_t len = list->lengths[i];
    memcpy(full + prefix, list->names.data + job->starts[i], len);
    full[prefix + len] = '\0';
    int64_t *out = job->stats + k * STAT_STRIDE;
    struct stat st;
    if (fstatat(statfd, full + prefix, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      out[STAT_ERRNO] = errno;
      continue;
    }
    put_stat(out, &st);
    if (!job->xattrs) {
      out[STAT_XATTRS] = XATTRS_NOT_ASKED;
      continue;
    }
    ssize_t size = llistxattr(full, NULL, 0);
    out[STAT_XATTRS] = size >= 0 ? size : (errno == ENOTSUP || errno == ENODATA) ? 0 : -1;
  }
  free(full);
  close(statfd);
}

static void scandir_free(napi_env env, scandir_job_t *job) {
  free(job->order);
  free(job->starts);
  free(job->stats);
  /* list is the first member: freeing it frees the whole job. */
  listing_free(env, &job->list);
}

/* Main thread: [names (one Buffer, back to back, in name order), ends (Float64Array), stats]. */
static void scandir_complete(napi_env env, napi_status status, void *data) {
  scandir_job_t *job = data;
  readdir_job_t *list = &job->list;
  napi_deferred deferred = list->deferred;
  if (status == napi_cancelled || list->err != 0) {
    napi_value error = make_errno_error(env, status == napi_cancelled ? ECANCELED : list->err,
                                        status == napi_cancelled ? "scandir" : list->syscall, list->path);
    if (error != NULL) napi_reject_deferred(env, deferred, error);
    else reject_pending(env, deferred, "cairn_native: scanDir could not build its error");
    scandir_free(env, job);
    return;
  }
  size_t n = list->count;
  napi_value result;
  char *names;
  double *ends;
  if (make_segments(env, list->used, n, job->stats, &names, &ends, &result)) {
    size_t at = 0;
    for (size_t k = 0; k < n; k++) {
      size_t i = job->order[k];
      memcpy(names + at, list->names.data + job->starts[i], list->lengths[i]);
      at += list->lengths[i];
      ends[k] = (double)at;
    }
    napi_resolve_deferred(env, deferred, result);
  } else {
    reject_pending(env, deferred, "cairn_native: scanDir could not build its result");
  }
  scandir_free(env, job);
}

static napi_value ScanDir(napi_env env, napi_callback_info info) {
  /* scanDir(path) asks for the xattrs: `xattrs` is optional. */
  napi_value argv[2];
  size_t argc = 2;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) {
    throw_napi_failure(env, "napi_get_cb_info");
    return NULL;
  }
  if (argc < 1) {
    throw_type(env, "ERR_MISSING_ARGS", "expected 1 or 2 arguments, got 0");
    return NULL;
  }
  bool xattrs = true;
  if (argc >= 2 && !get_bool(env, argv[1], "xattrs", &xattrs)) return NULL;
  scandir_job_t *job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  job->xattrs = xattrs;
  job->list.path = get_cstring(env, argv[0], "path");
  if (job->list.path == NULL) {
    free(job);
    return NULL;
  }
  napi_value promise = queue_job(env, "cairn_native.scanDir", scandir_execute, scandir_complete, job,
                                 &job->list.deferred, &job->list.work);
  if (promise == NULL) scandir_free(env, job);
  return promise;
}

/* One readFiles call: each file's first bytes (up to its own limit) and its stat after reading. */
typedef struct {
  napi_deferred deferred;
  napi_async_work work;
  size_t count;
  char **paths;
  size_t *want;
  size_t *got;
  size_t *offset; /* each file's first byte in data */
  char *data;     /* the caller's `into` (kept alive by into_ref while the job runs) */
  napi_ref into_ref;
  int64_t *stats; /* STAT_STRIDE per file; STAT_ERRNO column: errno, STAT_XATTRS column: syscall */
} readfiles_job_t;

/* Reads one file into dst (want bytes at most); 0, or an errno with *syscall set (0 open, 1 read,
 * 2 fstat: the index src/fs/native.ts names them by). */
static int read_one(const char *path, char *dst, size_t want, size_t *got, int64_t *stat_out, int *syscall) {
  int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC;
  int fd = open(path, flags | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(path, flags);
  if (fd < 0) {
    *syscall = 0;
    return errno;
  }
  *got = 0;
  while (*got < want) {
    ssize_t r = pread(fd, dst + *got, want - *got, (off_t)*got);
    if (r < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      close(fd);
      *syscall = 1;
      return err;
    }
    if (r == 0) break;
    *got += (size_t)r;
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    *syscall = 2;
    return err;
  }
  put_stat(stat_out, &st);
  /* Read-only: a failing close loses nothing, and the data is already complete. */
  close(fd);
  return 0;
}

static void readfiles_execute(napi_env env, void *data) {
  (void)env;
  readfiles_job_t *job = data;
  for (size_t i = 0; i < job->count; i++) {
    int64_t *out = job->stats + i * STAT_STRIDE;
    int syscall = 0;
    int err = read_one(job->paths[i], job->data + job->offset[i], job->want[i], &job->got[i], out, &syscall);
    if (err != 0) {
      job->got[i] = 0;
      out[STAT_ERRNO] = err;
      out[STAT_XATTRS] = syscall;
    }
  }
}

static void readfiles_free(napi_env env, readfiles_job_t *job) {
  if (job->work != NULL) napi_delete_async_work(env, job->work);
  free_paths(job->paths, job->count);
  free(job->want);
  free(job->got);
  free(job->offset);
  if (job->into_ref != NULL) napi_delete_reference(env, job->into_ref);
  free(job->stats);
  free(job);
}

/*
 * Main thread: [ends, stats]: where each file's bytes end in `into` (Float64Array; they start at
 * the sum of the maxBytes before it), and STAT_STRIDE values per file; a failed file has its errno
 * in the STAT_ERRNO column and the failed call (index into READ_SYSCALLS) in the next, and no bytes.
 */
static void readfiles_complete(napi_env env, napi_status status, void *data) {
  readfiles_job_t *job = data;
  if (status == napi_cancelled) {
    napi_value error = make_errno_error(env, ECANCELED, "read", job->count > 0 ? job->paths[0] : "");
    if (error != NULL) napi_reject_deferred(env, job->deferred, error);
    else reject_pending(env, job->deferred, "cairn_native: readFiles was cancelled");
    readfiles_free(env, job);
    return;
  }
  napi_value result, ends_ab, ends_array, stats;
  void *ends_ptr = NULL;
  if (napi_create_arraybuffer(env, job->count * sizeof(double), &ends_ptr, &ends_ab) == napi_ok &&
      napi_create_typedarray(env, napi_float64_array, job->count, ends_ab, 0, &ends_array) == napi_ok &&
      make_int64_array(env, job->stats, job->count * STAT_STRIDE, &stats) &&
      napi_create_array_with_length(env, 2, &result) == napi_ok &&
      napi_set_element(env, result, 0, ends_array) == napi_ok &&
      napi_set_element(env, result, 1, stats) == napi_ok) {
    double *ends = ends_ptr;
    for (size_t i = 0; i < job->count; i++) ends[i] = (double)(job->offset[i] + job->got[i]);
    napi_resolve_deferred(env, job->deferred, result);
  } else {
    reject_pending(env, job->deferred, "cairn_native: readFiles could not build its result");
  }
  readfiles_free(env, job);
}

/* Bytes one readFiles call may read in all. */
#define READFILES_MAX (256u << 20)

/* readFiles(paths: Uint8Array[], maxBytes: number[], into: Uint8Array) */
static napi_value ReadFiles(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  uint32_t count = 0, count2 = 0;
  bool is_array = false, is_array2 = false;
  if (napi_is_array(env, argv[0], &is_array) != napi_ok || napi_is_array(env, argv[1], &is_array2) != napi_ok) {
    throw_napi_failure(env, "napi_is_array");
    return NULL;
  }
  if (!is_array || !is_array2) return throw_type(env, "ERR_INVALID_ARG_TYPE", "The \"paths\" and \"maxBytes\" arguments must be arrays");
  if (napi_get_array_length(env, argv[0], &count) != napi_ok || napi_get_array_length(env, argv[1], &count2) != napi_ok) {
    throw_napi_failure(env, "napi_get_array_length");
    return NULL;
  }
  if (count != count2) return throw_type(env, "ERR_INVALID_ARG_VALUE", "The \"paths\" and \"maxBytes\" arrays must have the same length");
  readfiles_job_t *job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  size_t n = count > 0 ? count : 1;
  job->want = calloc(n, sizeof *job->want);
  job->got = calloc(n, sizeof *job->got);
  job->offset = calloc(n, sizeof *job->offset);
  job->stats = calloc(n * STAT_STRIDE, sizeof *job->stats);
  if (job->want == NULL || job->got == NULL || job->offset == NULL || job->stats == NULL) {
    readfiles_free(env, job);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  size_t total = 0;
  for (uint32_t i = 0; i < count; i++) {
    napi_value max;
    int64_t want = 0;
    if (napi_get_element(env, argv[1], i, &max) != napi_ok) {
      throw_napi_failure(env, "napi_get_element");
      readfiles_free(env, job);
      return NULL;
    }
    if (!get_ranged(env, max, "maxBytes", 0, READFILES_MAX - total, &want)) {
      readfiles_free(env, job);
      return NULL;
    }
    job->want[i] = (size_t)want;
    job->offset[i] = total;
    total += (size_t)want;
  }
  job->paths = get_paths(env, argv[0], count);
  if (job->paths == NULL) {
    readfiles_free(env, job);
    return NULL;
  }
  job->count = count;
  const uint8_t *into = NULL;
  size_t into_len = 0;
  if (!get_bytes(env, argv[2], "into", &into, &into_len)) {
    readfiles_free(env, job);
    return NULL;
  }
  if (into_len < total) {
    readfiles_free(env, job);
    return throw_range(env, "The \"into\" buffer is shorter than the sum of \"maxBytes\"");
  }
  /* Written on a pool thread: the caller must not use it until the promise settles. */
  job->data = (char *)into;
  if (napi_create_reference(env, argv[2], 1, &job->into_ref) != napi_ok) {
    throw_napi_failure(env, "napi_create_reference");
    readfiles_free(env, job);
    return NULL;
  }
  napi_value promise = queue_job(env, "cairn_native.readFiles", readfiles_execute, readfiles_complete, job,
                                 &job->deferred, &job->work);
  if (promise == NULL) readfiles_free(env, job);
  return promise;
}

/* ---------------------------------------------------------------------------------------------
 * Restored files: owner, permissions and times set on the open descriptor, then closed, in one
 * thread-pool job (instead of a trip to the pool for each of fchown, fchmod, utimensat, close)
 * ------------------------------------------------------------------------------------------- */

/* The step that failed, by the index src/fs/native.ts names them by (FINISH_SYSCALLS). */
#define FINISH_CHOWN 0
#define FINISH_CHMOD 1
#define FINISH_UTIMENS 2

typedef struct {
  int fd;
  bool chown;
  uid_t uid;
  gid_t gid;
  mode_t mode;
  struct timespec times[2];
  int err;     /* errno of the first failed step (0: all set) */
  int step;    /* which step failed (FINISH_*) */
  int close_err;
} finish_job_t;

static void finish_one(finish_job_t *job) {
  /* restic's order: owner, then permissions (chown clears setuid/setgid bits), then times. The
   * first failure stops the rest, as the path-based calls in the restorer do. */
  if (job->chown && fchown(job->fd, job->uid, job->gid) != 0) {
    job->err = errno;
    job->step = FINISH_CHOWN;
  } else if (fchmod(job->fd, job->mode) != 0) {
    job->err = errno;
    job->step = FINISH_CHMOD;
  } else if (futimens(job->fd, job->times) != 0) {
    job->err = errno;
    job->step = FINISH_UTIMENS;
  }
  /* Linux releases the descriptor even when close fails (EINTR included): never retried. */
  if (close(job->fd) != 0) job->close_err = errno;
}

/*
 * finishFiles(args: Float64Array), each file taking FINISH_STRIDE numbers [fd, chown (0/1), uid,
 * gid, mode, aSec, aNsec, mSec, mNsec] -> Promise<Int32Array> with [errno, step, closeErrno] per
 * file (0 errno: metadata set; 0 closeErrno: closed). The caller (src/fs/native.ts) has checked
 * every value (finishFile's ranges); a value out of range here
 * throws before anything is done, every descriptor still the caller's.
 */
#define FINISH_STRIDE 9

typedef struct {
  napi_deferred deferred;
  napi_async_work work;
  size_t count;
  finish_job_t *files;
} finish_batch_t;

static void finish_batch_execute(napi_env env, void *data) {
  finish_batch_t *batch = data;
  (void)env;
  for (size_t i = 0; i < batch->count; i++) finish_one(&batch->files[i]);
}

static void finish_batch_complete(napi_env env, napi_status status, void *data) {
  finish_batch_t *batch = data;
  if (status == napi_cancelled) {
    for (size_t i = 0; i < batch->count; i++) {
      finish_job_t *job = &batch->files[i];
      if (close(job->fd) != 0) job->close_err = errno;
      job->err = ECANCELED;
      job->step = FINISH_CHOWN;
    }
  }
  napi_value ab, result;
  void *p = NULL;
  if (napi_create_arraybuffer(env, batch->count * 3 * sizeof(int32_t), &p, &ab) == napi_ok &&
      napi_create_typedarray(env, napi_int32_array, batch->count * 3, ab, 0, &result) == napi_ok) {
    int32_t *out = p;
    for (size_t i = 0; i < batch->count; i++) {
      out[3 * i] = batch->files[i].err;
      out[3 * i + 1] = batch->files[i].step;
      out[3 * i + 2] = batch->files[i].close_err;
    }
    napi_resolve_deferred(env, batch->deferred, result);
  } else {
    reject_pending(env, batch->deferred, "cairn_native: finishFiles could not build its result");
  }
  napi_delete_async_work(env, batch->work);
  free(batch->files);
  free(batch);
}

/* An integral double in [lo, hi]; false with a RangeError pending otherwise. */
static bool get_double_ranged(napi_env env, double d, const char *what, double lo, double hi, int64_t *out) {
  if (!(d >= lo && d <= hi) || d != (double)(int64_t)d) {
    char msg[160];
    snprintf(msg, sizeof msg, "The value of \"%s\" is out of range: it must be an integer >= %.0f and <= %.0f", what, lo, hi);
    throw_range(env, msg);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

/* finishFiles(args: Float64Array) -> Promise<Int32Array> */
static napi_value FinishFiles(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!get_args(env, info, 1, argv)) return NULL;
  bool is_typed = false;
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void *p = NULL;
  if (napi_is_typedarray(env, argv[0], &is_typed) != napi_ok) {
    throw_napi_failure(env, "napi_is_typedarray");
    return NULL;
  }
  if (is_typed && napi_get_typedarray_info(env, argv[0], &type, &length, &p, NULL, NULL) != napi_ok) {
    throw_napi_failure(env, "napi_get_typedarray_info");
    return NULL;
  }
  if (!is_typed || type != napi_float64_array) return throw_type(env, "ERR_INVALID_ARG_TYPE", "The \"args\" argument must be a Float64Array");
  if (length % FINISH_STRIDE != 0) return throw_type(env, "ERR_INVALID_ARG_VALUE", "The \"args\" argument must hold 9 numbers per file");
  const double *a = p;
  size_t count = length / FINISH_STRIDE;
  finish_batch_t *batch = calloc(1, sizeof *batch);
  finish_job_t *files = calloc(count > 0 ? count : 1, sizeof *files);
  if (batch == NULL || files == NULL) {
    free(batch);
    free(files);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  const double safe = 9007199254740992.0;
  for (size_t i = 0; i < count; i++) {
    const double *f = a + i * FINISH_STRIDE;
    int64_t fd, chown_flag, uid, gid, mode, as, ans, ms, mns;
    if (!get_double_ranged(env, f[0], "fd", 0, INT32_MAX, &fd) || !get_double_ranged(env, f[1], "chown", 0, 1, &chown_flag) ||
        !get_double_ranged(env, f[2], "uid", 0, UINT32_MAX, &uid) || !get_double_ranged(env, f[3], "gid", 0, UINT32_MAX, &gid) ||
        !get_double_ranged(env, f[4], "mode", 0, 07777, &mode) || !get_double_ranged(env, f[5], "atimeSec", -safe, safe, &as) ||
        !get_double_ranged(env, f[6], "atimeNsec", 0, 999999999, &ans) || !get_double_ranged(env, f[7], "mtimeSec", -safe, safe, &ms) ||
        !get_double_ranged(env, f[8], "mtimeNsec", 0, 999999999, &mns) ||
        (int64_t)(time_t)as != as || (int64_t)(time_t)ms != ms) {
      bool pending = false;
      if (napi_is_exception_pending(env, &pending) == napi_ok && !pending) throw_range(env, "The value of \"atimeSec\" or \"mtimeSec\" does not fit in time_t here");
      free(files);
      free(batch);
      return NULL; /* nothing done: every descriptor stays the caller's */
    }
    files[i].fd = (int)fd;
    files[i].chown = chown_flag != 0;
    files[i].uid = (uid_t)uid;
    files[i].gid = (gid_t)gid;
    files[i].mode = (mode_t)mode;
    files[i].times[0].tv_sec = (time_t)as;
    files[i].times[0].tv_nsec = (long)ans;
    files[i].times[1].tv_sec = (time_t)ms;
    files[i].times[1].tv_nsec = (long)mns;
  }
  batch->count = count;
  batch->files = files;
  napi_value promise = queue_job(env, "cairn_native.finishFiles", finish_batch_execute, finish_batch_complete, batch,
                                 &batch->deferred, &batch->work);
  if (promise == NULL) {
    if (batch->work != NULL) napi_delete_async_work(env, batch->work);
    free(files);
    free(batch); /* not queued: the descriptors stay the caller's */
  }
  return promise;
}

/* ---------------------------------------------------------------------------------------------
 * Files to restore into, created or opened many in one thread-pool job:
 * openFiles(paths: Uint8Array[], flags, mode) -> Promise<Int32Array> (per path its descriptor, or
 * -errno). O_CLOEXEC is added, as libuv does for Node's fs.open.
 * ------------------------------------------------------------------------------------------- */

typedef struct {
  napi_deferred deferred;
  napi_async_work work;
  size_t count;
  char **paths;
  int *fds;
  int flags;
  mode_t mode;
} open_batch_t;

static void open_batch_free(open_batch_t *batch) {
  free_paths(batch->paths, batch->count);
  free(batch->fds);
  free(batch);
}

static void open_batch_execute(napi_env env, void *data) {
  (void)env;
  open_batch_t *batch = data;
  for (size_t i = 0; i < batch->count; i++) {
    int fd;
    do fd = open(batch->paths[i], batch->flags | O_CLOEXEC, batch->mode);
    while (fd < 0 && errno == EINTR);
    batch->fds[i] = fd >= 0 ? fd : -errno;
  }
}

static void open_batch_complete(napi_env env, napi_status status, void *data) {
  open_batch_t *batch = data;
  if (status == napi_cancelled) {
    for (size_t i = 0; i < batch->count; i++) batch->fds[i] = -ECANCELED;
  }
  napi_value ab, result;
  void *p = NULL;
  if (napi_create_arraybuffer(env, batch->count * sizeof(int32_t), &p, &ab) == napi_ok &&
      napi_create_typedarray(env, napi_int32_array, batch->count, ab, 0, &result) == napi_ok) {
    memcpy(p, batch->fds, batch->count * sizeof(int32_t));
    napi_resolve_deferred(env, batch->deferred, result);
  } else {
    /* Nobody will see the descriptors: closed here, not leaked. */
    for (size_t i = 0; i < batch->count; i++) {
      if (batch->fds[i] >= 0) close(batch->fds[i]);
    }
    reject_pending(env, batch->deferred, "cairn_native: openFiles could not build its result");
  }
  napi_delete_async_work(env, batch->work);
  open_batch_free(batch);
}

/* openFiles(paths: Uint8Array[], flags: number, mode: number) -> Promise<Int32Array> */
static napi_value OpenFiles(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv)) return NULL;
  bool is_array = false;
  uint32_t count = 0;
  int64_t flags = 0, mode = 0;
  if (napi_is_array(env, argv[0], &is_array) != napi_ok) {
    throw_napi_failure(env, "napi_is_array");
    return NULL;
  }
  if (!is_array) return throw_type(env, "ERR_INVALID_ARG_TYPE", "The \"paths\" argument must be an array");
  if (!get_ranged(env, argv[1], "flags", 0, INT32_MAX, &flags) || !get_ranged(env, argv[2], "mode", 0, 07777, &mode)) return NULL;
  if (napi_get_array_length(env, argv[0], &count) != napi_ok) {
    throw_napi_failure(env, "napi_get_array_length");
    return NULL;
  }
  open_batch_t *batch = calloc(1, sizeof *batch);
  if (batch == NULL) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  batch->fds = calloc(count > 0 ? count : 1, sizeof *batch->fds);
  if (batch->fds == NULL) {
    open_batch_free(batch);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  batch->paths = get_paths(env, argv[0], count);
  if (batch->paths == NULL) {
    open_batch_free(batch);
    return NULL;
  }
  batch->count = count;
  batch->flags = (int)flags;
  batch->mode = (mode_t)mode;
  napi_value promise = queue_job(env, "cairn_native.openFiles", open_batch_execute, open_batch_complete, batch,
                                 &batch->deferred, &batch->work);
  if (promise == NULL) {
    if (batch->work != NULL) napi_delete_async_work(env, batch->work);
    open_batch_free(batch);
  }
  return promise;
}

/* ---------------------------------------------------------------------------------------------
 * Crypto: restic's seal (IV || AES-256-CTR || Poly1305-AES) in one call, through the OpenSSL that
 * Node itself carries (its symbols are exported to addons). Results go into the caller's buffer:
 * no per-blob garbage, which node:crypto's Cipher.update makes in every call.
 * ------------------------------------------------------------------------------------------- */

/* OpenSSL's Poly1305, fetched once for the process (EVP_MAC objects are shared across threads). */
static EVP_MAC *poly1305_impl;
static pthread_once_t poly1305_once = PTHREAD_ONCE_INIT;
static void poly1305_fetch(void) { poly1305_impl = EVP_MAC_fetch(NULL, "POLY1305", NULL); }

/* Poly1305-AES of ct under (macK, macR) and the nonce iv, into tag (16 bytes). */
static bool poly1305_aes(const uint8_t *macK, const uint8_t *macR, const uint8_t *iv, const uint8_t *ct,
                         size_t n, uint8_t *tag) {
  uint8_t key[32];
  memcpy(key, macR, 16);
  /* Poly1305's clamp of r (OpenSSL clamps too; restic masks before; the same either way). */
  key[3] &= 15; key[7] &= 15; key[11] &= 15; key[15] &= 15;
  key[4] &= 252; key[8] &= 252; key[12] &= 252;
  bool ok = false;
  int outl = 0;
  EVP_CIPHER_CTX *ecb = EVP_CIPHER_CTX_new();
  if (ecb != NULL && EVP_EncryptInit_ex(ecb, EVP_aes_128_ecb(), NULL, macK, NULL) == 1 &&
      EVP_CIPHER_CTX_set_padding(ecb, 0) == 1 && EVP_EncryptUpdate(ecb, key + 16, &outl, iv, 16) == 1 &&
      outl == 16) {
    pthread_once(&poly1305_once, poly1305_fetch);
    EVP_MAC_CTX *m = poly1305_impl != NULL ? EVP_MAC_CTX_new(poly1305_impl) : NULL;
    size_t tagl = 0;
    ok = m != NULL && EVP_MAC_init(m, key, 32, NULL) == 1 && (n == 0 || EVP_MAC_update(m, ct, n) == 1) &&
         EVP_MAC_final(m, tag, &tagl, 16) == 1 && tagl == 16;
    EVP_MAC_CTX_free(m);
  }
  EVP_CIPHER_CTX_free(ecb);
  OPENSSL_cleanse(key, sizeof key);
  return ok;
}

/* AES-256-CTR of in (n bytes) into out from the counter block iv. */
static bool aes256_ctr(const uint8_t *enc, const uint8_t *iv, const uint8_t *in, size_t n, uint8_t *out) {
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  bool ok = c != NULL && EVP_EncryptInit_ex(c, EVP_aes_256_ctr(), NULL, enc, iv) == 1;
  /* EVP_EncryptUpdate takes an int length: big inputs go in pieces (CTR keeps its state). */
  for (size_t done = 0; ok && done < n;) {
    int step = n - done > (1u << 30) ? (1 << 30) : (int)(n - done);
    int outl = 0;
    ok = EVP_EncryptUpdate(c, out + done, &outl, in + done, step) == 1 && outl == step;
    done += (size_t)step;
  }
  EVP_CIPHER_CTX_free(c);
  return ok;
}

/* The three key parts of a master key: false with a TypeError pending when malformed. */
static bool get_key_parts(napi_env env, napi_value *argv, const uint8_t **enc, const uint8_t **macK,
                          const uint8_t **macR) {
  size_t le = 0, lk = 0, lr = 0;
  if (!get_bytes(env, argv[0], "encrypt", enc, &le) || !get_bytes(env, argv[1], "macK", macK, &lk) ||
      !get_bytes(env, argv[2], "macR", macR, &lr)) {
    return false;
  }
  if (le != 32 || lk != 16 || lr != 16) {
    throw_type(env, "ERR_INVALID_ARG_VALUE", "key parts must be 32, 16 and 16 bytes");
    return false;
  }
  return true;
}

/* sealInto(encrypt, macK, macR, iv, plaintext, out): out[0, n+32) = IV || CT || MAC. */
static napi_value SealInto(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 6) return throw_type(env, "ERR_MISSING_ARGS", "sealInto needs 6 arguments");
  const uint8_t *enc, *macK, *macR, *iv, *plain;
  size_t ivl = 0, n = 0, outl = 0;
  uint8_t *out;
  if (!get_key_parts(env, argv, &enc, &macK, &macR) || !get_bytes(env, argv[3], "iv", &iv, &ivl) ||
      !get_bytes(env, argv[4], "plaintext", &plain, &n) ||
      !get_bytes(env, argv[5], "out", (const uint8_t **)&out, &outl)) {
    return NULL;
  }
  if (ivl != 16) return throw_range(env, "the IV must be 16 bytes");
  if (outl < n + 32) return throw_range(env, "the output is shorter than the plaintext plus 32 bytes");
  if (plain < out + n + 32 && out < plain + n) return throw_range(env, "the output overlaps the plaintext");
  memmove(out, iv, 16);
  if (!aes256_ctr(enc, out, plain, n, out + 16) || !poly1305_aes(macK, macR, out, out + 16, n, out + 16 + n)) {
    napi_throw_error(env, "ERR_CRYPTO", "cairn_native: OpenSSL failed to seal");
    return NULL;
  }
  return NULL;
}

/* openInto(encrypt, macK, macR, sealed, out): false when the MAC is wrong (out untouched), else
 * out[0, n-32) = plaintext and true. */
static napi_value OpenInto(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5) return throw_type(env, "ERR_MISSING_ARGS", "openInto needs 5 arguments");
  const uint8_t *enc, *macK, *macR, *sealed;
  size_t n = 0, outl = 0;
  uint8_t *out;
  if (!get_key_parts(env, argv, &enc, &macK, &macR) || !get_bytes(env, argv[3], "sealed", &sealed, &n) ||
      !get_bytes(env, argv[4], "out", (const uint8_t **)&out, &outl)) {
    return NULL;
  }
  if (n < 32) return throw_range(env, "a sealed object has at least 32 bytes");
  size_t m = n - 32;
  if (outl < m) return throw_range(env, "the output is shorter than the plaintext");
  if (sealed < out + m && out < sealed + n) return throw_range(env, "the output overlaps the sealed bytes");
  uint8_t tag[16];
  if (!poly1305_aes(macK, macR, sealed, sealed + 16, m, tag)) {
    napi_throw_error(env, "ERR_CRYPTO", "cairn_native: OpenSSL failed to compute a MAC");
    return NULL;
  }
  bool good = CRYPTO_memcmp(tag, sealed + 16 + m, 16) == 0;
  if (good && !aes256_ctr(enc, sealed, sealed + 16, m, out)) {
    napi_throw_error(env, "ERR_CRYPTO", "cairn_native: OpenSSL failed to decrypt");
    return NULL;
  }
  napi_value result;
  NAPI_CALL(env, napi_get_boolean(env, good, &result));
  return result;
}

/* ---------------------------------------------------------------------------------------------
 * trimMalloc(bytes) -> boolean: glibc's M_TRIM_THRESHOLD (free memory at the top of the heap kept
 * before it goes back to the system), which also fixes the mmap threshold at its default (128 KiB)
 * instead of letting it grow to 32 MiB as large buffers are freed: larger blocks are then mapped
 * on their own and unmapped when freed. False where the C library is not glibc (nothing changed).
 * ------------------------------------------------------------------------------------------- */

static napi_value TrimMalloc(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  double bytes = -1;
  if (argc < 1 || napi_get_value_double(env, argv[0], &bytes) != napi_ok || !(bytes >= 0 && bytes <= INT_MAX) || bytes != (double)(int)bytes) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "trimMalloc(bytes): bytes must be an integer from 0 to 2^31-1");
    return NULL;
  }
  bool done = false;
#if defined(__GLIBC__)
  done = mallopt(M_TRIM_THRESHOLD, (int)bytes) == 1;
#endif
  napi_value result;
  NAPI_CALL(env, napi_get_boolean(env, done, &result));
  return result;
}

/* ---------------------------------------------------------------------------------------------
 * Module
 * ------------------------------------------------------------------------------------------- */

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
    {"listXattrs", NULL, ListXattrs, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setXattr", NULL, SetXattr, NULL, NULL, NULL, napi_enumerable, NULL},
    {"utimens", NULL, Utimens, NULL, NULL, NULL, napi_enumerable, NULL},
    {"mknod", NULL, Mknod, NULL, NULL, NULL, napi_enumerable, NULL},
    {"scanDir", NULL, ScanDir, NULL, NULL, NULL, napi_enumerable, NULL},
    {"readFiles", NULL, ReadFiles, NULL, NULL, NULL, napi_enumerable, NULL},
    {"finishFiles", NULL, FinishFiles, NULL, NULL, NULL, napi_enumerable, NULL},
    {"openFiles", NULL, OpenFiles, NULL, NULL, NULL, napi_enumerable, NULL},
    {"sealInto", NULL, SealInto, NULL, NULL, NULL, napi_enumerable, NULL},
    {"openInto", NULL, OpenInto, NULL, NULL, NULL, napi_enumerable, NULL},
    {"trimMalloc", NULL, TrimMalloc, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  NAPI_CALL(env, napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
