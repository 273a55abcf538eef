/**
 * Finding entries by name in snapshots (restic's `find PATTERN...`).
 *
 * A pattern without `/` is a glob (Go's filepath.Match: `*`, `?`, `[a-z]`, `\` escapes) matched
 * against an entry's name. A pattern with `/` is matched against the entry's whole path,
 * component by component, where `**` stands for any number of components: an absolute pattern
 * (`/home/*\/.bashrc`) from the root, a relative one (`src/*.go`) against the path's last
 * components, as if it began with `**\/`. An entry matches when the pattern describes the entry
 * itself — unlike restic 0.14, whose `find dir` also lists everything below `dir`.
 *
 * Each snapshot's tree is walked depth first in name order (an entry before its contents). Two
 * shortcuts keep it fast: below a directory that no absolute pattern can reach nothing is read,
 * and when every pattern is a plain name pattern (where a match cannot depend on the path above),
 * a subtree found to hold no match is remembered by its tree ID and skipped in every later
 * snapshot — most of a snapshot is usually the same trees as the one before.
 */
import { CairnError } from '../errors.js';
import { goMatch, goToLower, invalidPatterns } from '../filter/index.js';
import type { TreeId } from '../model/index.js';
import { IdSet } from '../index/index.js';
import type { Repository } from '../repository/index.js';
import type { SnapshotEntry } from '../snapshot/index.js';
import type { Node } from '../tree/index.js';
import { withSelectedSnapshots, type SelectedSnapshotsOptions } from './select.js';
import { TreeLoader } from './tree-loader.js';

/** One entry that matched. */
export interface FindMatch {
  readonly snapshot: SnapshotEntry;
  /** Its absolute path in the snapshot (`/home/ann/notes.txt`). */
  readonly path: string;
  readonly node: Node;
}

export interface FindOptions {
  /** The patterns; an entry matching any of them is reported. At least one. */
  readonly patterns: readonly string[];
  /** Match regardless of case (both sides lower-cased as Go's strings.ToLower does). @default false */
  readonly ignoreCase?: boolean;
  /** Called for each match, snapshot by snapshot (in the order given), in path order. */
  readonly onMatch?: (match: FindMatch) => void;
  /** Stops the search with ERR_INTERRUPTED. */
  readonly signal?: AbortSignal;
}

export interface FindResult {
  /** Snapshots searched. */
  readonly snapshots: number;
  /** Matches, over all snapshots. */
  readonly hits: number;
  /** Per snapshot searched, in order: its ID and how many matches it holds. */
  readonly perSnapshot: readonly { readonly id: SnapshotEntry['id']; readonly hits: number }[];
}

interface CompiledPattern {
  /** Components; the first is `**` for a relative pattern. */
  readonly parts: readonly string[];
  /** Whether the pattern has no glob characters (compared as a string). */
  readonly literal: readonly boolean[];
}

