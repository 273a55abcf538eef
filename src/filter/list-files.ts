/**
 * The list files restic 0.14 reads, parsed as it parses them:
 *
 * - text files are decoded as restic's textfile package does: a UTF-8 BOM is dropped, a UTF-16
 *   BOM (either order) selects UTF-16, anything else is UTF-8 (an invalid byte becomes U+FFFD);
 * - lines are split as Go's bufio.ScanLines splits them: at `\n`, one `\r` before it dropped, a
 *   last line without `\n` kept, no empty line after a final `\n`;
 * - `--exclude-file`: each line trimmed of Unicode white space (Go's strings.TrimSpace), blank
 *   lines and lines starting with `#` skipped, then `$NAME`/`${NAME}` replaced as Go's os.Expand
 *   does (an unset variable is empty; `$$` is a literal `$`; `~` is NOT expanded);
 * - `--files-from`: trimmed, blank and `#` lines skipped; each line is a filepath.Glob pattern
 *   (`expandGlob`); restic warns about a line that matches nothing and skips it;
 * - `--files-from-verbatim`: each non-empty line as is (no trimming, no comments, no globbing);
 * - `--files-from-raw`: names ended by NUL bytes, raw bytes kept; a missing final NUL or an empty
 *   name is an error.
 */
import { CairnError } from '../errors.js';
import { decodeUtf8, encodeUtf8 } from '../util/index.js';
import { goClean, goMatchBytes, goPatternErrorBytes } from './go-match.js';

/** A list file's bytes as text, the way restic's textfile.Read decodes them. */
export function decodeTextFile(bytes: Uint8Array): string {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return decodeUtf8(bytes.subarray(3));
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) return new TextDecoder('utf-16be').decode(bytes);
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return new TextDecoder('utf-16le').decode(bytes);
  return decodeUtf8(bytes);
}

function asText(input: string | Uint8Array): string {
  if (typeof input !== 'string') return decodeTextFile(input);
  // Text read with Node's 'utf8' keeps a BOM as U+FEFF; textfile.Read would have dropped it.
  return input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
}

/** Lines as Go's bufio.ScanLines yields them. */
export function scanLines(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf('\n', start);
    const end = nl < 0 ? text.length : nl;
    out.push(text.charCodeAt(end - 1) === 0x0d && end > start ? text.slice(start, end - 1) : text.slice(start, end));
    if (nl < 0) break;
    start = nl + 1;
  }
  return out;
}

