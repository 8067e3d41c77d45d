import path from 'node:path';
import { stripAnsi } from '../base/ansi.js';
import type { Action } from '../graph/action.js';
import { primaryOutput, type BuildResult, type SlotTime } from '../graph/builder.js';
import type { LaunchReport } from '../graph/launcher.js';
import { OsvdError } from '../base/errors.js';
import { kernelFacts, type KernelFacts } from '../osv/kernelFacts.js';
import type { Plan, PlanState } from '../graph/plan.js';
import { describeReason, runChanges, type DirtyReason } from '../graph/why.js';
import type { LoadedGraph, RemoteCacheReport, Session } from './session.js';

/**
 * The answers osvd gives, as plain JSON-able objects: computed the same way in one-shot mode and
 * inside the daemon, and printed by print.ts on the client's side.
 */

export interface BuildReport {
  ok: boolean;
  /** `printed`: what the commands printed (warnings), without terminal escapes, when anything. */
  ran: { output: string; kind: string; reason: string; reasons: readonly DirtyReason[]; durationMs: number; time: SlotTime; printed?: string }[];
  restored: { output: string; kind: string }[];
  /** Compiles that did not run: their preprocessed input was the one their objects were built from. */
  cutoff: { output: string; kind: string; reason: string; reasons: readonly DirtyReason[]; durationMs: number; time: SlotTime }[];
  /** Outputs of the actions on the build's critical path, first to last (see graph/criticalPath.ts). */
  criticalPath: string[];
  upToDate: number;
  failed: { output: string; kind: string; source?: string; exitCode: number | null; message: string; command?: string }[];
  skipped: string[];
  /** The build stopped starting actions after its failure limit (-k); what did not start is neither ran nor skipped. */
  stopped: boolean;
  /** The job limit this build had (-j) and the most commands that ran at once. */
  jobs: { limit: number; peak: number };
  raced: string[];
  durationMs: number;
  knobs: Readonly<Record<string, string>>;
  import: { cached: boolean; ms: number };
  via: 'daemon' | 'one-shot';
  /** With distcc or icecc: where the compiles ran, and which fell back to this machine. */
  distributed?: LaunchReport;
  /** With a shared cache: what it did in this build (`restored` counts its hits too). */
  remoteCache?: RemoteCacheReport;
}

export function buildReport(r: BuildResult & { remoteCache?: RemoteCacheReport }, loaded: LoadedGraph, via: BuildReport['via']): BuildReport {
  return {
    ...(r.remoteCache ? { remoteCache: r.remoteCache } : {}),
    ok: r.ok,
    ran: r.ran.map((e) => ({ output: e.output, kind: e.kind, reason: e.reason, reasons: e.reasons, durationMs: e.durationMs, time: roundTime(e.time), ...(e.printed ? { printed: stripAnsi(e.printed) } : {}) })),
    restored: r.restored.map((e) => ({ output: e.output, kind: e.kind })),
    cutoff: r.cutoff.map((e) => ({ output: e.output, kind: e.kind, reason: e.reason, reasons: e.reasons, durationMs: e.durationMs, time: roundTime(e.time) })),
    criticalPath: (r.criticalPath ?? []).map((id) => primaryOutput(loaded.graph.get(id))),
    upToDate: r.upToDate,
    failed: r.failed.map((f) => ({ output: f.output, kind: f.kind, source: f.source, exitCode: f.exitCode, message: f.message, command: f.command })),
    skipped: r.skipped,
    stopped: r.stopped,
    jobs: r.jobs,
    raced: r.raced,
    durationMs: Math.round(r.durationMs),
    knobs: loaded.project.knobs,
    import: { cached: loaded.importCached, ms: Math.round(loaded.importMs) },
    via,
    ...(r.distributed ? { distributed: r.distributed } : {}),
  };
}

function roundTime(t: SlotTime): SlotTime {
  return { slot: t.slot, startMs: Math.round(t.startMs), endMs: Math.round(t.endMs) };
}

/** One action of a dry run: what would happen to it, and why. */
export interface DryRunEntry {
  output: string;
  kind: string;
  reason: string;
  reasons: readonly DirtyReason[];
  commands: readonly string[];
}

/**
 * `osvd build -n`: what a build would do now. `run`: actions that would run; `restore`: whose outputs
 * the store holds; `pending`: actions that read what a stale action writes: they run unless it writes
 * the same bytes again. Nothing ran and nothing was recorded.
 */
export interface DryRunReport {
  ok: true;
  dryRun: true;
  run: DryRunEntry[];
  restore: DryRunEntry[];
  pending: DryRunEntry[];
  upToDate: number;
  knobs: Readonly<Record<string, string>>;
  via: 'daemon' | 'one-shot';
}

