import type { BuildEvent } from '../graph/builder.js';
import type { BuildProgress } from './answers.js';

/** The daemon's build in progress, as status shows it: what runs, how many finished, an ETA. */
export class RunningBuild {
  private readonly startedAt = Date.now();
  private running: string[] = [];
  private finished = 0;
  private ran = 0;
  private restored = 0;

  /** `estimateMs`: the whole build's expected wall time, from the last durations of what will run. */
  constructor(private readonly total: number, private readonly estimateMs: number) {}

  track(e: BuildEvent): void {
    if (e.type === 'start') this.running.push(e.id);
    else {
      this.running = this.running.filter((id) => id !== e.id);
      this.finished = e.finished;
      if (e.state === 'ran' || e.state === 'failed') this.ran++;
      if (e.state === 'restored') this.restored++;
    }
  }

  progress(): BuildProgress {
    const elapsedMs = Date.now() - this.startedAt;
    return { finished: this.finished, total: this.total, running: [...this.running], ran: this.ran, restored: this.restored, elapsedMs, etaMs: Math.max(0, Math.round(this.estimateMs - elapsedMs)) };
  }
}
