import type { BuildTimeline, TimelineEntry } from '../graph/timeline.js';
import type { BuildGraph } from '../graph/graph.js';
import { buildPicture, type ShownAction } from './picture.js';
import { GRAPH_CSS, toSvg } from './svgGraph.js';
import { TIMELINE_CSS, timelineSvg } from './timeline.js';
import { escapeXml, formatDuration } from './text.js';

/**
 * The build report: one HTML page with everything inline (styles, script, pictures), so it opens from
 * a file, offline, and can be mailed or attached to a bug. It shows the last build: the timeline per
 * job slot with the critical path, the graph of what ran and why, each action's warnings, the restores.
 */

/** The build's totals as the history keeps them. */
export interface BuildFacts {
  readonly startedAt: number;
  readonly durationMs: number;
  readonly ok: boolean;
  readonly ran: number;
  readonly restored: number;
  readonly upToDate: number;
  readonly failed: number;
  readonly knobs: Readonly<Record<string, string>>;
}

export interface ReportInput {
  readonly summary: BuildFacts;
  /** Absent when the build decided nothing itself (the daemon knew everything was up to date). */
  readonly timeline: BuildTimeline | undefined;
  /** The graph of the build's knobs, for the edges of "what ran and why". */
  readonly graph: BuildGraph;
  /** What each action printed when it last ran, by action id (warnings); undefined when not recorded. */
  readonly outputs: ReadonlyMap<string, string> | undefined;
  /** The tree, for the title. */
  readonly root: string;
  readonly maxNodes: number;
}

export function reportHtml(input: ReportInput): string {
  const { summary, timeline } = input;
  const actions = timeline?.actions ?? [];
  const critical = new Set(timeline?.criticalPath ?? []);
  const sections: string[] = [header(input)];
  if (!timeline || actions.length === 0) {
    sections.push(`<section id="nothing"><p>Nothing ran and nothing was restored: ${summary.upToDate} actions were up to date.</p></section>`);
  } else {
    sections.push(timelineSection(timeline, summary.durationMs));
    sections.push(graphSection(input, timeline));
    if (input.outputs) sections.push(warningsSection(actions, input.outputs));
    sections.push(restoresSection(actions));
    sections.push(actionsSection(actions, critical));
  }
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<meta name="viewport" content="width=device-width, initial-scale=1"><title>osvd build report: ${escapeXml(input.root)}</title>`,
    `<style>${PAGE_CSS}${TIMELINE_CSS}${GRAPH_CSS}</style></head><body>`,
    ...sections,
    `<script>${PAGE_SCRIPT}</script>`,
    '</body></html>',
  ].join('\n');
}

function header(input: ReportInput): string {
  const s = input.summary;
  const knobs = Object.entries(s.knobs)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `<code>${escapeXml(k)}=${escapeXml(v)}</code>`)
    .join(' ');
  const jobs = input.timeline ? ` · ${input.timeline.jobs} job slots` : '';
  return [
    `<header><h1>osvd build ${s.ok ? 'ok' : '<span class="bad">failed</span>'} in ${formatDuration(s.durationMs)}</h1>`,
    `<p class="counts"><span id="count-ran">${s.ran}</span> ran · <span id="count-restored">${s.restored}</span> restored · ${s.upToDate} up to date · <span id="count-failed">${s.failed}</span> failed${jobs}</p>`,
    `<p>${escapeXml(input.root)}, started ${escapeXml(new Date(s.startedAt).toLocaleString('en-GB'))}</p><p class="knobs">${knobs}</p></header>`,
  ].join('\n');
}

function timelineSection(timeline: BuildTimeline, durationMs: number): string {
  const byId = new Map(timeline.actions.map((a) => [a.id, a]));
  const chain = timeline.criticalPath.map((id) => byId.get(id)).filter((a): a is TimelineEntry => a !== undefined);
  const along = chain.reduce((sum, a) => sum + (a.endMs - a.startMs), 0);
  const path = chain.map((a) => `<li>${escapeXml(a.output)} <span class="dim">${formatDuration(a.endMs - a.startMs)}</span></li>`).join('');
  return [
    '<section id="timeline"><h2>Timeline</h2>',
    '<p class="dim">One lane per job slot; a bar from the start to the end of an action\'s commands (hover for its reason, click for its row). The critical path, the chain of dependent actions whose durations add up to the most (no number of job slots makes the build shorter), is outlined in red.</p>',
    `<div class="scroll">${timelineSvg(timeline, durationMs)}</div>`,
    `<h3>Critical path: ${chain.length} actions, ${formatDuration(along)} of work in a ${formatDuration(durationMs)} build</h3><ol id="critical-path">${path}</ol></section>`,
  ].join('\n');
}

function graphSection(input: ReportInput, timeline: BuildTimeline): string {
  const shown: ShownAction[] = timeline.actions
    .filter((a) => input.graph.actions.has(a.id))
    .map((a) => ({ id: a.id, state: a.state, durationMs: a.endMs - a.startMs, reasons: a.reasons ?? [] }));
  const missing = timeline.actions.length - shown.length;
  const picture = buildPicture(input.graph, shown, { maxNodes: input.maxNodes, criticalPath: timeline.criticalPath });
  const depth = picture.graph().groupedAtDepth;
  const notes: string[] = [];
  if (depth !== undefined) notes.push(`Compiles are grouped by folder (${depth === 0 ? 'all in one node' : `the first ${depth} level${depth > 1 ? 's' : ''} of their source's folder`}) to keep the picture under ${input.maxNodes} nodes.`);
  if (missing > 0) notes.push(`${missing} actions of this build are no longer in the tree's graph and are not drawn.`);
  return [
    '<section id="graph"><h2>What ran and why</h2>',
    '<p class="dim">Each action that ran (orange), failed (red) or was restored (blue), with what it waited for; edges and green nodes name the change that made it run (a changed source, a knob, an input rebuilt first).</p>',
    ...notes.map((n) => `<p class="note">${escapeXml(n)}</p>`),
    `<div class="scroll">${toSvg(picture, { idPrefix: 'report', standalone: false })}</div></section>`,
  ].join('\n');
}