/** A dry run's report from a plan's entries (reasons worked out for the stale ones), in build order. */
export function dryRunReport(loaded: LoadedGraph, plan: Plan, via: DryRunReport['via']): DryRunReport {
  const report: DryRunReport = { ok: true, dryRun: true, run: [], restore: [], pending: [], upToDate: 0, knobs: loaded.project.knobs, via };
  for (const id of loaded.graph.topologicalOrder()) {
    const entry = plan.entries.get(id);
    if (!entry) continue;
    if (entry.state === 'upToDate') {
      report.upToDate++;
      continue;
    }
    const action = loaded.graph.get(id);
    const reasons = entry.reasons.length ? entry.reasons : [{ type: 'storeMiss' } as const];
    const item: DryRunEntry = { output: primaryOutput(action), kind: action.kind, reason: reasons.slice(0, 3).map(describeReason).join('; '), reasons, commands: action.commands };
    report[entry.state].push(item);
  }
  return report;
}

export interface DaemonInfo {
  running: boolean;
  pid?: number;
  note?: string;
  uptimeMs?: number;
  watcher?: { mode: 'events' | 'polling' | 'off'; backend?: 'watchman' | 'folders'; healthy: boolean; problem?: string; fix?: string; lastEventAt?: number };
  /**
   * Why the plan may have missed edits (file events lost: an overflow, watchman starting afresh),
   * while the daemon checks every tracked file; null when the plan is current.
   */
  verifying?: string | null;
  /** Why the makefiles are being imported again (graph, plan and counts are the last import's until it ends); null when they are not. */
  reimporting?: string | null;
  /** Why the last import failed (make rejected the makefiles, the config did not load): builds fail until one succeeds; null when none failed. */
  importFailure?: string | null;
  /** Why the plan is being made again after a build that changed what it knew (the counts are the last plan's until it ends); null when it is not. */
  replanning?: string | null;
  autoBuild?: boolean;
  lastUpdateMs?: number;
  memory?: { rssMb: number; heapUsedMb: number; heapTotalMb: number; externalMb: number };
}

export interface BuildProgress {
  finished: number;
  total: number;
  running: string[];
  ran: number;
  restored: number;
  elapsedMs: number;
  etaMs: number | null;
}

export interface StatusReport {
  daemon: DaemonInfo;
  root: string;
  outDir: string;
  knobs: Readonly<Record<string, string>>;
  /** Knobs set live with `osvd set` (they override osv.config.ts). */
  liveKnobs: Readonly<Record<string, string>>;
  graph: { actions: number; byKind: Record<string, number> };
  /** The kernel these knobs give: the drivers of the profile and the objects linked. */
  kernel: KernelFacts;
  dirty: { run: number; restore: number; pending: number; upToDate: number };
  building: BuildProgress | null;
  lastBuild: unknown;
  /** How many builds the database has recorded. */
  builds: number;
}

const kernels = new WeakMap<LoadedGraph, KernelFacts>();
/** Computed once per loaded graph: status is asked often. */
function kernelOf(loaded: LoadedGraph): KernelFacts {
  let facts = kernels.get(loaded);
  if (!facts) {
    facts = kernelFacts(loaded.graph.actions.values(), loaded.project.outDir);
    kernels.set(loaded, facts);
  }
  return facts;
}

