import fs from 'node:fs';
import path from 'node:path';
import { OsvdError } from '../base/errors.js';
import type { BuildTimeline } from '../graph/timeline.js';
import type { ProjectOptions } from '../osv/project.js';
import { toDot } from '../view/dot.js';
import { buildPicture, type Picture, type ShownAction } from '../view/picture.js';
import { reportHtml } from '../view/report.js';
import { toSvg } from '../view/svgGraph.js';
import { toTrace } from '../view/trace.js';
import { findAction, UnknownPathError } from './answers.js';
import { withSession } from './oneShot.js';
import type { Session } from './session.js';

/**
 * What `osvd graph` and `osvd report` draw, gathered from the tree's state in this process (a running
 * daemon shares the database, in WAL mode): the graph and plan for `graph`, the history for `report`.
 * view/ turns it into files. Loaded only by those two commands.
 */

export interface GraphRequest {
  readonly target?: string;
  readonly cwd: string;
  readonly stale: boolean;
  readonly maxNodes: number;
}

export interface PictureJson {
  actions: number;
  groupedAtDepth?: number;
  nodes: { id: string; kind: string; state: string; lines: readonly string[]; output?: string; members: number; durationMs?: number }[];
  edges: { from: string; to: string; label: string; count: number }[];
}

/** The picture of the graph for the knobs in effect: all of it, TARGET and what it needs, or what is stale. */
export function graphPicture(opts: ProjectOptions, sets: readonly string[], req: GraphRequest): Promise<Picture> {
  return withSession(opts, async (s) => {
    const loaded = await s.graph(s.project(sets));
    const { graph } = loaded;
    let chain: Set<string> | undefined;
    if (req.target !== undefined) {
      const action = findAction(s.base.root, loaded, req.target, req.cwd);
      if (!action) throw new UnknownPathError(req.target, loaded.project.root, 'TARGET');
      chain = new Set([action.id, ...graph.upstreamOf(action.id)]);
    }
    const plan = s.plan(loaded, chain ?? new Set(graph.actions.keys()), chain);
    const shown: ShownAction[] = [];
    for (const id of graph.topologicalOrder()) {
      const entry = plan.entries.get(id);
      if (!entry || (req.stale && entry.state === 'upToDate')) continue;
      shown.push({ id, state: entry.state, durationMs: s.traces.lastRun(id)?.durationMs, reasons: entry.reasons });
    }
    return buildPicture(graph, shown, { maxNodes: req.maxNodes });
  });
}

export function pictureText(picture: Picture, format: 'dot' | 'svg'): string {
  return format === 'svg' ? toSvg(picture) : toDot(picture);
}

export function pictureJson(picture: Picture): PictureJson {
  const info = picture.graph();
  return {
    actions: info.actions,
    groupedAtDepth: info.groupedAtDepth,
    nodes: picture.nodes().map((id) => {
      const n = picture.node(id)!;
      return { id, kind: n.kind, state: n.state, lines: n.lines, output: n.output, members: n.members.length, durationMs: n.durationMs };
    }),
    edges: picture.edges().map((e) => ({ from: e.v, to: e.w, label: picture.edge(e)!.label, count: picture.edge(e)!.count })),
  };
}

export interface ReportRequest {
  readonly htmlFile?: string;
  readonly traceFile?: string;
  readonly maxNodes: number;
}

export interface ReportWritten {
  html: string;
  trace?: string;
  actions: number;
  criticalPath: number;
}

/** Write the last build's report page (and its trace, when asked). */
export function writeReport(opts: ProjectOptions, req: ReportRequest): Promise<ReportWritten> {
  return withSession(opts, async (s) => {
    const last = s.history.lastWithTimeline();
    if (!last) throw new OsvdError('NO_BUILD', 'no build of this tree is recorded yet', { hint: 'run osvd build first' });
    const timeline = last.timeline;
    const traced = req.traceFile !== undefined && timeline && timeline.actions.length > 0 ? timeline : undefined;
    if (req.traceFile !== undefined && !traced) throw new OsvdError('NO_TIMELINE', 'the last build ran nothing and restored nothing: there is nothing to trace', { hint: 'build after a change, then ask for the trace' });
    // The graph of the build's own knobs, whatever is set now.
    const sets = Object.entries(last.summary.knobs).map(([k, v]) => `${k}=${v}`);
    const loaded = await s.graph(s.project(sets));
    const html = req.htmlFile ?? path.join(s.base.stateDir, 'report.html');
    const outputs = timeline ? printedBy(s, timeline) : undefined;
    writeFile(html, reportHtml({ summary: last.summary, timeline, graph: loaded.graph, outputs, root: loaded.project.root, maxNodes: req.maxNodes }));
    if (traced) writeFile(req.traceFile!, JSON.stringify(toTrace(last.summary, traced)));
    const trace = traced ? req.traceFile : undefined;
    return { html, trace, actions: timeline?.actions.length ?? 0, criticalPath: timeline?.criticalPath.length ?? 0 };
  });
}

/**
 * What the actions of the build printed (their warnings): a failed action's recorded message, and for
 * one that ran its last run's output. Undefined when there is none.
 */
function printedBy(s: Session, timeline: BuildTimeline): Map<string, string> | undefined {
  const out = new Map<string, string>();
  for (const a of timeline.actions) {
    const text = a.state === 'failed' ? s.traces.lastFailure(a.id) : a.state === 'ran' ? s.traces.lastRun(a.id)?.printed : undefined;
    if (text) out.set(a.id, text);
  }
  return out.size > 0 ? out : undefined;
}

/** Written under a temporary name and renamed, so that a browser never reads half a page. */
export function writeFile(file: string, text: string): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}
