/**
 * Loading trees for a depth-first walk, with read-ahead: the walker says which subtrees it will
 * visit (`prefetch`), and they are loaded a few at a time while it works on the current one, so the
 * walk does not wait for one pack read after another. Read-ahead goes depth first too (the
 * subtrees named last are loaded last), and at most `window` loaded trees wait to be taken; a
 * tree asked for that is not waiting is loaded at once. An error of a read-ahead load surfaces
 * when that tree is asked for.
 */
import { CairnError } from '../errors.js';
import type { TreeId } from '../model/index.js';
import type { Repository } from '../repository/index.js';
import { compareNames, decodeTree, type Node } from '../tree/index.js';

export interface TreeLoaderOptions {
  /** Loads at once. @default 8 */
  readonly concurrency?: number;
  /** Loaded (or loading) trees waiting to be taken, at most. @default 256 */
  readonly window?: number;
  /** `load` fails with ERR_INTERRUPTED once aborted. */
  readonly signal?: AbortSignal;
}

export class TreeLoader {
  private readonly waiting = new Map<TreeId, Promise<Node[]>>();
  /** Read-ahead requests, a stack: the last pushed is loaded first. */
  private readonly queue: TreeId[] = [];
  /** Announcements not yet fulfilled, per tree (a tree loaded without read-ahead fulfils one). */
  private readonly announced = new Map<TreeId, number>();
  private active = 0;
  private readonly concurrency: number;
  private readonly window: number;

  constructor(
    private readonly repo: Pick<Repository, 'loadBlob'>,
    private readonly options: TreeLoaderOptions = {},
  ) {
    this.concurrency = Math.max(1, options.concurrency ?? 8);
    this.window = Math.max(1, options.window ?? 256);
  }

  /** The tree's nodes, sorted by name bytes (restic writes them so; a tree that is not is sorted here). */
  async load(id: TreeId): Promise<Node[]> {
    if (this.options.signal?.aborted === true) throw new CairnError('ERR_INTERRUPTED', 'interrupted');
    let p = this.waiting.get(id);
    if (p !== undefined) this.waiting.delete(id);
    else {
      this.fulfil(id);
      p = this.fetch(id);
    }
    try {
      return await p;
    } finally {
      this.pump();
    }
  }

  /** Announces that these trees will be loaded, in this order (after what is already announced). */
  prefetch(ids: readonly TreeId[]): void {
    for (let i = ids.length - 1; i >= 0; i--) {
      const id = ids[i]!;
      this.queue.push(id);
      this.announced.set(id, (this.announced.get(id) ?? 0) + 1);
    }
    this.pump();
  }

  /** One announcement of `id` is taken care of; true when there was one. */
  private fulfil(id: TreeId): boolean {
    const n = this.announced.get(id) ?? 0;
    if (n === 0) return false;
    if (n === 1) this.announced.delete(id);
    else this.announced.set(id, n - 1);
    return true;
  }

  /** Forgets a tree announced but not to be loaded after all. */
  discard(id: TreeId): void {
    if (!this.waiting.delete(id)) this.fulfil(id);
  }

  private pump(): void {
    while (this.active < this.concurrency && this.queue.length > 0 && this.waiting.size < this.window) {
      const id = this.queue.pop()!;
      if (!this.fulfil(id) || this.waiting.has(id)) continue;
      const p = this.fetch(id);
      p.catch(() => undefined); // reported to whoever loads it
      this.waiting.set(id, p);
    }
  }

  private async fetch(id: TreeId): Promise<Node[]> {
    this.active++;
    try {
      const nodes = decodeTree(await this.repo.loadBlob('tree', id), `tree ${id}`, { allowUnsafeNames: true, allowUnsorted: true }).nodes;
      return [...nodes].sort((x, y) => compareNames(x.name, y.name));
    } finally {
      this.active--;
      this.pump();
    }
  }
}