export function statusReport(session: Session, loaded: LoadedGraph, plan: Plan, daemon: DaemonInfo, building: BuildProgress | null): StatusReport {
  const byKind = { ...loaded.byKind };
  return {
    daemon,
    root: loaded.project.root,
    outDir: loaded.project.outDir,
    knobs: loaded.project.knobs,
    liveKnobs: session.liveKnobs(),
    graph: { actions: loaded.graph.actions.size, byKind },
    kernel: kernelOf(loaded),
    dirty: { run: plan.counts.run, restore: plan.counts.restore, pending: plan.counts.pending, upToDate: plan.counts.upToDate },
    building,
    lastBuild: session.history.last() ?? null,
    builds: session.history.count(),
  };
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

export interface WhyReport extends WhyNode {
  path: string;
  source?: string;
  /** The commands the action runs (make's own recipe lines). */
  commands: readonly string[];
  /** The last successful run; `printed`: what its commands printed then (warnings), when anything. */
  lastRun: {
    finishedAt: number;
    knobs: Readonly<Record<string, string>>;
    durationMs: number;
    /** The compile did not run: its preprocessed input was unchanged (the outputs were kept). */
    cutoff: boolean;
    changedSincePrevious: (DirtyReason & { text: string })[];
    printed?: string;
  } | null;
  /** When the last attempt failed: what it printed. */
  lastFailure?: string;
}

export class UnknownPathError extends OsvdError {
  constructor(target: string, root: string, field = 'PATH') {
    super('WHY_UNKNOWN_PATH', `'${target}' is neither an output nor a source of the build of ${root}`, {
      field,
      hint: 'give a path relative to the tree (or the current folder), e.g. build/release.x64/loader.elf',
    });
  }
}

/** A path in a request that lies outside the tree (paths are confined to the tree and its build folder). */
export class PathOutsideTreeError extends OsvdError {
  constructor(target: string, root: string, field = 'PATH') {
    super('PATH_OUTSIDE_TREE', `'${target}' lies outside the tree ${root}; osvd only answers for paths inside it`, {
      field,
      hint: 'give a path inside the tree, relative to its top or to the current folder, e.g. build/release.x64/loader.elf',
    });
  }
}

/**
 * The action a path given by a user names: the one that writes it, or whose TU it is. The path is
 * taken relative to the tree's top or to the caller's folder, and one of them must be inside the tree.
 */
export function findTarget(session: Session, loaded: LoadedGraph, target: string, cwd: string, field = 'PATH'): Action {
  const root = loaded.project.root;
  const inside = (abs: string): boolean => {
    const rel = path.relative(root, abs);
    return !(rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel));
  };
  if (target.includes('\0') || !(inside(path.resolve(root, target)) || inside(path.resolve(root, cwd, target)))) throw new PathOutsideTreeError(target, root, field);
  const action = findAction(session.base.root, loaded, target, cwd);
  if (!action) throw new UnknownPathError(target, root, field);
  return action;
}

/** `osvd build TARGET...`: the actions the targets name, in order, each once. */
export function resolveTargets(session: Session, loaded: LoadedGraph, targets: readonly string[], cwd: string): string[] {
  return [...new Set(targets.map((t) => findTarget(session, loaded, t, cwd, 'TARGET').id))];
}

export function whyReport(session: Session, loaded: LoadedGraph, target: string, cwd: string): WhyReport {
  const action = findTarget(session, loaded, target, cwd);
  // Reasons only for the action and what it depends on: the chain can lead nowhere else.
  const chain = new Set([action.id, ...loaded.graph.upstreamOf(action.id)]);
  const plan = session.plan(loaded, chain, chain);
  const node = whyNode(action.id, plan, loaded, new Set());
  const last = session.traces.lastRun(action.id);
  const previous = session.traces.previousRun(action.id);
  const changes = last && previous ? runChanges(previous, last).map((r) => ({ ...r, text: describeReason(r) })) : [];
  const failure = session.traces.lastFailure(action.id);
  return {
    path: target,
    ...node,
    source: action.source,
    commands: action.commands,
    lastRun: last ? { finishedAt: last.finishedAt, knobs: last.context, durationMs: last.durationMs, cutoff: last.cutoff === true, changedSincePrevious: changes, ...(last.printed ? { printed: last.printed } : {}) } : null,
    ...(failure !== undefined ? { lastFailure: failure } : {}),
  };
}

function whyNode(id: string, plan: Plan, loaded: LoadedGraph, seen: Set<string>): WhyNode {
  seen.add(id);
  const entry = plan.entries.get(id)!;
  const action = loaded.graph.get(id);
  const reasons = entry.reasons.map((r) => ({ ...r, text: describeReason(r) }));
  const upstream: WhyNode[] = [];
  for (const r of entry.reasons) {
    if (r.type === 'pendingInput' && !seen.has(r.producer) && upstream.length < 5) upstream.push(whyNode(r.producer, plan, loaded, seen));
  }
  return { action: id, output: action.outputs[0] ?? id, kind: action.kind, state: entry.state, upToDate: entry.state === 'upToDate', reasons, upstream };
}

/**
 * The action that writes `p` (a path relative to the cwd or the root), or whose TU `p` is; last, an
 * output named relative to the build folder (`core/sched.o` for build/release.x64/core/sched.o).
 */
export function findAction(root: string, loaded: LoadedGraph, p: string, cwd: string): Action | undefined {
  const { graph } = loaded;
  const candidates = [p, path.relative(root, path.resolve(cwd, p)), path.normalize(p), path.posix.join(loaded.project.outDir, path.normalize(p))];
  for (const c of candidates) {
    const byOutput = graph.producerOf(c) ?? graph.actions.get(c);
    if (byOutput) return byOutput;
  }
  for (const c of candidates) {
    for (const a of graph.actions.values()) if (a.source === c) return a;
  }
  return undefined;
}
