/**
 * .gitignore files as git applies them (git 2.x dir.c + wildmatch), for cairn's --git-ignore.
 *
 * Parsing a file: a UTF-8 BOM is skipped; lines end at `\n` (one `\r` before it is dropped); empty
 * lines and lines starting with `#` are skipped; trailing spaces are cut unless escaped with `\`;
 * a leading `!` negates; one trailing `/` makes the rule match directories only; a rule with no
 * other `/` matches the entry's name at any depth below the file's directory, a rule with a `/`
 * (leading or inside) matches the path relative to that directory (a leading `/` is dropped), `*`,
 * `?` and `[...]` then never crossing a `/`. `\` escapes (`\#`, `\!`, `\ `) are the matcher's.
 *
 * Deciding an entry: the .gitignore files that apply are those of its ancestors; the deepest file
 * is asked first and, within a file, the last rule first; the first rule that matches decides
 * (ignored, or not if it is negated). Nothing matching: not ignored. An entry inside an ignored
 * directory is ignored whatever its own rules say (git never reads below an ignored directory, so a
 * `!` cannot re-include it), and a directory's own .gitignore does not apply to the directory.
 *
 * Paths are `/`-separated and spelled like the directories given to `with`/`push` (absolute, or
 * all relative to the same place), without trailing slashes. Text is matched as UTF-8 bytes and
 * byte paths as they are, as git does. `.git` gets no special treatment: rules apply to it like to
 * any name (git never lists its own .git; cairn backs up what is on disk unless a rule says not to).
 */
import { encodeUtf8 } from '../util/index.js';
import type { PathLike } from './restic-patterns.js';
import { wildmatch } from './wildmatch.js';
import { BACKSLASH, SLASH, SPACE } from './chars.js';

/** One rule of a .gitignore file. */
export interface GitIgnoreRule {
  /** The pattern after `!` and the trailing `/` are taken off (leading `/` kept), as UTF-8 text. */
  readonly pattern: string;
  /** 1-based line number in its file. */
  readonly line: number;
  /** `!`: a match means "not ignored". */
  readonly negated: boolean;
  /** Trailing `/`: matches directories only. */
  readonly dirOnly: boolean;
  /** No `/` in the pattern: matched against the entry's name at any depth. */
  readonly basename: boolean;
}

interface Rule extends GitIgnoreRule {
  /** Bytes handed to wildmatch (a leading `/` dropped for path rules). */
  readonly bytes: Uint8Array;
}

/** Which rule decided, for messages and tests (`git check-ignore -v`). */
export interface GitIgnoreMatch {
  readonly rule: GitIgnoreRule;
  /** The directory whose .gitignore holds the rule. */
  readonly dir: string;
  /** The source name given to `with`/`push` (default `<dir>/.gitignore`). */
  readonly source: string;
  /** True when the entry is ignored (the rule is not negated, or an ancestor is ignored). */
  readonly ignored: boolean;
}

function trimTrailingSpaces(line: Uint8Array): Uint8Array {
  let lastSpace = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === SPACE) {
      if (lastSpace < 0) lastSpace = i;
    } else if (c === BACKSLASH) {
      i++;
      if (i >= line.length) return line;
      lastSpace = -1;
    } else lastSpace = -1;
  }
  return lastSpace < 0 ? line : line.subarray(0, lastSpace);
}

const decoder = new TextDecoder();

function parseLine(raw: Uint8Array, lineNo: number): Rule | undefined {
  let line = raw;
  const nul = line.indexOf(0);
  if (nul >= 0) line = line.subarray(0, nul); // git reads each line as a C string
  line = trimTrailingSpaces(line);
  let negated = false;
  if (line[0] === 0x21) {
    negated = true;
    line = line.subarray(1);
  }
  let dirOnly = false;
  if (line.length > 0 && line[line.length - 1] === SLASH) {
    dirOnly = true;
    line = line.subarray(0, -1);
  }
  if (line.length === 0) return undefined; // matches nothing
  const basename = line.indexOf(SLASH) < 0;
  const bytes = !basename && line[0] === SLASH ? line.subarray(1) : line;
  return { pattern: decoder.decode(line), line: lineNo, negated, dirOnly, basename, bytes: bytes.slice() };
}

function parseRules(text: string | Uint8Array): Rule[] {
  let b = typeof text === 'string' ? encodeUtf8(text) : text;
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  const rules: Rule[] = [];
  let start = 0;
  let lineNo = 1;
  for (let i = 0; i <= b.length; i++) {
    if (i < b.length && b[i] !== 0x0a) continue;
    // git appends a final newline, so the last line counts even without one.
    if (i > start && b[start] !== 0x23) {
      const end = b[i - 1] === 0x0d ? i - 1 : i;
      const r = parseLine(b.subarray(start, end), lineNo);
      if (r !== undefined) rules.push(r);
    }
    lineNo++;
    start = i + 1;
  }
  return rules;
}

/** The rules of one .gitignore file (text, or its bytes), in file order. */
export function parseGitIgnore(text: string | Uint8Array): GitIgnoreRule[] {
  return parseRules(text).map(({ bytes: _bytes, ...rule }) => rule);
}

interface Frame {
  /** The directory, without trailing slash ('' for the root `/`). */
  readonly dir: Uint8Array;
  readonly dirText: string;
  readonly source: string;
  readonly rules: readonly Rule[];
}

function toBytes(p: PathLike): Uint8Array {
  return typeof p === 'string' ? encodeUtf8(p) : p;
}

