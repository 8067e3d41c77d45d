/** How long after a build or a reload the daemon collects its garbage. */
const GC_DELAY_MS = 100;

/**
 * A full garbage collection once the daemon is idle, rather than keep the heap (and so the resident
 * memory) at its high-water mark (needs --expose-gc). Not on the way of an answer: at 1,000 TUs it
 * took 25 ms of each one-TU rebuild's answer; a build that starts first puts it off to its own end.
 */
export class IdleCollection {
  private timer: NodeJS.Timeout | undefined;

  /** Collect once nothing happened for a moment (an import or a build just left its garbage). */
  soon(): void {
    this.putOff();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      (globalThis as { gc?: () => void }).gc?.();
    }, GC_DELAY_MS);
    this.timer.unref();
  }

  /** Not now (a build starts, or the daemon stops): the next `soon` schedules it again. */
  putOff(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
