import path from 'node:path';
import type { Session } from './session.js';

/**
 * `osvd stats`, as `ccache -s`: what the store holds, and since when how many actions ran (a miss:
 * no recorded result for their key), were restored from the store (a hit) or failed, by kind.
 */
export interface StatsReport {
  store: { dir: string; bytes: number; entries: number; maxBytes: number };
  /** When counting started (the first build, or the last `osvd stats --zero`); null before any build. */
  since: number | null;
  builds: number;
  byKind: Record<string, { ran: number; restored: number; failed: number }>;
  /** Actions found up to date (nothing to do), summed over builds. */
  upToDate: number;
  /** Compiles that did not run because their preprocessed input was unchanged (their objects kept). */
  cutoff: number;
  /** Blobs the store dropped to stay within its cap. */
  evicted: number;
  /**
   * The shared cache this tree uses now (osv.config.ts or OSVD_CACHE_URL) and what shared caches did
   * in its builds since counting started: actions restored from it (hits), lookups without a usable
   * result (misses), entries uploaded, runs not uploaded because they cannot be shared (skipped),
   * failed requests, bytes each way. Null while none is configured.
   */
  shared: ({ url: string; mode: string } & Record<(typeof SHARED_FIGURES)[number], number>) | null;
}

const SHARED_FIGURES = ['hits', 'misses', 'uploads', 'skipped', 'errors', 'bytesDown', 'bytesUp'] as const;

export function statsReport(session: Session): StatsReport {
  const counts = session.counters.all();
  const shared = session.sharedCache;
  const byKind: StatsReport['byKind'] = {};
  for (const [name, n] of Object.entries(counts)) {
    const m = /^(ran|restored|failed)\.(\w+)$/.exec(name);
    if (!m) continue;
    const kind = (byKind[m[2]!] ??= { ran: 0, restored: 0, failed: 0 });
    kind[m[1] as 'ran' | 'restored' | 'failed'] = n;
  }
  return {
    store: { dir: path.join(session.base.stateDir, 'store'), ...session.store.usage() },
    since: counts.since ?? null,
    builds: counts.builds ?? 0,
    byKind,
    upToDate: counts.upToDate ?? 0,
    cutoff: counts.cutoff ?? 0,
    evicted: counts.evicted ?? 0,
    shared: shared ? { url: shared.url, mode: shared.mode, ...(Object.fromEntries(SHARED_FIGURES.map((f) => [f, counts[`shared.${f}`] ?? 0])) as Record<(typeof SHARED_FIGURES)[number], number>) } : null,
  };
}

export function printStats(s: StatsReport, o: { json?: boolean }): void {
  if (o.json) {
    process.stdout.write(JSON.stringify(s) + '\n');
    return;
  }
  const kinds = Object.keys(s.byKind).sort();
  const total = { ran: 0, restored: 0, failed: 0 };
  for (const k of kinds) for (const f of ['ran', 'restored', 'failed'] as const) total[f] += s.byKind[k]![f];
  const looked = total.ran + total.restored;
  const row = (name: string, c: { ran: number; restored: number; failed: number }): string =>
    `  ${name.padEnd(10)} ${num(c.restored).padStart(12)} ${num(c.ran).padStart(12)} ${num(c.failed).padStart(8)}`;
  const lines = [
    `store:       ${bytes(s.store.bytes)} in ${num(s.store.entries)} entries, cap ${bytes(s.store.maxBytes)} (${s.store.dir})`,
    `since:       ${s.since === null ? 'no build yet' : `${new Date(s.since).toISOString()}, ${num(s.builds)} builds`}`,
    `  ${'kind'.padEnd(10)} ${'hits'.padStart(12)} ${'misses'.padStart(12)} ${'failed'.padStart(8)}`,
    `  ${''.padEnd(10)} ${'(restored)'.padStart(12)} ${'(ran)'.padStart(12)}`,
    ...kinds.map((k) => row(k, s.byKind[k]!)),
    ...(kinds.length > 1 ? [row('all', total)] : []),
    `hit rate:    ${looked ? `${Math.round((100 * total.restored) / looked)}%` : '-'} of the actions that were not up to date came from the store`,
    `up to date:  ${num(s.upToDate)} actions, summed over builds`,
    `cut off:     ${num(s.cutoff)} compiles kept (preprocessed input unchanged)`,
    `evicted:     ${num(s.evicted)} blobs (to stay within the cap)`,
    s.shared
      ? `shared cache: ${s.shared.url} (${s.shared.mode}): ${num(s.shared.hits)} hits, ${num(s.shared.misses)} misses, ${num(s.shared.uploads)} uploads, ${num(s.shared.skipped)} skipped, ${num(s.shared.errors)} errors; ${bytes(s.shared.bytesDown)} down, ${bytes(s.shared.bytesUp)} up`
      : 'shared cache: none configured',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

function num(n: number): string {
  return n.toLocaleString('en-US');
}

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u ? v.toFixed(1) : v} ${units[u]}`;
}
