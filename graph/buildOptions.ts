import type { Action, BuildContext } from './action.js';
import type { BuildEvent } from './buildResult.js';
import type { ShellPool } from './executor.js';
import type { Launcher } from './launcher.js';
import type { PreprocessMode } from './preprocessCutoff.js';
import type { SharedCache } from './sharedCache.js';

/** What a build is asked to do (builder.ts): where, with how many jobs, what to build, what it may use. */
export interface BuildOptions {
  readonly root: string;
  readonly jobs: number;
  readonly context: BuildContext;
  readonly onEvent?: (event: BuildEvent) => void;
  /** Run commands this much below our own priority (the daemon uses it to stay responsive). */
  readonly niceness?: number;
  /** A private folder for the commands' captured output (default: the system's temporary folder). */
  readonly scratchDir?: string;
  /**
   * The only actions that may not be up to date, when the caller knows (the daemon's live plan, kept
   * current by its watcher; it holds everything downstream of a dirty action): only these are decided
   * and walked, the others count as up to date unseen, so a build costs what changed, not the graph
   * (as ninja's plan holds only dirty edges). Progress counts them alone.
   */
  readonly dirty?: ReadonlySet<string>;
  /**
   * Shells kept by the caller from one build to the next (the daemon's: starting a process from a
   * large Node process costs tens of milliseconds). Without it, the build starts and ends its own.
   */
  readonly shells?: ShellPool;
  /** Build only these actions and what they depend on (`make foo.o`); default: every action. */
  readonly targets?: readonly string[];
  /**
   * Stop starting actions once this many have failed, and let those running finish (make stops at
   * the first failure, ninja's -k N); 0 or absent: go on with everything that does not depend on a
   * failure (make -k).
   */
  readonly failureLimit?: number;
  /** The commands to run for an action when they differ from its own (see RunSetting.commandsFor). */
  readonly commandsFor?: (action: Action) => readonly string[];
  /**
   * The build folders, relative to the root: every file an action writes under them is one of its
   * outputs. An action whose recipe does not name them all (`outputsOpen`) is looked at before and after
   * it runs, one such action at a time (see OutputLearner). Without folders nothing is looked at.
   */
  readonly outputFolders?: readonly string[];
  /** A folder under them that is not the build's (osvd's own state), relative to the root. */
  readonly skipFolder?: (rel: string) => boolean;
  /** A cache other builds fill, asked for what the local store lacks before an action runs. */
  readonly shared?: SharedCache;
  /**
   * Stops the build: no action starts any more, the commands running are killed with their process
   * groups, and the build fails with BuildInterruptedError once none of them runs. What finished
   * before is recorded; what was cut short is not, and its outputs are removed.
   */
  readonly signal?: AbortSignal;
  /** When a compile whose headers alone changed is preprocessed first (see preprocessCutoff.ts); default `auto`. */
  readonly preprocess?: PreprocessMode;
  /** Runs compiles elsewhere (distcc): they take its slots, everything else `jobs`. */
  readonly launcher?: Launcher;
}
