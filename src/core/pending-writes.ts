/**
 * Records of work already done (a message delivered, a job run that succeeded), keyed by id:
 * each write is tried a few times with a short pause between; one that still fails is kept here
 * and tried again by {@link PendingWrites.flush}, so the work is never done again for want of its
 * record. Per process: a process that dies before the write lands leaves it undone.
 */
export class PendingWrites<T> {
  private readonly kept = new Map<string, T>();

  /**
   * @param write writes the record of `id`
   * @param onKept called once when a record is first kept (the write failed every try)
   */
  constructor(
    private readonly write: (id: string, value: T) => Promise<void>,
    private readonly onKept: (id: string, error: unknown) => void,
  ) {}

  /** The record kept for `id` (done here, not yet written), if any. */
  get(id: string): T | undefined {
    return this.kept.get(id);
  }

  /** Writes the record of `id`, trying `tries` times; if every try fails, it is kept for {@link flush}. */
  async record(id: string, value: T, tries = 3): Promise<void> {
    for (let i = 1; ; i++) {
      try {
        await this.write(id, value);
        this.kept.delete(id);
        return;
      } catch (e) {
        if (i >= tries) {
          if (!this.kept.has(id)) this.onKept(id, e);
          this.kept.set(id, value);
          return;
        }
        await new Promise((r) => setTimeout(r, 100 * 4 ** (i - 1)));
      }
    }
  }

  /** One more try for each record kept. */
  async flush(): Promise<void> {
    for (const [id, value] of [...this.kept]) await this.record(id, value, 1);
  }
}
