import fs from 'node:fs';

/**
 * When the process's inotify queue may have overflowed. The kernel queues at most
 * `fs.inotify.max_queued_events` events per inotify instance (the value in force when the instance is
 * made), then queues one IN_Q_OVERFLOW and drops the rest. libuv reads every fs.watch of a process
 * from one instance and skips IN_Q_OVERFLOW without a word (it belongs to no watch), so Node never
 * says that events were lost. What it cannot hide: libuv reads the queue until it is empty in one
 * turn of the event loop, so an overflowed queue arrives as a burst of at least the queue's capacity
 * in one turn (each event distinct: inotify merges an event only into an identical one just before
 * it). A burst of half that is taken as a possible loss: a false alarm costs one stat of every
 * tracked path, a missed one a wrong build.
 *
 * Not seen: events of a watch closed during the burst (libuv drops them before they reach us). Builds
 * with the folder watcher verify every tracked path whatever this says (see liveGraph.ts).
 */
export class InotifyQueue {
  /** The kernel's queue length for this process's instance (read before its first watch). */
  readonly capacity: number;
  private burst = 0;
  private turnEnds: NodeJS.Immediate | undefined;
  private reported = false;

  constructor(private readonly onPossibleLoss: (events: number, capacity: number) => void, capacity = readCapacity()) {
    this.capacity = capacity;
  }

  /** One event delivered to any fs.watch of this process. */
  saw(): void {
    this.burst++;
    if (!this.reported && this.burst >= this.threshold) {
      this.reported = true;
      // At once, in the same turn: a request served right after the burst must already know.
      this.onPossibleLoss(this.burst, this.capacity);
    }
    this.turnEnds ??= setImmediate(() => {
      this.turnEnds = undefined;
      this.burst = 0;
      this.reported = false;
    });
  }

  get threshold(): number {
    return Math.max(1, Math.floor(this.capacity / 2));
  }

  close(): void {
    if (this.turnEnds) clearImmediate(this.turnEnds);
    this.turnEnds = undefined;
  }
}

/** /proc/sys/fs/inotify/max_queued_events (16,384 by default); the default when it cannot be read. */
export function readCapacity(): number {
  try {
    const n = Number(fs.readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : 16384;
  } catch {
    return 16384;
  }
}
