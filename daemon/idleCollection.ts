import v8 from 'node:v8';

/** How long after a build or a reload the daemon collects its garbage. */
const GC_DELAY_MS = 100;

/**
 * A full collection right after a build is worth it only once the heap grew this much since the last
 * one. Measured at 1,000 TUs on a header edit (43 compiles): a full collection after every build cost
 * ~45 ms of CPU, and ~25 ms more of the next build's, when V8 compiled again the optimized code it had
 * dropped because objects it held died in that collection ("weak objects"). An import or a large
 * build's garbage is collected at once; a small build's waits until the daemon has been idle a while.
 */
const GROWTH_BYTES = 64 * 1024 * 1024;
/** Idle this long (no build, no reload), the daemon collects if the heap grew at all noticeably. */
const REST_MS = 10_000;
const REST_GROWTH_BYTES = 8 * 1024 * 1024;

export interface CollectionHooks {
  /** Collect now (default: `gc()`, from --expose-gc). */
  readonly collect?: () => void;
  /** Bytes in use on the heap (default: V8's figure). */
  readonly heapUsed?: () => number;
  readonly delayMs?: number;
  readonly restMs?: number;
}

/**
 * A full garbage collection once the daemon is idle after a build or a reload that left much garbage,
 * or once it has rested a while, rather than keep the heap (and so the resident memory) at its
 * high-water mark (needs --expose-gc).
 * Not on the way of an answer: at 1,000 TUs it took 25 ms of each one-TU rebuild's answer; a build
 * that starts first puts it off to its own end.
 */
export class IdleCollection {
  private timer: NodeJS.Timeout | undefined;
  private restTimer: NodeJS.Timeout | undefined;
  private readonly restMs: number;
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
    this.restMs = hooks.restMs ?? REST_MS;
  }

  /**
   * Collect once nothing happened for a moment if the heap grew much since the last collection, else
   * once the daemon has been idle for REST_MS if it grew at all.
   */
  soon(): void {
    this.putOff();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.collectIfGrown(GROWTH_BYTES)) return;
      this.restTimer = setTimeout(() => {
        this.restTimer = undefined;
        this.collectIfGrown(REST_GROWTH_BYTES);
      }, this.restMs);
      this.restTimer.unref();
    }, this.delayMs);
    this.timer.unref();
  }

  /** Not now (a build starts, or the daemon stops): the next `soon` schedules it again. */
  putOff(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.restTimer) clearTimeout(this.restTimer);
    this.timer = undefined;
    this.restTimer = undefined;
  }

  private collectIfGrown(bytes: number): boolean {
    if (!this.collect || this.heapUsed() - this.afterLast < bytes) return false;
    this.collect();
    this.collections++;
    this.afterLast = this.heapUsed();
    return true;
  }
}
