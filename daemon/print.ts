import type { PlanState } from '../graph/plan.js';
import type { BuildReport, DryRunEntry, DryRunReport, StatusReport, WhyNode, WhyReport } from './answers.js';
import { distributedLines } from './distributedText.js';

/** User-facing output: short lines for people, one JSON object with --json. */

const CUTOFF_TEXT = 'preprocessed input unchanged';

export function printBuild(r: BuildReport, o: { json?: boolean; quiet?: boolean }): void {
  for (const w of r.remoteCache?.warnings ?? []) process.stderr.write(`osvd: warning: ${w}\n`);
  if (o.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const lines: string[] = [];
  if (!o.quiet) {
    // Actions never built before say nothing interesting one by one: count them by kind.
    const fresh = r.ran.filter((e) => e.reasons.length === 1 && e.reasons[0]!.type === 'new');
    const changed = r.ran.filter((e) => !fresh.includes(e));
    const shown = changed.slice(0, 40);
    for (const e of shown) lines.push(`  ${e.kind.padEnd(8)} ${e.output}  (${e.reason})`);
    if (changed.length > shown.length) lines.push(`  ... and ${changed.length - shown.length} more`);
    const byKind = new Map<string, number>();
    for (const e of fresh) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
    if (fresh.length) lines.push(`  never built before: ${[...byKind].map(([k, n]) => `${n} ${k}`).join(', ')}`);
    if (r.cutoff.length) lines.push(`  ${CUTOFF_TEXT}: ${r.cutoff.length} (${r.cutoff.slice(0, 3).map((e) => e.output).join(', ')}${r.cutoff.length > 3 ? ', ...' : ''})`);
    if (r.restored.length) lines.push(`  restored from the store: ${r.restored.length} (${r.restored.slice(0, 3).map((e) => e.output).join(', ')}${r.restored.length > 3 ? ', ...' : ''})`);
    const c = r.remoteCache;
    if (c) {
      const mb = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MB`;
      lines.push(`  remote cache (${c.mode}): ${c.hits} hits, ${c.misses} misses, ${c.uploads} uploaded${c.pendingUploads ? ` (${c.pendingUploads} under way)` : ''}, ${c.skipped} skipped, ${c.errors} errors; ${mb(c.bytesDown)} down, ${mb(c.bytesUp)} up`);
    }
  }
  lines.push(...distributedLines(r.distributed));
  // What failed was printed as it failed (with its command and output): the summary names it again.
  for (const f of r.failed.slice(0, 20)) lines.push(`FAILED: ${f.kind} ${f.output}${f.source ? ` (${f.source})` : ''}`);
  if (r.failed.length > 20) lines.push(`FAILED: ... and ${r.failed.length - 20} more`);
  const k = r.knobs;
  const knobs = `profile ${k.conf_drivers_profile}, hide_symbols ${k.conf_hide_symbols}${k.app ? `, app ${k.app}` : ''}${k.conf_version_script ? `, version script ${k.conf_version_script}` : ''}`;
  lines.push(
    `osvd: ${r.ok ? 'build ok' : 'build FAILED'} in ${(r.durationMs / 1000).toFixed(2)} s [${k.mode}.${k.arch}, ${knobs}]: ` +
      `${r.ran.length} ran, ${r.restored.length} restored, ${r.cutoff.length ? `${r.cutoff.length} kept (preprocessed input unchanged), ` : ''}${r.upToDate} up to date` +
      (r.failed.length ? `, ${r.failed.length} failed, ${r.skipped.length} skipped` : '') +
      (r.via === 'daemon' ? ' (daemon)' : '') +
      (r.stopped ? `\nosvd: stopped after ${r.failed.length} failure${r.failed.length > 1 ? 's' : ''} (-k N or --keep-going to go on)` : ''),
  );
  process.stdout.write(lines.join('\n') + '\n');
}

/** `osvd build -n`: each stale action with what would happen and why (-v: and its commands), then the counts. */
export function printDryRun(r: DryRunReport, o: { json?: boolean; verbose?: boolean }): void {
  if (o.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const lines: string[] = [];
  const list = (entries: readonly DryRunEntry[], what: string): void => {
    for (const e of entries) {
      lines.push(`${what.padEnd(14)} ${e.kind.padEnd(8)} ${e.output}  (${e.reason})`);
      if (o.verbose) for (const c of e.commands) lines.push(`    ${c}`);
    }
  };
  list(r.run, 'would run');
  list(r.restore, 'would restore');
  list(r.pending, 'may run');
  if (r.pending.length) lines.push(`  (may run: reads what a stale action writes; runs unless that comes out byte for byte the same)`);
  lines.push(
    `osvd: dry run${r.via === 'daemon' ? ' (daemon)' : ''}: ${r.run.length} would run, ${r.restore.length} would be restored, ${r.pending.length} may run, ${r.upToDate} up to date; nothing was run or recorded`,
  );
  process.stdout.write(lines.join('\n') + '\n');
}

export function printStatus(s: StatusReport, o: { json?: boolean }): void {
  if (o.json) {
    process.stdout.write(JSON.stringify(s) + '\n');
    return;
  }
  const knobs = Object.entries(s.knobs)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${v}${k in s.liveKnobs ? ' (set live)' : ''}`)
    .join(' ');
  const kinds = Object.entries(s.graph.byKind)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const stale = s.dirty.run + s.dirty.restore + s.dirty.pending;
  const last = s.lastBuild as { ok: boolean; ran: number; restored: number; upToDate: number; durationMs: number; finishedAt: number } | null;
  const d = s.daemon;
  const lines = [
    d.running
      ? `daemon: pid ${d.pid}, up ${Math.round((d.uptimeMs ?? 0) / 1000)} s, watcher ${d.watcher?.mode}${d.watcher?.backend ? ` (${d.watcher.backend})` : ''}${d.watcher?.healthy ? '' : ' (degraded)'}, auto-build ${d.autoBuild ? 'on' : 'off'}`
      : `daemon: not running (${d.note ?? 'answered from the database'})`,
    `tree:  ${s.root} -> ${s.outDir}`,
    `knobs: ${knobs}`,
    `graph: ${s.graph.actions} actions (${kinds})`,
    ...(s.kernel?.kernel ? [`kernel: ${s.kernel.kernel}, ${s.kernel.objects} objects; drivers: ${s.kernel.drivers.join(' ') || 'none'}`] : []),
    d.importFailure
      ? `state: the makefiles could not be imported (${d.importFailure}); builds fail until they can, osvd build says why`
      : d.verifying
      ? `state: verifying: ${d.verifying}; every tracked file is being checked`
      : d.reimporting
      ? `state: importing the makefiles again (${d.reimporting}); the graph above is the last import's`
      : d.replanning
      ? `state: deciding again what is stale (${d.replanning}); the counts are the last plan's`
      : stale === 0
      ? 'state: up to date'
      : `state: ${stale} stale: ${s.dirty.run} must run, ${s.dirty.restore} restorable from the store, ${s.dirty.pending} wait on changed inputs`,
    ...(d.watcher?.problem ? [`watcher: ${d.watcher.problem}`, `  fix: ${d.watcher.fix}`] : []),
    ...(s.building
      ? [`building: ${s.building.finished}/${s.building.total}${s.building.running.length ? `, running ${s.building.running.slice(0, 3).join(', ')}` : ''}${s.building.etaMs != null ? `, ETA ${Math.ceil(s.building.etaMs / 1000)} s` : ''}`]
      : []),
    last
      ? `last build: ${last.ok ? 'ok' : 'FAILED'}, ${last.ran} ran, ${last.restored} restored, ${last.upToDate} up to date, ${(last.durationMs / 1000).toFixed(2)} s, ${new Date(last.finishedAt).toISOString()}`
      : 'last build: none',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

const STATE_TEXT: Record<PlanState, string> = {
  upToDate: 'up to date',
  restore: 'out of date: restorable from the store',
  run: 'out of date: must run',
  pending: 'out of date: an input is rebuilt first',
};

export function printWhy(w: WhyReport, o: { json?: boolean }): void {
  if (o.json) {
    process.stdout.write(JSON.stringify(w) + '\n');
    return;
  }
  const lines: string[] = [];
  const walk = (n: WhyNode, depth: number): void => {
    const pad = '  '.repeat(depth);
    lines.push(`${pad}${n.output} [${n.kind}]: ${STATE_TEXT[n.state]}`);
    for (const r of n.reasons) lines.push(`${pad}  - ${r.text}`);
    for (const u of n.upstream) walk(u, depth + 1);
  };
  walk(w, 0);
  if (w.source) lines.push(`TU: ${w.source}`);
  if (w.lastRun) {
    const when = new Date(w.lastRun.finishedAt).toISOString();
    const changed = w.lastRun.changedSincePrevious.length ? (w.lastRun.cutoff ? ', although:' : ', because:') : '';
    lines.push(w.lastRun.cutoff ? `last checked ${when}: ${CUTOFF_TEXT}, the compile did not run${changed}` : `last built ${when} in ${w.lastRun.durationMs} ms${changed}`);
    for (const c of w.lastRun.changedSincePrevious.slice(0, 8)) lines.push(`  - ${c.text}`);
    if (w.lastRun.printed) lines.push('its commands printed:', ...indent(w.lastRun.printed));
  }
  if (w.lastFailure !== undefined) lines.push('its last attempt FAILED:', ...indent(w.lastFailure));
  process.stdout.write(lines.join('\n') + '\n');
}

function indent(text: string): string[] {
  return text.replace(/\n$/, '').split('\n').map((l) => `  | ${l}`);
}

/** What `osvd set` answers: the knobs it keeps live (JSON: with the knobs in force and the road). */
export function printSet(r: { knobs: Record<string, string>; liveKnobs: Record<string, string> }, via: 'daemon' | 'one-shot', o: { json?: boolean }): void {
  if (o.json) return void process.stdout.write(JSON.stringify({ ok: true, ...r, via }) + '\n');
  const live = Object.entries(r.liveKnobs).map(([k, v]) => `${k}=${v}`);
  process.stdout.write(live.length ? `knobs set live: ${live.join(' ')}\n` : 'no knobs set live: osv.config.ts applies\n');
}
