import { ConfigError } from './errors.js';

/** The shared cache, as osv.config.ts writes it (`cache: { ... }`). */
export interface CacheConfig {
  /**
   * The cache server's base URL: `http://host:8080` for bazel-remote, or a folder of any server that
   * serves files and takes PUT under `<url>/ac/` and `<url>/cas/` (nginx with `dav_methods PUT`).
   * Credentials never go here: OSVD_CACHE_AUTH carries them.
   */
  url: string;
  /** `read`: look results up; `readwrite`: also upload what this machine builds (CI). */
  mode: 'read' | 'readwrite';
  /** How long a request may wait for the server's next bytes before the cache is taken as down (default 5000). */
  timeoutMs?: number;
}

/** The cache in effect, after the environment's overrides. */
export interface CacheSettings {
  readonly url: string;
  readonly mode: 'read' | 'readwrite';
  readonly timeoutMs: number;
  /** The Authorization header's value, from OSVD_CACHE_AUTH (never logged or reported). */
  readonly authorization?: string;
}

export const DEFAULT_CACHE_TIMEOUT_MS = 5000;
const MODES = ['read', 'readwrite'];
const FIELDS = ['url', 'mode', 'timeoutMs'];

/** The check of osv.config.ts's `cache` field: a problem, or undefined. */
export function cacheConfigProblem(v: unknown): string | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'must be { url, mode, timeoutMs? }';
  const c = v as Record<string, unknown>;
  for (const k of Object.keys(c)) if (!FIELDS.includes(k)) return `has an unknown field '${k}' (known: ${FIELDS.join(', ')})`;
  const url = urlProblem(c.url);
  if (url) return `'cache.url' ${url}`;
  if (!MODES.includes(c.mode as string)) return `'cache.mode' must be 'read' or 'readwrite'`;
  if (c.timeoutMs !== undefined && !timeoutOk(c.timeoutMs)) return `'cache.timeoutMs' must be a whole number of milliseconds above 0`;
  return undefined;
}

/**
 * The cache in effect: osv.config.ts's `cache`, overridden field by field by the environment, so that
 * CI turns it on or to `readwrite` without touching the tree: OSVD_CACHE_URL (`off` or empty: no
 * cache), OSVD_CACHE_MODE, OSVD_CACHE_TIMEOUT_MS, and OSVD_CACHE_AUTH, the credentials: `user:password`
 * (sent as Basic) or a whole Authorization value (`Bearer <token>`, `Basic <base64>`).
 */
export function resolveCache(config: CacheConfig | undefined, env: NodeJS.ProcessEnv): CacheSettings | undefined {
  const fromEnv = (name: string, problem: string): never => {
    throw new ConfigError(`${name} ${problem}`, { file: 'the environment', field: name, hint: `fix or unset ${name}` });
  };
  const envUrl = env.OSVD_CACHE_URL;
  if (envUrl !== undefined && (envUrl === '' || envUrl === 'off')) return undefined;
  const url = envUrl ?? config?.url;
  if (url === undefined) return undefined;
  if (envUrl !== undefined) {
    const p = urlProblem(envUrl);
    if (p) fromEnv('OSVD_CACHE_URL', p);
  }
  const mode = env.OSVD_CACHE_MODE ?? config?.mode ?? 'read';
  if (!MODES.includes(mode)) fromEnv('OSVD_CACHE_MODE', `must be 'read' or 'readwrite' (it is '${mode}')`);
  let timeoutMs = config?.timeoutMs ?? DEFAULT_CACHE_TIMEOUT_MS;
  if (env.OSVD_CACHE_TIMEOUT_MS !== undefined) {
    timeoutMs = Number(env.OSVD_CACHE_TIMEOUT_MS);
    if (!timeoutOk(timeoutMs)) fromEnv('OSVD_CACHE_TIMEOUT_MS', 'must be a whole number of milliseconds above 0');
  }
  const auth = env.OSVD_CACHE_AUTH;
  let authorization: string | undefined;
  if (auth) {
    if (/^(Basic|Bearer) \S+$/i.test(auth)) authorization = auth;
    else if (auth.includes(':')) authorization = `Basic ${Buffer.from(auth).toString('base64')}`;
    else fromEnv('OSVD_CACHE_AUTH', "must be 'user:password' or an Authorization value ('Bearer <token>')");
  }
  return { url: url.replace(/\/+$/, ''), mode: mode as CacheSettings['mode'], timeoutMs, authorization };
}

function urlProblem(v: unknown): string | undefined {
  if (typeof v !== 'string') return 'must be a URL (http:// or https://)';
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    return 'must be a URL (http:// or https://)';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must be an http:// or https:// URL';
  if (u.username || u.password) return 'must not hold credentials: put them in OSVD_CACHE_AUTH, which never reaches logs';
  if (u.search || u.hash) return 'must not have a query or a fragment';
  return undefined;
}

function timeoutOk(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) > 0;
}
