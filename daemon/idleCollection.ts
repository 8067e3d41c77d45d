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

/**
 * Free space in the old generation's pages, after a collection, above which the collection compacts:
 * V8's own full collections move objects off few pages only. Measured on the built 50,000-TU tree once
 * the daemon had started: 270 MB in use, 54–110 MB free on committed pages after `gc()` (RSS 415–462 MB);
 * a compacting collection left 0.6 MB free and RSS 363 MB, in 617 ms against 233 ms for `gc()`.
 */
const FRAGMENTED_BYTES = 16 * 1024 * 1024;
const FRAGMENTED_SHARE = 0.1;

function oldSpaceFree(): { free: number; used: number } {
  const old = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
  return old ? { free: old.space_size - old.space_used_size, used: old.space_used_size } : { free: 0, used: 0 };
}

function fragmented(): boolean {
  const { free, used } = oldSpaceFree();
  return free >= FRAGMENTED_BYTES && free >= used * FRAGMENTED_SHARE;
}

/**
 * A full collection that gives fragmented pages back: it compacts when the old generation's free space
 * was already large before it (garbage only adds to it), or is still after a plain one. Compaction is
 * V8's `--compact-on-every-full-gc`, set for that one collection (Node keeps V8's flags settable).
 */
export function collectGarbage(gc: () => void): void {
  if (!fragmented()) {
    gc();
    if (!fragmented()) return;
  }
  v8.setFlagsFromString('--compact-on-every-full-gc');
  try {
    gc();
  } finally {
    v8.setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

export interface CollectionHooks {
  /** Collect now (default: collectGarbage with `gc()`, from --expose-gc). */
  readonly collect?: () => void;
  /** Bytes in use on the heap (default: V8's figure). */
  readonly heapUsed?: () => number;
  /** Whether the old generation holds many free bytes on its pages (default: V8's figures, see FRAGMENTED_BYTES). */
  readonly fragmented?: () => boolean;
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
  private readonly fragmented: () => boolean;
  private readonly delayMs: number;
  /** How many collections ran (for tests and the log). */
  collections = 0;

  constructor(hooks: CollectionHooks = {}) {
    const gc = (globalThis as { gc?: () => void }).gc;
    this.collect = hooks.collect ?? (gc ? () => collectGarbage(gc) : undefined);
    this.heapUsed = hooks.heapUsed ?? (() => v8.getHeapStatistics().used_heap_size);
    this.delayMs = hooks.delayMs ?? GC_DELAY_MS;
    this.restMs = hooks.restMs ?? REST_MS;
    this.fragmented = hooks.fragmented ?? fragmented;
  }

  /**
   * Collect once nothing happened for a moment if the heap grew much since the last collection, else
   * once the daemon has been idle for REST_MS if it grew at all, or if V8's own collections left its
   * pages fragmented (at 50,000 TUs, after the bench's profile switches: 411 MB RSS at rest without this).
   */
  soon(): void {
    this.putOff();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.collectIfGrown(GROWTH_BYTES)) return;
      this.restTimer = setTimeout(() => {
        this.restTimer = undefined;
        if (!this.collectIfGrown(REST_GROWTH_BYTES) && this.fragmented()) this.collectNow();
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
    this.collectNow();
    return true;
  }

  private collectNow(): void {
    if (!this.collect) return;
    this.collect();
    this.collections++;
    this.afterLast = this.heapUsed();
  }
}
