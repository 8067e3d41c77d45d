import { Graph } from '@dagrejs/graphlib';
import type { ActionKind } from '../graph/action.js';
import type { BuildGraph } from '../graph/graph.js';
import { describeReason, type DirtyReason } from '../graph/why.js';
import { folderAt, groupingDepth } from './folders.js';
import { basename, dirname, formatDuration } from './text.js';

/**
 * The picture of a part of the build graph, as a graphlib graph: one node per action shown (or per
 * folder of compiles, when there are too many to read), a node per changed source file or knob named
 * by the reasons, and edges labelled with the changes that made the action downstream run. This is
 * where graphlib belongs: pictures are small, and dagre lays a graphlib graph out. The build itself
 * keeps its own Map/Set graph (graph/graph.ts), several times faster at the sizes it handles.
 */

/** What the picture says of an action: its last or coming state. */
export type ShownState = 'ran' | 'restored' | 'failed' | 'upToDate' | 'run' | 'restore' | 'pending';

export interface ShownAction {
  readonly id: string;
  readonly state: ShownState;
  readonly durationMs?: number;
  readonly reasons: readonly DirtyReason[];
}

export type NodeKind = ActionKind | 'group' | 'file' | 'knob';

export interface PictureNode {
  readonly kind: NodeKind;
  readonly state: ShownState | 'changed';
  /** The label, one line each. */
  readonly lines: readonly string[];
  /** The tooltip. */
  readonly title: string;
  /** An action node's primary output (the name a user knows it by). */
  readonly output?: string;
  /** The actions (or changed files) the node stands for. */
  readonly members: readonly string[];
  readonly durationMs?: number;
  readonly critical: boolean;
}

export interface PictureEdge {
  label: string;
  /** How many action-to-action edges this one stands for (folders merge them). */
  count: number;
  critical: boolean;
}

export interface PictureInfo {
  readonly actions: number;
  /** The folder depth compiles were grouped at, when they were. */
  readonly groupedAtDepth?: number;
}

export type Picture = Graph<PictureInfo, PictureNode, PictureEdge>;

export interface PictureOptions {
  /** Above this many nodes, compiles (and changed files) are grouped by folder. */
  readonly maxNodes: number;
  /** The build's critical path (action ids, first to last): its nodes and edges are marked. */
  readonly criticalPath?: readonly string[];
}

const STATE_WORDS: Record<ShownState, string> = {
  ran: 'ran',
  restored: 'restored',
  failed: 'failed',
  upToDate: 'up to date',
  run: 'will run',
  restore: 'restorable',
  pending: 'waits on inputs',
};
/** Which member's state a folder shows: the one a reader must see first. */
const STATE_RANK: ShownState[] = ['failed', 'ran', 'run', 'pending', 'restore', 'restored', 'upToDate'];

/** A changed source file or knob that the reasons name. */
interface Leaf {
  readonly kind: 'file' | 'knob';
  readonly text: string;
  readonly path: string;
  /** For a file: modified, added, removed, ... */
  readonly change?: string;
}

interface Change {
  readonly from: string;
  readonly to: string;
  /** What changed (modified, command, rebuilt), and in which file or knob; none for a plain dependency. */
  readonly change?: string;
  readonly subject?: string;
}

