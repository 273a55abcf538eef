/**
 * The two ways restic 0.14 applies pattern lists, as ready-made predicates:
 *
 * - backup (`--exclude`, `--iexclude` and the patterns of `--exclude-file`/`--iexclude-file`):
 *   an entry is left out when the case-sensitive list matches its absolute path or the
 *   case-insensitive list matches it lower-cased. Each list has its own negations. The walker does
 *   not look inside a directory that is left out.
 * - restore (`--include`/`--iinclude` or `--exclude`/`--iexclude`, never both): paths are the
 *   entries' paths in the snapshot (`/home/ann/x`). With excludes, an entry is restored unless a
 *   list matches, and a restored directory is entered. With includes, an entry is restored if a
 *   list matches, and a directory is entered if something below it may match (ChildMatch), so its
 *   matching descendants are found; restic creates the directories leading to a restored entry.
 */
import { CairnError } from '../errors.js';
import { compilePatterns, type PathLike } from './restic-patterns.js';

export interface ExcludeOptions {
  /** Case-sensitive patterns (`--exclude`, then the patterns of each `--exclude-file`). @default [] */
  readonly exclude?: readonly string[];
  /** Case-insensitive patterns (`--iexclude`, then each `--iexclude-file`'s). @default [] */
  readonly iexclude?: readonly string[];
}

/** Decides which entries a backup leaves out by their absolute path. */
export interface PathExcluder {
  /** No patterns at all: `excludes` is always false. */
  readonly isEmpty: boolean;
  /** True when the entry at `path` (absolute, `/`-separated) is left out, with its subtree. */
  excludes(path: PathLike): boolean;
}

/** Compiles backup excludes; throws ERR_INVALID_ARGUMENT for a malformed pattern. */
export function compileExcludes(options: ExcludeOptions): PathExcluder {
  const sensitive = compilePatterns(options.exclude ?? []);
  const insensitive = compilePatterns(options.iexclude ?? [], { caseInsensitive: true });
  return {
    isEmpty: sensitive.isEmpty && insensitive.isEmpty,
    excludes: (path) => insensitive.matches(path) || sensitive.matches(path),
  };
}

export interface RestoreFilterOptions {
  /** Restore only what matches (`--include`). @default [] */
  readonly include?: readonly string[];
  /** Like include, ignoring case (`--iinclude`). @default [] */
  readonly iinclude?: readonly string[];
  /** Restore everything but what matches (`--exclude`). @default [] */
  readonly exclude?: readonly string[];
  /** Like exclude, ignoring case (`--iexclude`). @default [] */
  readonly iexclude?: readonly string[];
}

/** The restorer's question for one snapshot entry. */
export interface RestoreSelection {
  /** Restore this entry. */
  readonly selected: boolean;
  /** For a directory: look at its entries (false for anything else). */
  readonly descend: boolean;
}

/** Decides, for the entry at `path` in the snapshot, whether to restore it and whether to look inside. */
export type RestoreSelect = (path: PathLike, isDir: boolean) => RestoreSelection;

/**
 * restic restore's selection, or undefined when no pattern is given (restore everything).
 * Throws ERR_INVALID_ARGUMENT for a malformed pattern or for includes mixed with excludes.
 */
export function restoreSelector(options: RestoreFilterOptions): RestoreSelect | undefined {
  const include = compilePatterns(options.include ?? []);
  const iinclude = compilePatterns(options.iinclude ?? [], { caseInsensitive: true });
  const exclude = compilePatterns(options.exclude ?? []);
  const iexclude = compilePatterns(options.iexclude ?? [], { caseInsensitive: true });
  // As restic: a flag given with an empty pattern still counts (`--include ''` restores nothing).
  const hasIncludes = (options.include?.length ?? 0) + (options.iinclude?.length ?? 0) > 0;
  const hasExcludes = (options.exclude?.length ?? 0) + (options.iexclude?.length ?? 0) > 0;
  if (hasIncludes && hasExcludes) {
    throw new CairnError('ERR_INVALID_ARGUMENT', 'include and exclude patterns cannot be combined in one restore (as in restic)');
  }
  if (hasExcludes) {
    return (path, isDir) => {
      const selected = !exclude.matches(path) && !iexclude.matches(path);
      return { selected, descend: selected && isDir };
    };
  }
  if (hasIncludes) {
    return (path, isDir) => {
      const a = include.verdict(path);
      const b = iinclude.verdict(path);
      return { selected: a.matched || b.matched, descend: (a.childMayMatch || b.childMayMatch) && isDir };
    };
  }
  return undefined;
}
