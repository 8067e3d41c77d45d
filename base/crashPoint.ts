import { existsSync, writeFileSync } from 'node:fs';

/**
 * Named moments at which osvd kills itself (SIGKILL, as a power cut or `kill -9` would) when
 * OSVD_CRASH_AT names them, so that the torture (bench/torture.ts) and the tests crash osvd exactly
 * where a kill must be survived, instead of at random times that reach a narrow window by chance.
 * `OSVD_CRASH_AT=point` crashes the first time `point` is reached, `point:N` the N-th time (the caller
 * counts). Only osvd's own process dies: the commands it started run on, as they would.
 */
export type CrashPoint =
  /** An action's run was recorded in the database (the other job's command may still run). */
  | 'action-recorded'
  /** Every action of the build is done and recorded; what osvd writes itself comes next. */
  | 'actions-done'
  /** compile_commands.json's new text is written, not yet renamed into the build folder. */
  | 'compile-commands-written';

export function crashPoint(point: CrashPoint, count = 1): void {
  const at = process.env.OSVD_CRASH_AT;
  if (!at) return;
  const [name, n] = at.split(':');
  if (name === point && Number(n ?? 1) === count) process.kill(process.pid, 'SIGKILL');
}

/**
 * Named moments at which osvd waits when OSVD_PAUSE_AT names them, so that a test can act in a window
 * that is otherwise milliseconds wide: `point:ms` waits that long, `point:/a/file` until that file
 * exists (at most two minutes), which the test creates once it has acted; while it waits for it,
 * `/a/file.reached` exists (the test knows the moment has come).
 */
export type PausePoint =
  /** The daemon's first plan is made; the tree's watch starts next. */
  | 'before-watch'
  /** The daemon has made a new plan (at start, or after a reload); it replaces the last one next. */
  | 'plan-made';

export async function pausePoint(point: PausePoint): Promise<void> {
  const at = process.env.OSVD_PAUSE_AT;
  if (!at) return;
  const i = at.indexOf(':');
  const [name, arg] = i < 0 ? [at, undefined] : [at.slice(0, i), at.slice(i + 1)];
  if (name !== point) return;
  if (arg?.startsWith('/')) {
    if (!existsSync(arg)) writeFileSync(`${arg}.reached`, '');
    for (let waited = 0; !existsSync(arg) && waited < GATE_WAIT_MS; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20));
  } else {
    await new Promise((resolve) => setTimeout(resolve, Number(arg ?? 1000)));
  }
}

/** How long a pause waits for its gate file at most (a test that died must not leave a daemon paused). */
const GATE_WAIT_MS = 120_000;