export function buildPicture(graph: BuildGraph, shown: readonly ShownAction[], options: PictureOptions): Picture {
  const byId = new Map(shown.map((s) => [s.id, s]));
  const critical = new Set(options.criticalPath ?? []);
  const leaves = new Map<string, Leaf>();
  const changes: Change[] = [];
  const notes = new Map<string, string>();
  for (const s of shown) {
    for (const r of s.reasons) {
      const note = reasonEdges(r, s.id, graph, byId, leaves, changes);
      if (note && !notes.has(s.id)) notes.set(s.id, note);
    }
    for (const p of graph.predecessors(s.id)) if (byId.has(p)) changes.push({ from: p, to: s.id });
  }

  const compiles = shown.filter((s) => graph.get(s.id).kind === 'compile');
  const files = [...leaves.entries()].filter(([, l]) => l.kind === 'file');
  const fixed = shown.length - compiles.length + leaves.size - files.length;
  const items = [...compiles.map((s) => ({ space: 'compiles', folder: dirname(graph.get(s.id).source ?? graph.get(s.id).outputs[0] ?? s.id) })), ...files.map(([, l]) => ({ space: 'files', folder: dirname(l.path) }))];
  const depth = groupingDepth(fixed, items, options.maxNodes);

  // Which node each action and leaf is drawn as.
  const nodeOf = new Map<string, string>();
  const groups = new Map<string, { space: string; folder: string; members: string[] }>();
  const group = (key: string, space: string, folder: string, member: string): void => {
    const g = groups.get(key) ?? { space, folder, members: [] };
    g.members.push(member);
    groups.set(key, g);
    nodeOf.set(member, key);
  };
  if (depth !== undefined) {
    for (let i = 0; i < compiles.length; i++) group(`group:compiles:${folderAt(items[i]!.folder, depth)}`, 'compiles', folderAt(items[i]!.folder, depth), compiles[i]!.id);
    for (let i = 0; i < files.length; i++) {
      const folder = folderAt(items[compiles.length + i]!.folder, depth);
      group(`group:files:${folder}`, 'files', folder, files[i]![0]);
    }
  }

  const picture: Picture = new Graph<PictureInfo, PictureNode, PictureEdge>({ directed: true });
  picture.setGraph({ actions: shown.length, groupedAtDepth: depth });
  for (const [key, leaf] of leaves) {
    if (nodeOf.has(key) && groups.get(nodeOf.get(key)!)!.members.length > 1) continue;
    nodeOf.set(key, key);
    const lines = leaf.change ? [leaf.text, leaf.change] : [leaf.text];
    picture.setNode(key, { kind: leaf.kind, state: 'changed', lines, title: leaf.kind === 'knob' ? `knob ${leaf.text}` : `${leaf.path} (${leaf.change})`, members: [leaf.path], critical: false });
  }
  for (const s of shown) {
    if (nodeOf.has(s.id) && groups.get(nodeOf.get(s.id)!)!.members.length > 1) continue;
    nodeOf.set(s.id, s.id);
    picture.setNode(s.id, actionNode(graph, s, notes.get(s.id), critical.has(s.id)));
  }
  for (const [key, g] of groups) {
    if (g.members.length > 1) picture.setNode(key, groupNode(g, byId, leaves, critical));
  }

  const next = new Map<string, string>();
  const chain = options.criticalPath ?? [];
  for (let i = 0; i + 1 < chain.length; i++) next.set(chain[i]!, chain[i + 1]!);
  const merged = new Map<string, { from: string; to: string; pairs: Set<string>; changes: Map<string, Set<string>>; critical: boolean }>();
  for (const c of changes) {
    const from = nodeOf.get(c.from);
    const to = nodeOf.get(c.to);
    if (from === undefined || to === undefined || from === to) continue;
    const key = `${from}\n${to}`;
    const e = merged.get(key) ?? { from, to, pairs: new Set(), changes: new Map(), critical: false };
    e.pairs.add(`${c.from}\n${c.to}`);
    if (c.change) {
      const subjects = e.changes.get(c.change) ?? new Set<string>();
      subjects.add(c.subject ?? '');
      e.changes.set(c.change, subjects);
    }
    if (next.get(c.from) === c.to) e.critical = true;
    merged.set(key, e);
  }
  for (const e of merged.values()) {
    const fromLeaf = picture.node(e.from)!.kind === 'file' || picture.node(e.from)!.kind === 'knob' || e.from.startsWith('group:files:');
    picture.setEdge(e.from, e.to, { label: edgeLabel(e.changes, fromLeaf), count: e.pairs.size, critical: e.critical });
  }
  return picture;
}

