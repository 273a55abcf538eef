/**
 * Fills packs with sealed blobs and stores each once it reaches the target size (~16 MiB), with a
 * bounded number of saves in flight. Data and tree blobs get separate packers (restic requires
 * separate packs in repository v2). `onSaved` runs after a pack is durable in the backend — only
 * then may an index mention it.
 */
import type { Backend } from '../backend/index.js';
import type { MasterKey } from '../crypto/index.js';
import type { PackId } from '../model/index.js';
import { PackBuilder, type FinishedPack, type PackedBlob, type SealedBlob } from '../pack/index.js';

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
   * Stores a pack finished elsewhere (a worker thread's), with the same bound on saves in flight
   * and the same `onSaved`; resolves once the packer can take more. `afterSave` runs once the pack
   * is durable and `onSaved` ran (its bytes may then be reused).
   */
  async store(pack: FinishedPack, afterSave?: () => void): Promise<void> {
    this.check();
    const p = this.backend.save({ type: 'pack', name: pack.id }, pack.bytes).then(
      () => {
        this.onSaved(pack.id, pack.blobs, pack.bytes.length);
        afterSave?.();
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
