import { afterAll, describe, expect, it } from 'vitest';
import { appendTo, build, copyExample, osvd, ranOf, removeCopies, restoredOf, startDaemon, stopDaemons } from './helpers.js';

/** `osvd stats` (as `ccache -s`) and `osvd logs -n`. */
afterAll(() => {
  stopDaemons();
  removeCopies();
});

interface Stats {
  store: { bytes: number; entries: number; maxBytes: number; dir: string };
  since: number | null;
  builds: number;
  byKind: Record<string, { ran: number; restored: number; failed: number }>;
  upToDate: number;
  evicted: number;
  shared: unknown;
}

const stats = (root: string, ...args: string[]): Stats => JSON.parse(osvd(root, ['stats', '--json', ...args]).stdout) as Stats;

describe('osvd stats', () => {
  it('counts what ran (misses), was restored (hits) and failed by kind across builds, and what the store holds', () => {
    const root = copyExample();
    expect(stats(root)).toMatchObject({ since: null, builds: 0, byKind: {}, upToDate: 0, evicted: 0, shared: null, store: { bytes: 0, entries: 0, maxBytes: 2 * 1024 ** 3 } });
    const cold = build(root);
    osvd(root, ['clean']);
    const again = build(root);
    appendTo(root, 'core/mutex.cc', '\nint osvd_stats_broken = ;\n');
    const broken = build(root);
    expect(broken.ok).toBe(false);
    const s = stats(root);
    expect(s.builds).toBe(3);
    expect(s.byKind.compile).toEqual({ ran: ranOf(cold, 'compile').length + ranOf(again, 'compile').length, restored: restoredOf(again, 'compile').length, failed: 1 });
    expect(s.byKind.link!.ran).toBe(ranOf(cold, 'link').length);
    expect(s.byKind.compile!.restored).toBeGreaterThan(40);
    expect(s.upToDate).toBe(cold.upToDate + again.upToDate + broken.upToDate);
    expect(s.store.entries).toBeGreaterThan(ranOf(cold, 'compile').length);
    expect(s.store.bytes).toBeGreaterThan(100_000);
    expect(s.since).toBeGreaterThan(0);
    const text = osvd(root, ['stats']).stdout;
    expect(text).toMatch(/^store: +[\d.]+ [KM]B in \d+ entries, cap 2\.0 GB/m);
    expect(text).toMatch(new RegExp(`^  compile +${s.byKind.compile!.restored} +${s.byKind.compile!.ran} +1$`, 'm'));
    expect(text).toMatch(/^shared cache: none configured$/m);

    // Through the daemon the same figures; --zero starts afresh and keeps the store.
    startDaemon(root);
    expect(stats(root).byKind).toEqual(s.byKind);
    const zeroed = stats(root, '--zero');
    expect(zeroed).toMatchObject({ builds: 0, byKind: {}, upToDate: 0, store: { entries: s.store.entries } });
    osvd(root, ['stop']);
  });
});

describe('osvd logs -n', () => {
  it('prints the last N lines of the log', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    const all = osvd(root, ['logs']).stdout.trim().split('\n');
    const last = osvd(root, ['logs', '-n', '2']).stdout.trim().split('\n');
    expect(last).toEqual(all.slice(-2));
    expect(last[1]).toMatch(/ info build finished /);
    expect(osvd(root, ['logs', '-n', '0']).stdout).toBe('');
    expect(osvd(root, ['logs', '-n', 'x']).code).toBe(2);
  });
});
