/**
 * Coalesces concurrent single-item operations into one batched call (the DataLoader pattern, applied to
 * writes as well as reads). Items added while the event loop works through one round of I/O callbacks
 * are flushed together at `setImmediate`, and items added while `maxInFlight` batches are running wait
 * for the next one, so under load one database round trip (and one commit) serves many requests, and a
 * lone request waits for no timer. Each caller still gets its own result only after its batch finished:
 * nothing is acknowledged before it is durable.
 *
 * `run` must return one result per item, in order. When a batch of several fails, each item is retried
 * alone, so one bad item (a foreign key gone) fails only its own caller. That retry is safe for
 * statements that are atomic (a failed statement changed nothing) and for reads.
 */
export class Batcher<I, O> {
  private queue: { item: I; resolve: (value: O) => void; reject: (err: unknown) => void }[] = [];
  private scheduled = false;
  private inFlight = 0;

  constructor(
    private readonly run: (items: I[]) => Promise<O[]>,
    private readonly options: { maxBatch: number; maxInFlight: number } = { maxBatch: 256, maxInFlight: 2 },
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= this.options.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.flush();
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.options.maxBatch);
    this.inFlight++;
    try {
      await this.runBatch(batch).catch(async (err: unknown) => {
        if (batch.length === 1) return batch[0]!.reject(err);
        await Promise.all(batch.map((entry) => this.runBatch([entry]).catch(entry.reject)));
      });
    } finally {
      this.inFlight--;
      this.schedule();
    }
  }

  private async runBatch(batch: Batcher<I, O>['queue']): Promise<void> {
    const results = await this.run(batch.map((entry) => entry.item));
    if (results.length !== batch.length) throw new Error(`a batch of ${batch.length} returned ${results.length} results`);
    batch.forEach((entry, i) => entry.resolve(results[i]!));
  }
}
