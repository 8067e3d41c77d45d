import fs from 'node:fs';
import path from 'node:path';
import { nameHash } from '../base/nameHash.js';
import { userCacheDir } from '../base/userCache.js';
import { configSources } from './configSources.js';

/**
 * Loading TypeScript costs a few hundred milliseconds, more than a daemon query may take. A config
 * that is plain data is kept in the user's cache folder with the stats (size, times, inode) of its
 * file and of the modules of its folder it imports: it is used while none of them changed. A config
 * whose value could differ with the same files (it reads `process.env`, the clock, another module)
 * is never kept: it is run every time.
 */
function configCachePath(file: string): string {
  return path.join(userCacheDir(), `config-${nameHash(file)}.json`);
}

function stamp(file: string): string | undefined {
  try {
    const st = fs.statSync(file, { bigint: true });
    return `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`;
  } catch {
    return undefined;
  }
}

interface CacheEntry {
  /** Each file the config's value comes from, with its stamp when the value was computed. */
  readonly stamps: readonly (readonly [string, string])[];
  readonly config: unknown;
}

export function readConfigCache(file: string): unknown {
  try {
    const entry = JSON.parse(fs.readFileSync(configCachePath(file), 'utf8')) as CacheEntry;
    if (!Array.isArray(entry.stamps) || entry.stamps[0]?.[0] !== path.resolve(file)) return undefined;
    return entry.stamps.every(([f, s]) => stamp(f) === s) ? entry.config : undefined;
  } catch {
    return undefined;
  }
}

/** `stamps`: the files' stamps taken before the config was run (a file changed meanwhile is then not trusted). */
export function writeConfigCache(file: string, config: object, stamps: readonly (readonly [string, string | undefined])[]): void {
  const dest = configCachePath(file);
  try {
    const sources = configSources(file);
    if (sources.readsOutside !== undefined || stamps.some(([, s]) => s === undefined) || sources.files.some((f, i) => stamps[i]?.[0] !== f)) {
      fs.rmSync(dest, { force: true });
      return;
    }
    // validateConfig admits only plain data, so the JSON copy is the config itself.
    const entry: CacheEntry = { stamps: stamps as (readonly [string, string])[], config };
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(`${dest}.${process.pid}`, JSON.stringify(entry));
    fs.renameSync(`${dest}.${process.pid}`, dest);
    pruneCache(path.dirname(dest));
  } catch {
    // the cache is only an optimisation
  }
}

/** The stamps of the files a config's value comes from, taken before it is run. */
export function sourceStamps(file: string): [string, string | undefined][] {
  return configSources(file).files.map((f) => [f, stamp(f)]);
}

/** Keep the cache folder small: one entry per config file, the newest 100. */
function pruneCache(dir: string): void {
  const entries = fs.readdirSync(dir).filter((f) => f.startsWith('config-'));
  if (entries.length <= 100) return;
  const byAge = entries.map((f) => ({ f, t: fs.statSync(path.join(dir, f)).mtimeMs })).sort((a, b) => b.t - a.t);
  for (const { f } of byAge.slice(100)) fs.rmSync(path.join(dir, f), { force: true });
}
