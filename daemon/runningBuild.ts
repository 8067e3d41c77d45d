import type { BuildEvent } from '../graph/builder.js';
import type { BuildProgress } from './answers.js';

/**
 * A build in progress, as the progress line and `osvd status` show it: what runs, how many finished
 * of how many, and an ETA from the durations recorded for the actions still to come (ninja's
 * prediction: work done so far against the work it predicts, with the average standing in for
 * actions never timed).
 */
export class RunningBuild {
  private readonly startedAt = Date.now();
  /** Running actions, and when each started. */
  private readonly running = new Map<string, number>();
  private finished = 0;
  private total: number;
  private ran = 0;
  private restored = 0;
  /** Actions decided so far, and how many of them had to run (a one-shot build learns its share as it goes). */
  private decided = 0;
  private worked = 0;
  /** The candidates not yet started: the sum of their recorded durations, and how many have none. */
  private waitingMs = 0;
  private waitingUntimed = 0;
  private readonly waiting: Set<string>;
  private readonly timedAverage: number | undefined;
  /** Durations of runs that finished in this build, standing in when nothing was recorded. */
  private thisBuildMs = 0;

  /**
   * `candidates`: the actions that may run; `certain`: all of them will (the daemon's plan knows which
   * are stale); otherwise (one-shot) only a share, estimated from the actions decided so far.
   * `expectedMs`: an action's recorded duration, if it has one.
   */
  constructor(
    candidates: readonly string[],
    private readonly certain: boolean,
    private readonly jobs: number,
    private readonly expectedMs: (id: string) => number | undefined,
  ) {
    this.total = candidates.length;
    this.waiting = new Set(candidates);
    let timed = 0;
    for (const id of this.waiting) {
      const ms = expectedMs(id);
      if (ms === undefined) this.waitingUntimed++;
      else {
        this.waitingMs += ms;
        timed++;
      }
    }
    this.timedAverage = timed ? this.waitingMs / timed : undefined;
  }

  track(e: BuildEvent): void {
    this.total = e.total;
    this.finished = e.finished;
    if (e.type === 'start') {
      this.leaveWaiting(e.id);
      this.running.set(e.id, Date.now());
      return;
    }
    this.leaveWaiting(e.id);
    const started = this.running.get(e.id);
    this.running.delete(e.id);
    this.decided++;
    if (e.state === 'ran' || e.state === 'failed') {
      this.ran++;
      this.worked++;
      if (started !== undefined) this.thisBuildMs += e.durationMs;
    }
    if (e.state === 'restored') this.restored++;
  }

  private leaveWaiting(id: string): void {
    if (!this.waiting.delete(id)) return;
    const ms = this.expectedMs(id);
    if (ms === undefined) this.waitingUntimed--;
    else this.waitingMs -= ms;
  }

  /** Milliseconds still to go, or null while there is nothing to predict from. */
  etaMs(): number | null {
    if (this.finished >= this.total && this.running.size === 0) return 0;
    const average = this.timedAverage ?? (this.ran ? this.thisBuildMs / this.ran : undefined);
    if (average === undefined) return null;
    // The share of what is still to decide that will run: all of it when the plan said so.
    const share = this.certain ? 1 : this.decided ? this.worked / this.decided : undefined;
    if (share === undefined) return null;
    const now = Date.now();
    let runningMs = 0;
    for (const [id, since] of this.running) runningMs += Math.max(0, (this.expectedMs(id) ?? average) - (now - since));
    const waitingMs = share * (this.waitingMs + this.waitingUntimed * average);
    return Math.round((runningMs + waitingMs) / Math.max(1, this.jobs));
  }

  progress(): BuildProgress {
    const elapsedMs = Date.now() - this.startedAt;
    return { finished: this.finished, total: this.total, running: [...this.running.keys()], ran: this.ran, restored: this.restored, elapsedMs, etaMs: this.etaMs() };
  }
}
