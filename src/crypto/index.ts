/**
 * restic's cryptography, byte for byte: the master key, authenticated encryption of every stored
 * object, and the password-wrapped key files. No I/O; level 1 (imports only errors).
 *
 * Invariants:
 * - Every encrypted object is `IV(16) || AES-256-CTR(plaintext) || Poly1305-AES(ciphertext)(16)`,
 *   `CRYPTO_OVERHEAD` = 32 bytes more than its plaintext. The IV is random and never all zero; it is
 *   both the full 128-bit big-endian CTR counter block and the Poly1305-AES nonce. The MAC covers
 *   the ciphertext only; its one-time key is `clamp(macR) || AES-128-ECB(macK, IV)`.
 * - `open` authenticates before it decrypts: length, IV and MAC (constant-time comparison) are
 *   checked first, and on failure no plaintext is returned. A MAC mismatch is ERR_AUTH_FAILED;
 *   bytes too short to be an object, or an all-zero IV, are ERR_CORRUPT.
 *   `openInto` is `open` into a caller's buffer (the same checks and errors; `open` is built on it).
 * - A key file is plain JSON in Go's field order; `encodeKeyFile` writes exactly restic's bytes for
 *   the same values, and the sealed master key JSON inside matches restic's too. The user key is
 *   scrypt(password bytes, 64-byte salt, N, r, p, 64 bytes). Parameters from a key file are
 *   validated and capped (kdf.ts) before scrypt runs, so a planted key file cannot exhaust memory.
 * - A wrong password is not an error: `unlockKeyFile` resolves undefined and the caller tries the
 *   next key file.
 * - Keys are treated as immutable once made (per-key cipher state is cached by object identity).
 *   Poly1305 runs in libsodium (sodium-native), AES in node:crypto (OpenSSL, AES-NI).
 */
export {
  CRYPTO_OVERHEAD,
  IV_SIZE,
  MAC_SIZE,
  clampR,
  masterKeyFromBytes,
  newMasterKey,
  type MasterKey,
} from './master-key.js';
export { open, openInto, seal, sealInto, sealedLength, verifyMac, nativeSeal, useNativeSeal } from './seal.js';
export {
  DEFAULT_KDF,
  MAX_KDF_MEMORY,
  MAX_KDF_WORK,
  SALT_SIZE,
  calibrateKdf,
  deriveUserKey,
  parseKdfSpec,
  type KdfParams,
} from './kdf.js';
export {
  createKeyFile,
  decodeKeyFile,
  decodeMasterKeyJson,
  encodeKeyFile,
  encodeMasterKeyJson,
  unlockKeyFile,
  type CreateKeyFileOptions,
  type KeyFile,
} from './key-file.js';
