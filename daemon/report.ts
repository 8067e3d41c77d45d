import type { BuildResult } from '../graph/builder.js';
import type { PlanState } from '../graph/plan.js';
import type { DirtyReason } from '../graph/rebuilder.js';

/** User-facing output: short lines for people, one JSON object with --json. */

export interface BuildPrintOptions {
  json?: boolean;
  quiet?: boolean;
  knobs: Readonly<Record<string, string>>;
  importCached: boolean;
  importMs: number;
}

export function printBuild(r: BuildResult, o: BuildPrintOptions): void {
  if (o.json) {
    const out = {
      ok: r.ok,
      ran: r.ran.map((e) => ({ output: e.output, kind: e.kind, reason: e.reason, reasons: e.reasons, durationMs: e.durationMs })),
      restored: r.restored.map((e) => ({ output: e.output, kind: e.kind })),
      upToDate: r.upToDate,
      failed: r.failed.map((f) => ({ output: f.output, kind: f.kind, source: f.source, exitCode: f.exitCode, message: f.message, command: f.command })),
      skipped: r.skipped,
      raced: r.raced,
      durationMs: Math.round(r.durationMs),
      knobs: o.knobs,
      import: { cached: o.importCached, ms: Math.round(o.importMs) },
    };
    process.stdout.write(JSON.stringify(out) + '\n');
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
    if (r.restored.length) lines.push(`  restored from the store: ${r.restored.length} (${r.restored.slice(0, 3).map((e) => e.output).join(', ')}${r.restored.length > 3 ? ', ...' : ''})`);
  }
  for (const f of r.failed) {
    lines.push(`FAILED ${f.kind} ${f.output}${f.source ? ` (${f.source})` : ''}`);
    lines.push(f.message.split('\n').map((l) => `  | ${l}`).join('\n'));
  }
  const knobs = `profile ${o.knobs.conf_drivers_profile}, hide_symbols ${o.knobs.conf_hide_symbols}${o.knobs.app ? `, app ${o.knobs.app}` : ''}${o.knobs.conf_version_script ? `, version script ${o.knobs.conf_version_script}` : ''}`;
  const verdict = r.ok ? 'build ok' : 'build FAILED';
  lines.push(
    `osvd: ${verdict} in ${(r.durationMs / 1000).toFixed(2)} s [${o.knobs.mode}.${o.knobs.arch}, ${knobs}]: ` +
      `${r.ran.length} ran, ${r.restored.length} restored, ${r.upToDate} up to date` +
      (r.failed.length ? `, ${r.failed.length} failed, ${r.skipped.length} skipped` : ''),
  );
  process.stdout.write(lines.join('\n') + '\n');
}

export interface StatusReport {
  daemon: { running: boolean; note?: string };
  root: string;
  outDir: string;
  knobs: Readonly<Record<string, string>>;
  graph: { actions: number; byKind: Record<string, number> };
  dirty: { run: number; restore: number; pending: number; upToDate: number };
  lastBuild: unknown;
}

export function printStatus(s: StatusReport, o: { json?: boolean }): void {
  if (o.json) {
    process.stdout.write(JSON.stringify(s) + '\n');
    return;
  }
  const knobs = Object.entries(s.knobs)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  const kinds = Object.entries(s.graph.byKind)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  const stale = s.dirty.run + s.dirty.restore + s.dirty.pending;
  const last = s.lastBuild as { ok: boolean; ran: number; restored: number; upToDate: number; durationMs: number; finishedAt: number } | null;
  const lines = [
    `osvd: ${s.daemon.running ? 'daemon running' : s.daemon.note ?? 'no daemon'}`,
    `tree:  ${s.root} -> ${s.outDir}`,
    `knobs: ${knobs}`,
    `graph: ${s.graph.actions} actions (${kinds})`,
    stale === 0
      ? 'state: up to date'
      : `state: ${stale} stale: ${s.dirty.run} must run, ${s.dirty.restore} restorable from the store, ${s.dirty.pending} wait on changed inputs`,
    last
      ? `last build: ${last.ok ? 'ok' : 'FAILED'}, ${last.ran} ran, ${last.restored} restored, ${last.upToDate} up to date, ${(last.durationMs / 1000).toFixed(2)} s, ${new Date(last.finishedAt).toISOString()}`
      : 'last build: none',
  ];
  process.stdout.write(lines.join('\n') + '\n');
}

export interface WhyNode {
  action: string;
  output: string;
  kind: string;
  state: PlanState;
  upToDate: boolean;
  reasons: (DirtyReason & { text: string })[];
  upstream: WhyNode[];
}

const STATE_TEXT: Record<PlanState, string> = {
  upToDate: 'up to date',
  restore: 'out of date: restorable from the store',
  run: 'out of date: must run',
  pending: 'out of date: an input is rebuilt first',
};

export interface WhyLastRun {
  finishedAt: number;
  knobs: Readonly<Record<string, string>>;
  durationMs: number;
  changedSincePrevious: { text: string }[];
}

export function printWhy(w: WhyNode & { path: string; source?: string; lastRun: WhyLastRun | null }, o: { json?: boolean }): void {
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
    lines.push(`last built ${new Date(w.lastRun.finishedAt).toISOString()} in ${w.lastRun.durationMs} ms${w.lastRun.changedSincePrevious.length ? ', because:' : ''}`);
    for (const c of w.lastRun.changedSincePrevious.slice(0, 8)) lines.push(`  - ${c.text}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}
