interface Waiting<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (error: unknown) => void;
}

/**
 * Writes items in groups: one write runs at a time, and each takes every item that arrived while the
 * one before it ran (up to `maxGroup`). The first write waits one event-loop turn, so requests read
 * from the sockets together share it even when the database answers synchronously (the embedded one
 * does). Under load, many requests share one transaction; alone, an item waits only that turn. A group
 * that fails is written again one item at a time, so one bad item fails alone.
 */
export class GroupCommit<I, O> {
  private waiting: Waiting<I, O>[] = [];
  private writing = false;

  constructor(
    private readonly write: (items: I[]) => Promise<O[]>,
    private readonly maxGroup = 256,
  ) {}

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    await new Promise((resolve) => setImmediate(resolve)); // let the requests already read arrive
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0, this.maxGroup);
      try {
        const out = await this.write(group.map((w) => w.item));
        group.forEach((w, i) => w.resolve(out[i]!));
      } catch (error) {
        if (group.length === 1) group[0]!.reject(error);
        else for (const w of group) await this.write([w.item]).then(([out]) => w.resolve(out!), w.reject);
      }
    }
    this.writing = false;
  }
}
