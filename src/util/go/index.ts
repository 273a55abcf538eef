/**
 * The parts of Go's text and JSON handling that restic's files need byte for byte (restic 0.14 is
 * built with Go 1.19): json.Marshal string escaping, base64 of `[]byte`, strconv.Quote/Unquote of
 * byte strings (with Go 1.19's table of printable runes), UTF-8 as Go treats invalid bytes, an
 * exact JSON pull parser (64-bit integers without doubles), and Go's case folding of JSON keys.
 */
export { goJsonString, goJsonBytes, ByteWriter, base64Encode, base64Decode, compactJson, sortedExtraKeys, JsonReader, foldKey, isJsonValue } from './json.js';
export { runeAt, isValidUtf8, decodeUtf8, encodeUtf8, isGoPrint, goQuote, goUnquote } from './text.js';
