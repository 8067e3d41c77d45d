import type { FileState } from '../cache/fileState.js';

/** How often racy hashes are settled while a build runs or after it, and for how long at most each time. */
const EVERY_MS = 250;
const SLICE_MS = 4;

/**
 * Settles the racy hashes a build leaves (its outputs, hashed as soon as written: FileState.settleRacy)
 * on the main thread's spare time: a few milliseconds every quarter second while builds run, and in the
 * daemon after them until none is left, then writes the rows. A one-shot process leaves its last two
 * seconds' outputs to the next process that looks at them.
 */
export class RacySettling {
  private timer: NodeJS.Timeout | undefined;
  private builds = 0;

  /** `files`: a getter (a replaced database comes with a new FileState); `longLived`: the daemon's. */
  constructor(
    private readonly files: () => FileState,
    private readonly longLived: boolean,
  ) {}

  buildStarted(): void {
    this.builds++;
    this.timer ??= setInterval(() => this.tick(), EVERY_MS);
    this.timer.unref();
  }

  buildEnded(): void {
    this.builds--;
    if (!this.longLived && this.builds === 0) this.stop();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private tick(): void {
    const files = this.files();
    if (files.settleRacy(SLICE_MS) > 0 || this.builds > 0) return;
    // The daemon, idle and none left: the rows now say the stats vouch. When they cannot be written
    // (a full disk) they stay pending for the next build's flush, which says why if it fails too.
    this.stop();
    try {
      files.flush();
    } catch {
      // kept pending by flush
    }
  }
}
