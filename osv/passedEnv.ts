import { wrapperEnvironment } from './compilerWrappers.js';

/**
 * Variables from the caller's environment that the build may read, and those of compiler wrappers
 * (CCACHE_*, DISTCC_*, SCCACHE_*, ICECC_*); everything else is left out.
 */
const PASSED_ENV = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'SOURCE_DATE_EPOCH'];

/**
 * Of those, the ones that change no output: messages' language, where temporary files go, the home
 * folder (ccache's and osvd's own caches). A daemon builds with its own; a client's may differ.
 */
export const UNSEEN_ENV: ReadonlySet<string> = new Set(['HOME', 'LANG', 'LC_ALL', 'TMPDIR']);

/** What of `env` a build runs with (the daemon's, or a one-shot's: the caller's). */
export function baseEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = wrapperEnvironment(env);
  for (const k of PASSED_ENV) if (env[k] !== undefined) out[k] = env[k]!;
  if (!out.PATH) out.PATH = '/usr/local/bin:/usr/bin:/bin';
  return out;
}