function warningsSection(actions: readonly TimelineEntry[], outputs: ReadonlyMap<string, string>): string {
  const rows = actions.filter((a) => a.state !== 'restored' && (outputs.get(a.id) ?? '').trim() !== '');
  if (rows.length === 0) return '<section id="warnings"><h2>Warnings</h2><p>No action that ran printed anything.</p></section>';
  const items = rows.map((a) => {
    const text = outputs.get(a.id)!.trimEnd();
    const warnings = (text.match(/\bwarning:/g) ?? []).length;
    const count = warnings ? `${warnings} warning${warnings > 1 ? 's' : ''}` : `${text.split('\n').length} lines`;
    return `<details class="warning" data-id="${escapeXml(a.id)}"><summary>${escapeXml(a.output)} <span class="dim">(${count})</span></summary><pre>${escapeXml(text)}</pre></details>`;
  });
  return `<section id="warnings"><h2>Warnings: ${rows.length} action${rows.length > 1 ? 's' : ''} printed something</h2>\n${items.join('\n')}</section>`;
}

function restoresSection(actions: readonly TimelineEntry[]): string {
  const restored = actions.filter((a) => a.state === 'restored');
  if (restored.length === 0) return '<section id="restores"><h2>Restored from the store</h2><p>Nothing was restored.</p></section>';
  const rows = restored.map((a) => `<tr data-id="${escapeXml(a.id)}"><td>${escapeXml(a.output)}</td><td>${a.kind}</td><td>${formatDuration(a.startMs)}</td></tr>`);
  return `<section id="restores"><h2>Restored from the store: ${restored.length}</h2><p class="dim">Outputs of an earlier configuration, copied back instead of being built again.</p><table><thead><tr><th>output</th><th>kind</th><th>at</th></tr></thead><tbody>${rows.join('')}</tbody></table></section>`;
}