/** Edges and leaves a reason adds; returns a note for the node when the reason names no input. */
function reasonEdges(
  r: DirtyReason,
  to: string,
  graph: BuildGraph,
  shown: ReadonlyMap<string, ShownAction>,
  leaves: Map<string, Leaf>,
  changes: Change[],
): string | undefined {
  switch (r.type) {
    case 'input': {
      const producer = r.producer ?? graph.producerOf(r.path)?.id;
      if (producer !== undefined) {
        if (shown.has(producer)) changes.push({ from: producer, to, change: r.change, subject: r.path });
        return undefined;
      }
      const key = `file:${r.path}`;
      if (!leaves.has(key)) leaves.set(key, { kind: 'file', text: r.path, path: r.path, change: r.change });
      changes.push({ from: key, to, change: r.change, subject: r.path });
      return undefined;
    }
    case 'pendingInput':
      if (shown.has(r.producer)) changes.push({ from: r.producer, to, change: 'rebuilt', subject: r.path });
      return undefined;
    case 'command':
    case 'env': {
      const change = r.type === 'command' ? 'command' : 'environment';
      for (const c of r.context) {
        const key = `knob:${c.name}`;
        leaves.set(key, { kind: 'knob', text: `${c.name}: ${c.from ?? '(unset)'} -> ${c.to ?? '(unset)'}`, path: c.name });
        changes.push({ from: key, to, change, subject: c.name });
      }
      if (r.context.length > 0) return undefined;
      return r.type === 'command' ? 'command changed' : `environment changed: ${r.vars.map((v) => v.name).join(' ')}`;
    }
    default:
      return describeReason(r);
  }
}

function actionNode(graph: BuildGraph, s: ShownAction, note: string | undefined, critical: boolean): PictureNode {
  const action = graph.get(s.id);
  const output = action.outputs[0] ?? action.id;
  const name = action.kind === 'compile' && action.source ? action.source : basename(output);
  const time = s.durationMs !== undefined ? formatDuration(s.durationMs) : '';
  const state = s.state === 'ran' && time ? '' : STATE_WORDS[s.state];
  const lines = [name, [time, state].filter(Boolean).join(' · ')];
  if (note) lines.push(note);
  const reasons = s.reasons.slice(0, 8).map(describeReason);
  if (s.reasons.length > 8) reasons.push(`... (+${s.reasons.length - 8})`);
  return {
    kind: action.kind,
    state: s.state,
    lines,
    title: [output, `${action.kind}, ${STATE_WORDS[s.state]}${time ? `, ${time}` : ''}`, ...reasons].join('\n'),
    output,
    members: [s.id],
    durationMs: s.durationMs,
    critical,
  };
}

function groupNode(
  g: { space: string; folder: string; members: string[] },
  shown: ReadonlyMap<string, ShownAction>,
  leaves: ReadonlyMap<string, { path: string }>,
  critical: ReadonlySet<string>,
): PictureNode {
  const folder = g.folder === '' ? '(every folder)' : `${g.folder}/`;
  if (g.space === 'files') {
    const paths = g.members.map((k) => leaves.get(k)!.path);
    return { kind: 'group', state: 'changed', lines: [folder, `${paths.length} changed files`], title: paths.slice(0, 40).join('\n'), members: paths, critical: false };
  }
  const members = g.members.map((id) => shown.get(id)!);
  const byState = new Map<ShownState, number>();
  for (const m of members) byState.set(m.state, (byState.get(m.state) ?? 0) + 1);
  const state = STATE_RANK.find((s) => byState.has(s))!;
  const total = members.reduce((sum, m) => sum + (m.durationMs ?? 0), 0);
  const counts = STATE_RANK.filter((s) => byState.has(s)).map((s) => `${byState.get(s)} ${STATE_WORDS[s]}`);
  return {
    kind: 'group',
    state,
    lines: [folder, `${members.length} compiles: ${counts.join(', ')}`, ...(members.some((m) => m.durationMs !== undefined) ? [`${formatDuration(total)} of compiler time`] : [])],
    title: [`${members.length} compiles in ${folder}`, ...g.members.slice(0, 40), ...(g.members.length > 40 ? [`... (+${g.members.length - 40})`] : [])].join('\n'),
    members: g.members,
    durationMs: total,
    critical: g.members.some((id) => critical.has(id)),
  };
}

/** `modified drivers_config.h`, or `12 modified` when a folder's edges name many files. */
function edgeLabel(changes: ReadonlyMap<string, ReadonlySet<string>>, fromLeaf: boolean): string {
  const parts = [...changes].map(([change, subjects]) => (subjects.size > 1 ? `${subjects.size} ${change}` : fromLeaf ? change : `${change} ${basename([...subjects][0]!)}`));
  return parts.length > 2 ? `${parts.slice(0, 2).join(', ')}, ...` : parts.join(', ');
}