function normalizeDir(d: Uint8Array): Uint8Array {
  let end = d.length;
  while (end > 0 && d[end - 1] === SLASH) end--;
  return d.subarray(0, end);
}

/** Where `path` continues below `dir` (the index after `dir/`), or -1 if it is not strictly below. */
function below(dir: Uint8Array, path: Uint8Array): number {
  if (dir.length === 0) return path.length > 1 && path[0] === SLASH ? 1 : -1;
  if (path.length <= dir.length + 1 || path[dir.length] !== SLASH) return -1;
  for (let i = 0; i < dir.length; i++) if (path[i] !== dir[i]) return -1;
  return dir.length + 1;
}

function lastSlash(p: Uint8Array): number {
  for (let i = p.length - 1; i >= 0; i--) if (p[i] === SLASH) return i;
  return -1;
}

/**
 * An immutable stack of .gitignore files, one per directory on the way down. `with` returns a
 * new stack; `GitIgnoreStack` wraps it with push/pop for walkers that keep one mutable state.
 */
export class GitIgnore {
  static readonly EMPTY = new GitIgnore([]);
  readonly #frames: readonly Frame[];

  private constructor(frames: readonly Frame[]) {
    this.#frames = frames;
  }

  /** How many .gitignore files (with at least one rule) apply. */
  get depth(): number {
    return this.#frames.length;
  }

  /**
   * This stack plus the .gitignore of directory `dir` (its text or bytes; undefined or a file
   * without rules adds nothing). `source` names it in matches (default `<dir>/.gitignore`).
   */
  with(dir: PathLike, text: string | Uint8Array | undefined, source?: string): GitIgnore {
    if (text === undefined) return this;
    const rules = parseRules(text);
    if (rules.length === 0) return this;
    const d = normalizeDir(toBytes(dir));
    const dirText = d.length === 0 ? '/' : decoder.decode(d);
    const frame: Frame = { dir: d, dirText, source: source ?? `${dirText === '/' ? '' : dirText}/.gitignore`, rules };
    return new GitIgnore([...this.#frames, frame]);
  }

  /**
   * Whether the walker should leave out the entry at `path` (`isDir` from lstat: a symlink to a
   * directory is not a directory), given that its parent directory was not itself left out —
   * the walker's contract: it never asks about, or pushes rules for, anything inside an ignored
   * directory. Use `ignoredWithParents` to ask about an arbitrary path.
   */
  ignored(path: PathLike, isDir: boolean): boolean {
    const m = this.#decide(toBytes(path), isDir, this.#frames.length);
    return m !== undefined && !m.rule.negated;
  }

  /** Like `ignored`, but also true when a directory above `path` is ignored (git check-ignore). */
  ignoredWithParents(path: PathLike, isDir: boolean): boolean {
    return this.explain(path, isDir)?.ignored ?? false;
  }

  /** The rule that decides `path` (an ignored ancestor's rule first), or undefined if none matches. */
  explain(path: PathLike, isDir: boolean): GitIgnoreMatch | undefined {
    const p = toBytes(path);
    const frames = this.#frames;
    if (frames.length > 0) {
      // Ancestors strictly below the top .gitignore's directory, top down, each judged by the
      // files of the directories above it.
      const top = frames[0]!.dir;
      const from = below(top, p);
      if (from >= 0) {
        for (let i = from; i < p.length; i++) {
          if (p[i] !== SLASH) continue;
          const ancestor = p.subarray(0, i);
          let usable = 0;
          while (usable < frames.length && below(frames[usable]!.dir, ancestor) >= 0) usable++;
          const m = this.#decide(ancestor, true, usable);
          if (m !== undefined && !m.rule.negated) return { ...m, ignored: true };
        }
      }
    }
    const m = this.#decide(p, isDir, frames.length);
    return m === undefined ? undefined : { ...m, ignored: !m.rule.negated };
  }

  #decide(path: Uint8Array, isDir: boolean, count: number): Omit<GitIgnoreMatch, 'ignored'> | undefined {
    const slash = lastSlash(path);
    const name = path.subarray(slash + 1);
    for (let f = count - 1; f >= 0; f--) {
      const frame = this.#frames[f]!;
      const rel = below(frame.dir, path);
      if (rel < 0) continue;
      const relPath = path.subarray(rel);
      for (let r = frame.rules.length - 1; r >= 0; r--) {
        const rule = frame.rules[r]!;
        if (rule.dirOnly && !isDir) continue;
        if (wildmatch(rule.bytes, rule.basename ? name : relPath, !rule.basename)) {
          const { bytes: _bytes, ...plain } = rule;
          return { rule: plain, dir: frame.dirText, source: frame.source };
        }
      }
    }
    return undefined;
  }
}

/** A mutable GitIgnore for walkers with enter/leave hooks: one `push` per directory entered, one `pop` on leaving. */
export class GitIgnoreStack {
  #current: GitIgnore = GitIgnore.EMPTY;
  readonly #saved: GitIgnore[] = [];

  /** The current immutable stack. */
  get current(): GitIgnore {
    return this.#current;
  }

  /** Enters directory `dir` with its .gitignore (undefined when it has none: still pair with `pop`). */
  push(dir: PathLike, text: string | Uint8Array | undefined, source?: string): void {
    this.#saved.push(this.#current);
    this.#current = this.#current.with(dir, text, source);
  }

  /** Leaves the directory of the matching `push`. */
  pop(): void {
    const prev = this.#saved.pop();
    if (prev !== undefined) this.#current = prev;
  }

  /** See GitIgnore.ignored. */
  ignored(path: PathLike, isDir: boolean): boolean {
    return this.#current.ignored(path, isDir);
  }
}
