/**
 * Small helpers shared by every level: hex, sizes, Go text and JSON, decoded values in messages.
 * Level 0: imports only errors.
 */
export { toHex, fromHex, fromHexInto } from './hex.js';
export { parseSize, formatSize } from './size.js';
export { workerScriptUrl } from './worker-script.js';
export { nativeAddon, addonLoadError, ADDON_PATH, trimRetainedMemory } from './native-addon.js';
export { mapConcurrent, createLimiter, Fifo } from './concurrency.js';
export {
  goJsonString, goJsonBytes, ByteWriter, base64Encode, base64Decode, compactJson, sortedExtraKeys, JsonReader, foldKey, isJsonValue,
  runeAt, isValidUtf8, decodeUtf8, encodeUtf8, isGoPrint, goQuote, goUnquote,
} from './go/index.js';
export { civilFromDays, daysFromCivil } from './civil.js';
export { describeValue } from './describe.js';
export { cacheDirectory } from './cache-dir.js';
export { createProgress, type Progress } from './progress.js';
