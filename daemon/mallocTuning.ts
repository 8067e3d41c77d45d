/**
 * glibc's malloc settings for the daemon's own process. By default glibc raises its mmap threshold
 * (and with it the trim threshold) to the size of the largest block freed so far, so after an import
 * or a large build the blocks freed stay in the process as resident memory. Fixed thresholds give
 * them back. Measured on the built 10,000-TU tree (`osvd start`, 12 s after the first answer, heap
 * 53 MB either way): RSS 143 MB with glibc's defaults, 133 MB with these.
 *
 * glibc reads them once, when the process starts: `osvd start` sets them for the daemon it spawns,
 * and the daemon takes them out of its environment before it runs anything, so make, compilers and
 * linkers get the user's environment as it was. A user who set GLIBC_TUNABLES keeps theirs.
 */
const TUNABLES = 'glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072';
/** Marks a GLIBC_TUNABLES that osvd added (and so may take out). */
const ADDED = 'OSVD_MALLOC_TUNED';

/** The environment for the daemon's process: `env` with the malloc settings, unless it has its own. */
export function withMallocTuning(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (env.GLIBC_TUNABLES !== undefined) return env;
  return { ...env, GLIBC_TUNABLES: TUNABLES, [ADDED]: '1' };
}

/** The settings this process started with, when osvd added them (for the daemon's log). */
let tuned: string | undefined;

/** In the daemon, first thing: take out what withMallocTuning added (malloc has read it). */
export function dropMallocTuning(env: NodeJS.ProcessEnv = process.env): void {
  if (env[ADDED] !== '1') return;
  if (env.GLIBC_TUNABLES === TUNABLES) {
    delete env.GLIBC_TUNABLES;
    if (env === process.env) tuned = TUNABLES;
  }
  delete env[ADDED];
}

/** What dropMallocTuning took out of this process's environment: the settings its malloc runs with. */
export function mallocTuned(): string | undefined {
  return tuned;
}