function actionsSection(actions: readonly TimelineEntry[], critical: ReadonlySet<string>): string {
  const rows = actions.map((a) => {
    const cls = critical.has(a.id) ? ' class="critical"' : '';
    const took = a.endMs - a.startMs;
    return `<tr${cls} data-id="${escapeXml(a.id)}"><td>${escapeXml(a.output)}</td><td>${a.kind}</td><td>${a.state}</td><td>${a.slot === undefined ? '' : a.slot + 1}</td><td data-sort="${a.startMs}">${formatDuration(a.startMs)}</td><td data-sort="${took}">${formatDuration(took)}</td><td>${escapeXml(a.reason ?? '')}</td></tr>`;
  });
  return [
    `<section id="actions"><h2>Every action: ${actions.length}</h2><input id="filter" type="search" placeholder="filter by output or reason">`,
    '<table class="sortable"><thead><tr><th>output</th><th>kind</th><th>state</th><th>slot</th><th>start</th><th>took</th><th>why</th></tr></thead>',
    `<tbody>${rows.join('\n')}</tbody></table></section>`,
  ].join('\n');
}

const PAGE_CSS = [
  'body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}',
  'h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.15em;margin-top:1.6em;border-bottom:1px solid #ddd}h3{font-size:1em}',
  '.bad{color:#c0392b}.dim{color:#666}.note{color:#7a5c00}',
  'code{background:#f2f2f2;padding:0 .3em;border-radius:3px;margin-right:.3em}',
  '.scroll{overflow:auto;border:1px solid #eee;max-height:80vh}',
  'table{border-collapse:collapse;font-size:12px}td,th{border-bottom:1px solid #eee;padding:2px 8px;text-align:left;vertical-align:top}',
  'th{cursor:pointer;background:#fafafa;position:sticky;top:0}tr.critical td:first-child{border-left:3px solid #c0392b}',
  'tr.selected{background:#e3f2fd}#filter{margin:.5em 0;width:30em;max-width:100%}',
  'pre{background:#fafafa;border:1px solid #eee;padding:.5em;overflow:auto;font-size:12px}',
  'details.warning summary{cursor:pointer}',
].join('');

/** Sorting the table, filtering it, and going from a bar to its row: no library, no network. */
const PAGE_SCRIPT = `
(function () {
  var rows = function () { return Array.prototype.slice.call(document.querySelectorAll('#actions tbody tr')); };
  document.querySelectorAll('table.sortable th').forEach(function (th, col) {
    var up = true;
    th.addEventListener('click', function () {
      var body = th.closest('table').querySelector('tbody');
      var key = function (tr) { var td = tr.children[col]; var s = td.getAttribute('data-sort'); return s === null ? td.textContent : Number(s); };
      var sorted = rows().sort(function (a, b) { var x = key(a), y = key(b); return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1); });
      up = !up;
      sorted.forEach(function (tr) { body.appendChild(tr); });
    });
  });
  var filter = document.getElementById('filter');
  if (filter) filter.addEventListener('input', function () {
    var q = filter.value.toLowerCase();
    rows().forEach(function (tr) { tr.style.display = tr.textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none'; });
  });
  document.querySelectorAll('.timeline .bar').forEach(function (bar) {
    bar.addEventListener('click', function () {
      document.querySelectorAll('.selected').forEach(function (e) { e.classList.remove('selected'); });
      bar.classList.add('selected');
      var id = bar.getAttribute('data-id');
      var row = rows().filter(function (tr) { return tr.getAttribute('data-id') === id; })[0];
      if (row) { row.classList.add('selected'); row.scrollIntoView({ block: 'center' }); }
    });
  });
})();
`;
