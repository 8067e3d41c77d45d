import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nameHash } from '../base/nameHash.js';

/**
 * Loading TypeScript costs a few hundred milliseconds, more than a daemon query may take. A config
 * that is plain data is kept, by the file's path, size and times, in the user's cache folder.
 */
function configCachePath(file: string): string {
  const dir = process.env.XDG_CACHE_HOME ? path.join(process.env.XDG_CACHE_HOME, 'osvd') : path.join(os.homedir(), '.cache', 'osvd');
  return path.join(dir, `config-${nameHash(file)}.json`);
}

function stamp(file: string): string | undefined {
  try {
    const st = fs.statSync(file, { bigint: true });
    return `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`;
  } catch {
    return undefined;
  }
}

export function readConfigCache(file: string): unknown {
  try {
    const entry = JSON.parse(fs.readFileSync(configCachePath(file), 'utf8')) as { stamp: string; config: unknown };
    return entry.stamp === stamp(file) ? entry.config : undefined;
  } catch {
    return undefined;
  }
}

export function writeConfigCache(file: string, config: object): void {
  const s = stamp(file);
  if (!s) return;
  try {
    // validateConfig admits only plain data, so the JSON copy is the config itself.
    const text = JSON.stringify({ stamp: s, config });
    const dest = configCachePath(file);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(`${dest}.${process.pid}`, text);
    fs.renameSync(`${dest}.${process.pid}`, dest);
    pruneCache(path.dirname(dest));
  } catch {
    // the cache is only an optimisation
  }
}


/** Keep the cache folder small: one entry per config file, the newest 100. */
function pruneCache(dir: string): void {
  const entries = fs.readdirSync(dir).filter((f) => f.startsWith('config-'));
  if (entries.length <= 100) return;
  const byAge = entries.map((f) => ({ f, t: fs.statSync(path.join(dir, f)).mtimeMs })).sort((a, b) => b.t - a.t);
  for (const { f } of byAge.slice(100)) fs.rmSync(path.join(dir, f), { force: true });
}