const META = /[*?[\\]/;

/** The compiled patterns of a search (see the file comment for their meaning). */
export class FindMatcher {
  private readonly compiled: readonly CompiledPattern[];
  /** Every pattern is one name pattern: whether an entry matches depends on its name only. */
  readonly nameOnly: boolean;

  /** ERR_INVALID_ARGUMENT for no pattern, an empty one, or one Go's filepath.Match rejects. */
  constructor(
    patterns: readonly string[],
    readonly ignoreCase = false,
  ) {
    if (patterns.length === 0) throw new CairnError('ERR_INVALID_ARGUMENT', 'find needs at least one pattern');
    if (patterns.some((p) => p === '' || p === '/')) throw new CairnError('ERR_INVALID_ARGUMENT', 'an empty pattern matches nothing; give a name or a glob such as "*.txt"');
    const bad = invalidPatterns(patterns);
    if (bad.length > 0) throw new CairnError('ERR_INVALID_ARGUMENT', `invalid pattern${bad.length > 1 ? 's' : ''}: ${bad.map((p) => JSON.stringify(p)).join(', ')} (unbalanced "[" or a "\\" at the end?)`, { data: { patterns: bad } });
    this.compiled = patterns.map((p) => {
      const text = ignoreCase ? goToLower(p) : p;
      const parts = text.split('/').filter((x, i) => x !== '' || i === 0);
      const absolute = parts[0] === '';
      const body = absolute ? parts.slice(1) : ['**', ...parts];
      return { parts: body, literal: body.map((x) => !META.test(x)) };
    });
    this.nameOnly = this.compiled.every((c) => c.parts.length === 2 && c.parts[0] === '**' && c.parts[1] !== '**');
  }

  /** Normalises a name for matching (lower case with `ignoreCase`). */
  key(name: string): string {
    return this.ignoreCase ? goToLower(name) : name;
  }

  /** Whether the entry at `path` (its normalised components from the root) matches a pattern. */
  matches(path: readonly string[]): boolean {
    return this.compiled.some((c) => matchParts(c, 0, path, 0));
  }

  /** Whether an entry below the directory at `path` can match a pattern. */
  mayMatchBelow(path: readonly string[]): boolean {
    return this.compiled.some((c) => prefixMatch(c, 0, path, 0));
  }
}

function matchOne(c: CompiledPattern, i: number, name: string): boolean {
  return c.literal[i] === true ? c.parts[i] === name : goMatch(c.parts[i]!, name);
}

function matchParts(c: CompiledPattern, pi: number, s: readonly string[], si: number): boolean {
  if (pi === c.parts.length) return si === s.length;
  if (c.parts[pi] === '**') {
    for (let k = s.length; k >= si; k--) if (matchParts(c, pi + 1, s, k)) return true;
    return false;
  }
  return si < s.length && matchOne(c, pi, s[si]!) && matchParts(c, pi + 1, s, si + 1);
}

function prefixMatch(c: CompiledPattern, pi: number, s: readonly string[], si: number): boolean {
  if (si === s.length) return pi < c.parts.length;
  if (pi === c.parts.length) return false;
  if (c.parts[pi] === '**') return true;
  return matchOne(c, pi, s[si]!) && prefixMatch(c, pi + 1, s, si + 1);
}

const decoder = new TextDecoder();

/**
 * Searches the trees of `snapshots` (in that order) for entries matching `options.patterns`. The
 * repository's index must be loaded. Throws ERR_INVALID_ARGUMENT for a bad pattern (before
 * reading anything), what loading a tree throws, or ERR_INTERRUPTED.
 */
export async function findInTrees(repo: Pick<Repository, 'loadBlob'>, snapshots: readonly SnapshotEntry[], options: FindOptions): Promise<FindResult> {
  const matcher = new FindMatcher(options.patterns, options.ignoreCase === true);
  /** Subtrees known to hold no match (only when matching depends on names alone). */
  const barren = new IdSet();
  /**
   * With name patterns: for a subtree holding matches, its entries that match or lead to one, so
   * that a later snapshot with the same subtree replays them without reading it again.
   */
  const memo = new Map<TreeId, MemoEntry[]>();
  let memoized = 0;
  const loader = new TreeLoader(repo, options.signal === undefined ? {} : { signal: options.signal });
  const perSnapshot: { id: SnapshotEntry['id']; hits: number }[] = [];
  let total = 0;
  for (const snapshot of snapshots) {
    let hits = 0;
    const emit = (path: string, node: Node): void => {
      hits++;
      options.onMatch?.({ snapshot, path, node });
    };
    const replay = (entries: readonly MemoEntry[], prefix: string): void => {
      for (const e of entries) {
        const path = `${prefix}/${e.name}`;
        if (e.node !== undefined) emit(path, e.node);
        if (e.subtree !== undefined) replay(memo.get(e.subtree)!, path);
      }
    };
    /** Walks a tree; true when something in it matched. */
    const walk = async (tree: TreeId, prefix: string, parts: string[]): Promise<boolean> => {
      const remembered = memo.get(tree);
      if (remembered !== undefined) {
        replay(remembered, prefix);
        return true;
      }
      let record: MemoEntry[] | undefined = matcher.nameOnly ? [] : undefined;
      const nodes = await loader.load(tree);
      const names = nodes.map((n) => decoder.decode(n.name));
      // The subtrees this walk will enter, announced so that they are read ahead.
      const enter = nodes.map((n, i) => {
        if (n.type !== 'dir' || n.subtree === undefined || barren.has(n.subtree)) return false;
        parts.push(matcher.key(names[i]!));
        const may = matcher.mayMatchBelow(parts);
        parts.pop();
        return may;
      });
      loader.prefetch(nodes.flatMap((n, i) => (enter[i] === true && !memo.has(n.subtree!) ? [n.subtree!] : [])));
      let found = false;
      for (const [i, node] of nodes.entries()) {
        const name = names[i]!;
        const path = `${prefix}/${name}`;
        parts.push(matcher.key(name));
        const matched = matcher.matches(parts);
        if (matched) {
          found = true;
          emit(path, node);
        }
        let below = false;
        if (enter[i] === true) {
          const sub = node.subtree!;
          if (barren.has(sub)) loader.discard(sub); // found barren meanwhile (a sibling with the same tree)
          else if (await walk(sub, path, parts)) below = found = true;
          else if (matcher.nameOnly) barren.add(sub);
        }
        if (below && !memo.has(node.subtree!)) record = undefined; // a replay could not descend there
        if ((matched || below) && record !== undefined) record.push({ name, ...(matched ? { node } : {}), ...(below ? { subtree: node.subtree! } : {}) });
        parts.pop();
      }
      // Remembered only while the memo stays small (a pattern matching nearly everything).
      if (found && record !== undefined && memoized + record.length <= MEMO_LIMIT) {
        memo.set(tree, record);
        memoized += record.length;
      }
      return found;
    };
    const root = snapshot.snapshot.tree;
    if (!barren.has(root) && !(await walk(root, '', [])) && matcher.nameOnly) barren.add(root);
    perSnapshot.push({ id: snapshot.id, hits });
    total += hits;
  }
  return { snapshots: snapshots.length, hits: total, perSnapshot };
}

/** One remembered entry of a subtree: it matched (`node`), or holds matches (`subtree`), or both. */
interface MemoEntry {
  readonly name: string;
  readonly node?: Node;
  readonly subtree?: TreeId;
}

/** Remembered entries, at most (about 100 bytes each). */
const MEMO_LIMIT = 1_000_000;

export interface FindInSnapshotsOptions extends FindOptions, SelectedSnapshotsOptions {}

/**
 * restic's `find`: selects the snapshots (named ones, else all passing the filter), then searches
 * them, oldest first, under a shared lock with the index loaded. See {@link findInTrees}.
 */
export async function findInSnapshots(repo: Repository, options: FindInSnapshotsOptions): Promise<FindResult> {
  new FindMatcher(options.patterns, options.ignoreCase === true); // a bad pattern fails before any I/O
  return withSelectedSnapshots(repo, options, (list) => findInTrees(repo, list, options));
}
