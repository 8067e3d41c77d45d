/**
 * The builder's job limits: actions run through a launcher (compiles sent to other machines) take the
 * launcher's slots, every other action the local job count, so a build with 32 remote slots still
 * runs its links and generators two at a time on two cores. Without a launcher there is one pool.
 */
export type Pool = 'local' | 'launched';

export class JobSlots<T> {
  private readonly running: Record<Pool, number> = { local: 0, launched: 0 };
  /** Decided actions waiting for a slot of their pool, in the order they were ready. */
  private readonly waiting: Record<Pool, T[]> = { local: [], launched: [] };

  constructor(
    private readonly localJobs: number,
    private readonly launchedSlots: number,
  ) {}

  get total(): number {
    return this.running.local + this.running.launched;
  }

  /** Whether an action of some pool could start now (so taking another ready action is worth it). */
  hasRoom(): boolean {
    return this.free('local') || this.free('launched');
  }

  free(pool: Pool): boolean {
    return this.running[pool] < (pool === 'local' ? this.localJobs : this.launchedSlots);
  }

  take(pool: Pool): void {
    this.running[pool]++;
  }

  give(pool: Pool): void {
    this.running[pool]--;
  }

  /** Keep an action until its pool has a free slot. */
  wait(pool: Pool, item: T): void {
    this.waiting[pool].push(item);
  }

  /** A waiting action whose pool has a free slot now, with its pool. */
  nextWaiting(): { pool: Pool; item: T } | undefined {
    for (const pool of ['launched', 'local'] as const) {
      if (this.waiting[pool].length > 0 && this.free(pool)) return { pool, item: this.waiting[pool].shift()! };
    }
    return undefined;
  }

  hasWaiting(): boolean {
    return this.waiting.local.length + this.waiting.launched.length > 0;
  }
}
