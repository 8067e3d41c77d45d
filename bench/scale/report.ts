/** The scale benchmark's report: the table of every step, and the goals with pass or FAIL. */
import type { Cell, Goal } from './measure.js';
import type { SizeResult } from './sizeRun.js';

function fmt(c: Cell | undefined): string {
  if (!c) return '';
  if (Number.isNaN(c.ms)) return '';
  const t = c.ms >= 10_000 ? `${(c.ms / 1000).toFixed(1)} s` : c.ms >= 100 ? `${c.ms.toFixed(0)} ms` : `${c.ms.toFixed(2)} ms`;
  const acts = c.ran !== undefined ? ` [${c.ran}${c.restored ? `+${c.restored}r` : ''}]` : '';
  return t + acts;
}

export function printTable(results: SizeResult[]): void {
  const header = ['size', 'step', 'osvd one-shot', 'osvd daemon', 'make', 'ninja', 'osvd/make', 'osvd/ninja', 'load', 'notes'];
  const lines: string[][] = [header];
  for (const r of results) {
    for (const row of r.rows) {
      const best = row.osvdDaemon && !Number.isNaN(row.osvdDaemon.ms) ? row.osvdDaemon : row.osvd;
      const ratio = (other: Cell | undefined): string => (best && other && other.ms > 0 ? `${(best.ms / other.ms).toFixed(2)}x` : '');
      const notes = [row.osvd?.note, row.osvdDaemon?.note, row.make?.note ? `make: ${row.make.note}` : '', row.ninja?.note ? `ninja: ${row.ninja.note}` : ''].filter(Boolean).join('; ');
      lines.push([row.size, row.step, fmt(row.osvd), fmt(row.osvdDaemon), fmt(row.make), fmt(row.ninja), ratio(row.make), ratio(row.ninja), row.load.split(' ')[0]!, notes]);
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (i === header.length - 1 ? 0 : l[i]!.length))));
  for (const l of lines) console.log(l.map((c, i) => (i === l.length - 1 ? c : i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  console.log('[n] = actions run, +Nr = restored from the store; ratios use osvd through the daemon where measured, else one-shot.');
}

export function goals(results: SizeResult[]): Goal[] {
  return [...stubGoals(results), ...overheadGoals(results)];
}

/** Every size's, the real compiler's too: what osvd adds to the commands' time, per action, in a cold one-shot build. */
function overheadGoals(results: SizeResult[]): Goal[] {
  const f = (r: SizeResult, k: string): number => Number(r.facts[k]);
  return results
    .filter((r) => !r.daemonOnly)
    .map((r) => ({
      goal: `scheduling overhead < 2 ms per action (${r.compiler}, ${r.tus} TUs, cold)`,
      measured: `${f(r, 'overheadMsPerActionOsvd').toFixed(2)} ms, ${f(r, 'overheadInBuildMsPerActionOsvd').toFixed(2)} of it in the build (make ${f(r, 'overheadMsPerActionMake').toFixed(2)}, ninja ${f(r, 'overheadMsPerActionNinja').toFixed(2)})`,
      pass: f(r, 'overheadMsPerActionOsvd') < 2,
    }));
}

/** The goals of the runs with the stub compiler. */
function stubGoals(results: SizeResult[]): Goal[] {
  const all = results.filter((r) => r.compiler === 'stub').sort((a, b) => a.tus - b.tus);
  const stub = all.filter((r) => !r.daemonOnly);
  const out: Goal[] = [];
  if (all.length === 0) return out;
  // The daemon's own goals at the largest size it ran at (built or not); the comparisons with make and
  // ninja at the largest size all three built.
  const daemonBig = all[all.length - 1]!;
  const small = all[0]!;
  const f = (r: SizeResult, k: string): number => Number(r.facts[k]);
  const dAt = `at ${daemonBig.tus} TUs${daemonBig.daemonOnly ? (daemonBig.built ? ' (daemon only, built tree)' : ' (tree not built)') : ''}`;
  const busy = daemonBig.daemonOnly ? '' : `; during a build p50 ${f(daemonBig, 'statusBusyP50').toFixed(2)}, p99 ${f(daemonBig, 'statusBusyP99').toFixed(2)}`;
  out.push({ goal: `in-daemon status p50 < 2 ms ${dAt}`, measured: `${f(daemonBig, 'statusIdleP50').toFixed(2)} ms (p99 ${f(daemonBig, 'statusIdleP99').toFixed(2)}${busy})`, pass: f(daemonBig, 'statusIdleP50') < 2 });
  out.push({ goal: `dirty set after one edit < 20 ms ${dAt}`, measured: `${f(daemonBig, 'dirtySetMs').toFixed(2)} ms (max ${f(daemonBig, 'dirtySetMaxMs').toFixed(2)})`, pass: f(daemonBig, 'dirtySetMaxMs') < 20 });
  if (all.length > 1) {
    const growth = f(daemonBig, 'dirtySetMs') / f(small, 'dirtySetMs');
    out.push({ goal: `dirty set grows with the change, not the tree (${small.tus} -> ${daemonBig.tus} TUs, x${daemonBig.tus / small.tus})`, measured: `${f(small, 'dirtySetMs').toFixed(2)} -> ${f(daemonBig, 'dirtySetMs').toFixed(2)} ms (x${growth.toFixed(1)})`, pass: growth < 3 });
  }
  if (daemonBig.daemonOnly) {
    out.push({
      goal: `daemon RSS < 400 MB ${dAt}`,
      measured: `${f(daemonBig, 'daemonRssMb')} MB (peak ${f(daemonBig, 'daemonPeakRssMb')} MB, ${f(daemonBig, 'daemonRestRssMb')} MB once idle)${daemonBig.built ? '' : '; a lower bound: no last runs held'}`,
      pass: daemonBig.built ? f(daemonBig, 'daemonRssMb') < 400 : null,
    });
  }
  if (stub.length === 0) return out;
  const big = stub[stub.length - 1]!;
  const at = `at ${big.tus} TUs`;
  out.push({ goal: `no-op through the daemon >= 10x faster than ninja's ${at}`, measured: `${f(big, 'noopDaemonMs').toFixed(1)} vs ${f(big, 'noopNinjaMs').toFixed(0)} ms (${(f(big, 'noopNinjaMs') / f(big, 'noopDaemonMs')).toFixed(1)}x)`, pass: f(big, 'noopNinjaMs') / f(big, 'noopDaemonMs') >= 10 });
  for (const r of stub) {
    out.push({ goal: `no-op through the daemon >= 10x faster than make's at ${r.tus} TUs`, measured: `${f(r, 'noopDaemonMs').toFixed(1)} vs ${f(r, 'noopMakeMs').toFixed(0)} ms (${(f(r, 'noopMakeMs') / f(r, 'noopDaemonMs')).toFixed(1)}x)`, pass: f(r, 'noopMakeMs') / f(r, 'noopDaemonMs') >= 10 });
  }
  for (const r of stub) {
    out.push({ goal: `cold build with the stub <= 1.2x ninja's at ${r.tus} TUs`, measured: `${f(r, 'coldRatioOsvdNinja').toFixed(2)}x`, pass: f(r, 'coldRatioOsvdNinja') <= 1.2 });
  }
  const steps: [string, string][] = [['oneTu', 'one TU edited'], ['header', 'widely included header edited'], ['switch', 'profile switch'], ['switchBack', 'profile switch back']];
  for (const r of stub) {
    for (const [k, what] of steps) {
      if (r.facts[`${k}OsvdMs`] === undefined) continue;
      const ratio = f(r, `${k}OsvdMs`) / f(r, `${k}NinjaMs`);
      out.push({ goal: `${what}: rebuild through the daemon <= 1.0x ninja's at ${r.tus} TUs`, measured: `${ratio.toFixed(2)}x (${f(r, `${k}OsvdMs`).toFixed(0)} vs ${f(r, `${k}NinjaMs`).toFixed(0)} ms)`, pass: ratio <= 1.0 });
    }
  }
  // Kept or beaten from the last full run (BENCHMARKS.md, 2026-11-27: 22.3 s and 23 s at 50,000 TUs).
  const at50k = all.filter((r) => r.tus >= 50_000);
  for (const r of at50k.filter((x) => !x.daemonOnly)) {
    out.push({ goal: `one-shot no-op < 22.3 s (the last full run's) at ${r.tus} TUs`, measured: `${(f(r, 'noopOneShotMs') / 1000).toFixed(1)} s (ninja ${(f(r, 'noopNinjaMs') / 1000).toFixed(1)} s)`, pass: f(r, 'noopOneShotMs') < 22_300 });
  }
  for (const r of at50k) {
    out.push({ goal: `daemon start < 23 s (the last full run's) at ${r.tus} TUs${r.daemonOnly ? ' (daemon only)' : ''}`, measured: `${(f(r, 'daemonStartMs') / 1000).toFixed(1)} s`, pass: f(r, 'daemonStartMs') < 23_000 });
  }
  out.push({ goal: `daemon RSS < 400 MB ${at}`, measured: `${f(big, 'daemonRssMb')} MB (peak ${f(big, 'daemonPeakRssMb')} MB, ${f(big, 'daemonRestRssMb')} MB once idle)`, pass: f(big, 'daemonRssMb') < 400 });
  for (const g of out) {
    const n = /at (\d+) TUs/.exec(g.goal);
    // The incremental steps' and the cold build's goals hold at every size (issue 14: at 1k and 10k).
    if (n && Number(n[1]) < 50_000 && !/<= 1\.[02]x ninja/.test(g.goal)) g.goal += ' [goal is set at 50,000 TUs]';
  }
  return out;
}
