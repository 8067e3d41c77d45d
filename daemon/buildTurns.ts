/**
 * The daemon's builds take turns: one at a time, in the order asked. A build still waiting for its
 * turn is dropped at once when its signal aborts (its client went away or pressed Ctrl-C: the client
 * must not wait for the builds before it); one that runs is stopped through the same signal.
 */
export class BuildTurns {
  private chain: Promise<unknown> = Promise.resolve();
  /** Builds asked for and not ended. */
  private pending = 0;

  /** `onQueued` is called at once when the build must wait for others. */
  take<T>(build: () => Promise<T>, signal?: AbortSignal, onQueued?: () => void): Promise<T> {
    if (this.pending > 0) onQueued?.();
    this.pending++;
    let started = false;
    const start = (): Promise<T> => {
      started = true;
      return build();
    };
    const next = this.chain.then(start, start);
    this.chain = next.catch(() => undefined).finally(() => this.pending--);
    if (!signal) return next;
    const dropped = new Promise<never>((_, reject) => {
      const drop = (): void => {
        if (!started) reject(signal.reason);
      };
      if (signal.aborted) drop();
      else signal.addEventListener('abort', drop, { once: true });
      void next.finally(() => signal.removeEventListener('abort', drop)).catch(() => undefined);
    });
    return Promise.race([next, dropped]);
  }

  /** Whether a build is asked for and not ended (waiting its turn, or running). */
  get busy(): boolean {
    return this.pending > 0;
  }

  /** Resolved when the builds asked for so far have ended. */
  idle(): Promise<void> {
    return this.chain.then(() => undefined);
  }
}