/** unicode.IsSpace. */
function isGoSpace(c: number): boolean {
  if (c <= 0xff) return c === 0x20 || (c >= 0x09 && c <= 0x0d) || c === 0x85 || c === 0xa0;
  return c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/** strings.TrimSpace (U+FEFF is not white space to Go, unlike String.prototype.trim). */
export function goTrimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isGoSpace(s.charCodeAt(a))) a++;
  while (b > a && isGoSpace(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

const isSpecialVar = (c: string): boolean => '*#$@!?-0123456789'.includes(c);
const isAlnum = (c: number): boolean => c === 0x5f || (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);

/** The variable name after a `$` at `s[k]`: [name, characters used]; name '' with width > 0 is bad syntax. */
function shellName(s: string, k: number): [string, number] {
  if (s[k] === '{') {
    if (s.length - k > 2 && isSpecialVar(s[k + 1]!) && s[k + 2] === '}') return [s[k + 1]!, 3];
    for (let i = 1; k + i < s.length; i++) {
      if (s[k + i] === '}') return i === 1 ? ['', 2] : [s.slice(k + 1, k + i), i + 1];
    }
    return ['', 1];
  }
  if (isSpecialVar(s[k]!)) return [s[k]!, 1];
  let i = 0;
  while (k + i < s.length && isAlnum(s.charCodeAt(k + i))) i++;
  return [s.slice(k, k + i), i];
}

/**
 * Go's os.Expand: `$NAME`, `${NAME}` and `$c` for a shell special character c are replaced by
 * `mapping(name)`; a `$` followed by nothing nameable stays; `${` without `}` and `${}` vanish.
 */
export function goExpand(s: string, mapping: (name: string) => string): string {
  let out = '';
  let i = 0;
  for (let j = 0; j < s.length; j++) {
    if (s[j] === '$' && j + 1 < s.length) {
      out += s.slice(i, j);
      const [name, w] = shellName(s, j + 1);
      if (name !== '') out += mapping(name);
      else if (w === 0) out += '$';
      j += w;
      i = j + 1;
    }
  }
  return i === 0 ? s : out + s.slice(i);
}

/**
 * The patterns of an `--exclude-file`/`--iexclude-file` (text as read, or the file's bytes),
 * with environment variables from `env` expanded. Patterns that expand to nothing are dropped
 * (restic ignores empty patterns).
 */
export function parseExcludeFile(text: string | Uint8Array, env: Readonly<Record<string, string | undefined>>): string[] {
  const out: string[] = [];
  for (const raw of scanLines(asText(text))) {
    const line = goTrimSpace(raw);
    if (line === '' || line.startsWith('#')) continue;
    const p = goExpand(line, (name) => (name === '$' ? '$' : env[name] ?? ''));
    if (p !== '') out.push(p);
  }
  return out;
}

/** The patterns of a `--files-from` file: trimmed lines, blank and `#` lines skipped. Glob each with `expandGlob`. */
export function parseFilesFrom(text: string | Uint8Array): string[] {
  const out: string[] = [];
  for (const raw of scanLines(asText(text))) {
    const line = goTrimSpace(raw);
    if (line === '' || line.startsWith('#')) continue;
    out.push(line);
  }
  return out;
}

/** The paths of a `--files-from-verbatim` file: every non-empty line, untouched. */
export function parseFilesFromVerbatim(text: string | Uint8Array): string[] {
  return scanLines(asText(text)).filter((l) => l !== '');
}

/**
 * The paths of a `--files-from-raw` file: NUL-terminated names as raw bytes. An empty name or a
 * missing final NUL throws ERR_INVALID_ARGUMENT (restic: fatal). An empty file lists nothing.
 */
export function parseFilesFromRaw(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let start = 0;
  while (start < bytes.length) {
    const end = bytes.indexOf(0, start);
    if (end < 0) throw new CairnError('ERR_INVALID_ARGUMENT', '--files-from-raw: the last name has no terminating NUL byte');
    if (end === start) throw new CairnError('ERR_INVALID_ARGUMENT', `--files-from-raw: empty name after ${out.length} name(s)`);
    out.push(bytes.slice(start, end));
    start = end + 1;
  }
  return out;
}

/** The file system `expandGlob` reads (Node's fs/promises fits in a few lines). */
export interface GlobFs {
  /** lstat succeeds (the entry exists, a dangling symlink included). */
  exists(path: string): Promise<boolean>;
  /** stat (following symlinks) says it is a directory. */
  isDirectory(path: string): Promise<boolean>;
  /** The entry names of a directory; an unreadable directory may reject (treated as empty). */
  readdir(path: string): Promise<readonly string[]>;
}

const hasMeta = (p: string): boolean => /[*?[\\]/.test(p);

function compareBytes(a: string, b: string): number {
  // Go sorts names by bytes: code point order, which UTF-16 order is not above U+FFFF.
  const x = encodeUtf8(a);
  const y = encodeUtf8(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

async function globDir(dir: string, pattern: Uint8Array, fs: GlobFs, out: string[]): Promise<void> {
  if (!(await fs.isDirectory(dir).catch(() => false))) return;
  let names: readonly string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return;
  }
  for (const n of [...names].sort(compareBytes)) {
    if (goMatchBytes(pattern, encodeUtf8(n))) out.push(goClean(`${dir}/${n}`));
  }
}

/**
 * Go's filepath.Glob, as restic applies it to each `--files-from` line: a pattern without
 * wildcards is returned as is if it exists; otherwise each directory level with wildcards is
 * expanded (names sorted, dot files included) and results are cleaned paths (`./a*` gives `ab`).
 * A malformed pattern throws ERR_INVALID_ARGUMENT; no match gives [] (restic warns and skips).
 */
export async function expandGlob(pattern: string, fs: GlobFs): Promise<string[]> {
  const why = goPatternErrorBytes(encodeUtf8(pattern));
  if (why !== undefined) {
    throw new CairnError('ERR_INVALID_ARGUMENT', `pattern ${JSON.stringify(pattern)}: syntax error in pattern (${why})`, { data: { pattern } });
  }
  if (!hasMeta(pattern)) return (await fs.exists(pattern).catch(() => false)) ? [pattern] : [];
  // Go recurses once per directory level that has wildcards (at most 10 000 deep); peel the
  // levels off in a loop instead, then expand them from the top down.
  const files: Uint8Array[] = [];
  let p = pattern;
  let base: string;
  for (let depth = 0; ; depth++) {
    if (depth >= 10_000) throw new CairnError('ERR_INVALID_ARGUMENT', `pattern ${JSON.stringify(pattern)}: too many path separators`);
    const slash = p.lastIndexOf('/');
    const raw = p.slice(0, slash + 1);
    const dir = raw === '' ? '.' : raw === '/' ? '/' : raw.slice(0, -1);
    files.push(encodeUtf8(p.slice(slash + 1)));
    if (!hasMeta(dir)) {
      base = dir;
      break;
    }
    if (dir === p) throw new CairnError('ERR_INVALID_ARGUMENT', `pattern ${JSON.stringify(pattern)}: syntax error in pattern`);
    p = dir;
  }
  let current = [base];
  for (let i = files.length - 1; i >= 0; i--) {
    const next: string[] = [];
    for (const d of current) await globDir(d, files[i]!, fs, next);
    current = next;
  }
  return current;
}
