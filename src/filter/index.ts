/**
 * Which paths a backup leaves out and a restore brings back: restic 0.14's exclude/include
 * patterns (internal/filter), the list files restic reads (--exclude-file, --files-from and its
 * -verbatim/-raw variants), and .gitignore rules as git applies them (cairn's --git-ignore).
 *
 * Invariants: pure and synchronous, no I/O except through what is passed in (`expandGlob` takes a
 * small file-system interface); paths are matched as bytes, as Go and git match strings, so a text
 * path is its UTF-8 encoding and a byte path (`Uint8Array`, a file name that need not be UTF-8)
 * is matched exactly; a malformed restic pattern is refused up front with ERR_INVALID_ARGUMENT,
 * never discovered half-way through a walk; a directory that is left out takes its whole subtree
 * with it, and a negation (`!`) cannot bring back anything below it. The syntax, with examples and
 * the differences from restic and git, is spec/patterns.md.
 */
export {
  compilePatterns, invalidPatterns, matchPattern, childMatchPattern, PatternSet,
  type PathLike, type PatternOptions, type PatternVerdict,
} from './restic-patterns.js';
export {
  compileExcludes, restoreSelector,
  type ExcludeOptions, type PathExcluder, type RestoreFilterOptions, type RestoreSelection, type RestoreSelect,
} from './selectors.js';
export {
  parseExcludeFile, parseFilesFrom, parseFilesFromVerbatim, parseFilesFromRaw, decodeTextFile, expandGlob, scanLines, goExpand, goTrimSpace,
  type GlobFs,
} from './list-files.js';
export { goMatch, goClean, goToLower } from './go-match.js';
export { wildmatch } from './wildmatch.js';
export { GitIgnore, GitIgnoreStack, parseGitIgnore, type GitIgnoreRule, type GitIgnoreMatch } from './gitignore.js';
