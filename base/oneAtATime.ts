/**
 * Runs an async task one call at a time. A call made while a run is going on starts a new run once
 * it ends; calls made while that one waits to start join it (it starts after all of them were made,
 * so it sees what each of them was called for).
 */
export class OneAtATime {
  private last: Promise<void> = Promise.resolve();
  private waiting: Promise<void> | undefined;

  constructor(private readonly task: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.waiting) return this.waiting;
    const next = this.last.then(() => {
      this.waiting = undefined;
      return this.task();
    });
    this.waiting = next;
    this.last = next.catch(() => undefined);
    return next;
  }

  /** Resolves once every run asked for so far has ended (whether or not it failed); starts none. */
  settled(): Promise<void> {
    return this.last;
  }
}
