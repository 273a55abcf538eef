/**
 * Fills packs with sealed blobs and stores each once it reaches the target size (~16 MiB), with a
 * bounded number of saves in flight. Data and tree blobs get separate packers (restic requires
 * separate packs in repository v2). `onSaved` runs after a pack is durable in the backend — only
 * then may an index mention it. Packs finished elsewhere (a blob worker's, written to a temporary
 * file) are stored through the same bound: moved into place by `Backend.saveFile` where the
 * backend has it, else read back and saved; the temporary file is gone afterwards either way.
 */
import { readFile, unlink } from 'node:fs/promises';
import type { Backend, Handle } from '../backend/index.js';
import type { MasterKey } from '../crypto/index.js';
import { CairnError, messageOf } from '../errors.js';
import type { PackId } from '../model/index.js';
import { PackBuilder, type FinishedPack, type PackedBlob, type SealedBlob } from '../pack/index.js';

/** A finished pack in a temporary file (complete and closed, not yet durable). */
export interface SpilledPack {
  readonly id: PackId;
  /** The temporary file's path. */
  readonly file: string;
  readonly size: number;
  readonly blobs: PackedBlob[];
}

/** Stores the pack in the temporary file `file` as `h`; the file is gone afterwards, also on failure. */
async function saveSpilled(backend: Backend, h: Handle, file: string): Promise<void> {
  try {
    if (backend.saveFile !== undefined) {
      await backend.saveFile(h, file);
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (e) {
      throw new CairnError('ERR_BACKEND', `reading back the finished pack ${file} failed: ${messageOf(e)}; check the temporary directory`, { cause: e, data: { path: file, retryable: false } });
    }
    await backend.save(h, bytes);
  } finally {
    // saveFile moved it (ENOENT now) or left it behind on failure.
    await unlink(file).catch(() => undefined);
  }
}

export class Packer {
  private builder: PackBuilder;
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown;

  constructor(
    private readonly key: MasterKey,
    private readonly backend: Backend,
    private readonly targetSize: number,
    private readonly maxInFlight: number,
    private readonly onSaved: (id: PackId, blobs: readonly PackedBlob[], size: number) => void,
  ) {
    this.builder = new PackBuilder(key);
  }

  /** Adds a blob; resolves once the packer can take more (back-pressure on slow storage). */
  async add(blob: SealedBlob): Promise<void> {
    this.check();
    this.builder.add(blob);
    if (this.builder.size >= this.targetSize) await this.cut();
  }

  /** Stores the pack in progress (if any) and waits for every save. */
  async flush(): Promise<void> {
    if (this.builder.count > 0) await this.cut();
    await Promise.all(this.inFlight);
    this.check();
  }

  private async cut(): Promise<void> {
    const pack = this.builder.finish();
    this.builder = new PackBuilder(this.key);
    await this.store(pack);
  }

  /**
   * Stores a pack finished elsewhere (a worker thread's, in memory or in a temporary file), with
   * the same bound on saves in flight and the same `onSaved`; resolves once the packer can take
   * more.
   */
  async store(pack: FinishedPack | SpilledPack): Promise<void> {
    this.check();
    const h: Handle = { type: 'pack', name: pack.id };
    const saving = 'file' in pack ? saveSpilled(this.backend, h, pack.file) : this.backend.save(h, pack.bytes);
    const p = saving.then(
      () => {
        this.onSaved(pack.id, pack.blobs, 'file' in pack ? pack.size : pack.bytes.length);
      },
      (e: unknown) => {
        this.failure ??= e;
      },
    );
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    this.check();
  }

  private check(): void {
    if (this.failure !== undefined) throw this.failure;
  }
}
