import type { BuildEvent } from '../graph/builder.js';
import type { RunningBuild } from './runningBuild.js';

/** How a build runs, as its command line asks (make's and ninja's options). */
export interface BuildChoices {
  /** Actions to build, with what they depend on (default: every action). */
  readonly targets?: readonly string[];
  /** Parallel jobs (default: the project's). */
  readonly jobs?: number;
  /** Stop starting actions after this many failures; 0: go on with what does not depend on them (default 1, make's). */
  readonly failureLimit?: number;
  /** The client's terminal shows colours: compilers are asked for them (their output is captured). */
  readonly colour?: boolean;
  /** Follows the build for its progress and ETA (the daemon keeps it for status); made here without it. */
  readonly tracker?: RunningBuild;
  /** Stops the build (Ctrl-C, its client gone, the daemon stopping): see BuildOptions.signal. */
  readonly signal?: AbortSignal;
}

/** A build's progress event, with the ETA the tracker predicts. */
export type ProgressEvent = BuildEvent & { readonly etaMs: number | null };

/** What a client asks of a build besides its knobs (see BuildChoices). */
export interface BuildRequest {
  readonly targets?: readonly string[];
  /** The client's folder, for targets relative to it. */
  readonly cwd?: string;
  readonly jobs?: number;
  readonly failureLimit?: number;
  readonly colour?: boolean;
}

/** A whole number of at least `min` as written on a command line (`-j 4`, `-k 0`); undefined for anything else. */
export function parseWhole(value: string, min: number): number | undefined {
  const n = Number(value);
  return /^\d+$/.test(value.trim()) && Number.isSafeInteger(n) && n >= min ? n : undefined;
}
