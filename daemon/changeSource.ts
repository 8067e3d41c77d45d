/**
 * Where the daemon learns what changed in the tree: a watching backend behind one interface. Two
 * exist: watchman (watchmanSource.ts), which reads inotify itself, sees its queue overflow and
 * recrawls, and answers "what changed since clock C" after a cookie has made its view current; and
 * the folder watcher (folderSource.ts: one fs.watch per folder), which cannot see an overflow (libuv
 * drops IN_Q_OVERFLOW) and so is never trusted alone: a build stats every path the graph reads first.
 */
export interface WatcherHealth {
  mode: 'events' | 'polling' | 'off';
  /** Which backend delivers the events. */
  backend?: WatcherBackend;
  healthy: boolean;
  problem?: string;
  fix?: string;
  lastEventAt?: number;
  ready: boolean;
}

export type WatcherBackend = 'watchman' | 'folders';

/** `daemon.watcher` in osv.config.ts (or OSVD_WATCHER): `auto` takes watchman when it answers. */
export type WatcherChoice = 'auto' | WatcherBackend;

export interface ChangeSourceOptions {
  root: string;
  /** Paths (relative to the root) whose whole subtree is ignored, e.g. .git, the state folder. */
  ignore: readonly string[];
  /** The build folder: ignored too by a backend that does not report outputs (see seesOutputs). */
  outputs: string;
  /** Changed paths, relative to the root, `/`-separated; `dir/` is a folder that went away. */
  onBatch: (paths: string[]) => void;
  onHealth: (health: WatcherHealth) => void;
  /** Events may have been lost (an overflow, a restart of the backend): what the daemon knows must be checked. */
  onLost: (why: string) => void;
  /** How long to wait for more events before delivering a batch. */
  settleMs?: number;
}

export interface ChangeSource {
  readonly backend: WatcherBackend;
  /** Live: the daemon shows this object in status. */
  readonly health: WatcherHealth;
  /** Whether the backend also reports changes in the build folder (else the daemon watches outputs itself). */
  readonly seesOutputs: boolean;
  /**
   * Take the point start() will report changes from, before the daemon first looks at the tree: every
   * change after it then reaches onBatch once started, so what the daemon looked at after it needs no
   * check by stat. False when the backend cannot (start() then reports changes from when it is called).
   */
  mark?(): Promise<boolean>;
  /** Resolves once the tree is watched, or the backend has degraded (see health). */
  start(): Promise<void>;
  /**
   * Before a build: deliver (through onBatch) every change made before the call. True when the backend
   * vouches that nothing was lost since the last settle; false when the daemon must verify by stat
   * what it cannot be sure the backend saw.
   */
  settle(): Promise<boolean>;
  close(): Promise<void>;
}

/** The backend named by OSVD_WATCHER, else by the config, else `auto`. */
export function watcherChoice(configured: WatcherChoice | undefined): WatcherChoice {
  const env = process.env.OSVD_WATCHER;
  if (env === 'auto' || env === 'watchman' || env === 'folders') return env;
  return configured ?? 'auto';
}
