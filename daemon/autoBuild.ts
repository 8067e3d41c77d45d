/** What the automatic build needs to know of the daemon, asked each time. */
export interface AutoBuildHooks {
  /** Whether automatic builds are on (`daemon.autoBuild`, `osvd start --auto-build`) and the daemon is not closing. */
  readonly enabled: () => boolean;
  /** How long changes must stop before the build starts (`daemon.quietMs`). */
  readonly quietMs: () => number;
  /** How many actions of the live plan are stale. */
  readonly stale: () => number;
  /** Whether a build runs or waits for its turn (it reschedules when it ends). */
  readonly busy: () => boolean;
  readonly build: () => void;
}

/**
 * The daemon's automatic build: once changes stop for the quiet period, build if anything is stale.
 * Each change (or the end of a build) puts it off again, so a `git checkout` of a thousand files is one build.
 */
export class AutoBuild {
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly hooks: AutoBuildHooks) {}

  schedule(): void {
    const { enabled, quietMs, stale, busy, build } = this.hooks;
    if (!enabled() || stale() === 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      // A build asked for (or in progress) reschedules when it ends; one may have made the tree clean
      // meanwhile (changes its own pre-build check found schedule this timer too).
      if (busy() || stale() === 0) return;
      build();
    }, quietMs());
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
