import v8 from 'node:v8';

/** How long after a build or a reload the daemon collects its garbage. */
const GC_DELAY_MS = 100;

/**
 * A full collection is worth it only once the heap grew this much since the last one. Measured at
 * 1,000 TUs on a header edit (43 compiles): a full collection after every build cost ~45 ms of CPU
 * while idle, and ~25 ms more of the next build's, when V8 compiled again the optimized code it had
 * dropped because objects it held died in that collection ("weak objects"). A small build's garbage is
 * left to V8's own collector; an import or a large build's is collected at once.
 */
const GROWTH_BYTES = 64 * 1024 * 1024;

export interface CollectionHooks {
  /** Collect now (default: `gc()`, from --expose-gc). */
  readonly collect?: () => void;
  /** Bytes in use on the heap (default: V8's figure). */
  readonly heapUsed?: () => number;
  readonly delayMs?: number;
}

/**
 * A full garbage collection once the daemon is idle after a build or a reload that left much garbage,
 * rather than keep the heap (and so the resident memory) at its high-water mark (needs --expose-gc).
 * Not on the way of an answer: at 1,000 TUs it took 25 ms of each one-TU rebuild's answer; a build
 * that starts first puts it off to its own end.
 */
export class IdleCollection {
  private timer: NodeJS.Timeout | undefined;
  /** The heap in use right after the last collection (0: none yet, so the first one happens). */
  private afterLast = 0;
  private readonly collect: (() => void) | undefined;
  private readonly heapUsed: () => number;
  private readonly delayMs: number;
  /** How many collections ran (for tests and the log). */
  collections = 0;

  constructor(hooks: CollectionHooks = {}) {
    this.collect = hooks.collect ?? (globalThis as { gc?: () => void }).gc;
    this.heapUsed = hooks.heapUsed ?? (() => v8.getHeapStatistics().used_heap_size);
    this.delayMs = hooks.delayMs ?? GC_DELAY_MS;
  }

  /** Collect once nothing happened for a moment, if the heap grew enough since the last collection. */
  soon(): void {
    this.putOff();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.collect || this.heapUsed() - this.afterLast < GROWTH_BYTES) return;
      this.collect();
      this.collections++;
      this.afterLast = this.heapUsed();
    }, this.delayMs);
    this.timer.unref();
  }

  /** Not now (a build starts, or the daemon stops): the next `soon` schedules it again. */
  putOff(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
