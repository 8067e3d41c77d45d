import type { BuildTimeline, TimelineEntry } from '../graph/timeline.js';
import { CRITICAL } from './style.js';
import { basename, CHAR_PX, escapeXml, formatDuration } from './text.js';

/**
 * The build's timeline as SVG: one lane per job slot, a bar per action from the start to the end of
 * its commands, a lane for the store's restores, and the critical path's bars outlined and joined.
 */

const LANE_PX = 22;
const BAR_PX = 16;
const LEFT_PX = 92;
const AXIS_PX = 22;
/** The plot is at least this wide, and wider when there are many actions, up to the maximum. */
const MIN_PLOT_PX = 1000;
const MAX_PLOT_PX = 12_000;
const PX_PER_ACTION = 6;

export const TIMELINE_CSS = [
  '.timeline .lane{fill:#f6f6f6}',
  '.timeline .lane-label{fill:#333;font-size:11px}',
  '.timeline .bar{stroke:#666;stroke-width:.5}',
  '.timeline .bar.kind-compile{fill:#f5c26b}',
  '.timeline .bar.kind-link{fill:#e08e45}',
  '.timeline .bar.kind-generate{fill:#9ccc65}',
  '.timeline .bar.kind-other{fill:#b0bec5}',
  '.timeline .bar.state-failed{fill:#e57373}',
  '.timeline .bar.state-restored{fill:#64b5f6}',
  `.timeline .bar.critical{stroke:${CRITICAL};stroke-width:2}`,
  `.timeline .critical-link{stroke:${CRITICAL};stroke-width:1.5;fill:none;stroke-dasharray:3 2}`,
  '.timeline .bar-label{font-size:10px;fill:#222;pointer-events:none}',
  '.timeline .tick{stroke:#ccc}',
  '.timeline .tick-label{font-size:10px;fill:#555}',
  '.timeline .bar.selected{stroke:#1565c0;stroke-width:3}',
].join('');

export function timelineSvg(timeline: BuildTimeline, durationMs: number): string {
  const slotted = timeline.actions.filter((a) => a.slot !== undefined);
  const restored = timeline.actions.filter((a) => a.slot === undefined);
  const slots = Math.max(timeline.jobs, ...slotted.map((a) => a.slot! + 1));
  const lanes = slots + (restored.length ? 1 : 0);
  const end = Math.max(durationMs, ...timeline.actions.map((a) => a.endMs), 1);
  const plot = Math.min(MAX_PLOT_PX, Math.max(MIN_PLOT_PX, Math.ceil((slotted.length / Math.max(1, slots)) * PX_PER_ACTION)));
  const x = (ms: number): number => LEFT_PX + (ms / end) * plot;
  const width = LEFT_PX + plot + 16;
  const height = AXIS_PX + lanes * LANE_PX + 4;
  const critical = new Set(timeline.criticalPath);

  const out: string[] = [`<svg xmlns="http://www.w3.org/2000/svg" class="timeline" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace">`];
  for (let lane = 0; lane < lanes; lane++) {
    const y = AXIS_PX + lane * LANE_PX;
    const name = lane < slots ? `slot ${lane + 1}` : 'restored';
    out.push(`<rect class="lane" x="${LEFT_PX}" y="${y}" width="${plot}" height="${LANE_PX - 2}"/><text class="lane-label" x="4" y="${y + 14}">${name}</text>`);
  }
  const step = tickStep(end, Math.max(5, Math.round(plot / 120)));
  for (let t = 0; t <= end; t += step) {
    out.push(`<line class="tick" x1="${f(x(t))}" y1="${AXIS_PX - 4}" x2="${f(x(t))}" y2="${height}"/><text class="tick-label" x="${f(x(t))}" y="12" text-anchor="middle">${tickLabel(t, step)}</text>`);
  }
  const laneOf = (a: TimelineEntry): number => a.slot ?? slots;
  const barBox = (a: TimelineEntry): { x: number; y: number; w: number } => ({
    x: x(a.startMs),
    y: AXIS_PX + laneOf(a) * LANE_PX + (LANE_PX - 2 - BAR_PX) / 2,
    w: Math.max(1.5, x(a.endMs) - x(a.startMs)),
  });
  // The critical path's links first, under the bars: each bar's end to the next one's start.
  const chain = timeline.criticalPath.map((id) => timeline.actions.find((a) => a.id === id)).filter((a): a is TimelineEntry => a !== undefined);
  for (let i = 0; i + 1 < chain.length; i++) {
    const a = barBox(chain[i]!);
    const b = barBox(chain[i + 1]!);
    out.push(`<path class="critical-link" d="M${f(a.x + a.w)},${f(a.y + BAR_PX / 2)}L${f(b.x)},${f(b.y + BAR_PX / 2)}"/>`);
  }
  for (const a of timeline.actions) {
    const box = barBox(a);
    const classes = ['bar', `kind-${a.kind}`, `state-${a.state}`, ...(critical.has(a.id) ? ['critical'] : [])];
    const took = formatDuration(a.endMs - a.startMs);
    const where = a.slot === undefined ? 'restored from the store' : `slot ${a.slot + 1}`;
    const title = [a.output, `${a.kind}, ${a.state}, ${took}, ${where}, at ${formatDuration(a.startMs)}`, ...(a.reason ? [a.reason] : []), ...(critical.has(a.id) ? ['on the critical path'] : [])].join('\n');
    out.push(
      `<rect class="${classes.join(' ')}" data-id="${escapeXml(a.id)}" data-output="${escapeXml(a.output)}" data-slot="${a.slot ?? ''}" x="${f(box.x)}" y="${f(box.y)}" width="${f(box.w)}" height="${BAR_PX}"><title>${escapeXml(title)}</title></rect>`,
    );
    const label = basename(a.output);
    if (box.w > (label.length + 1) * CHAR_PX) out.push(`<text class="bar-label" x="${f(box.x + 3)}" y="${f(box.y + 12)}">${escapeXml(label)}</text>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

/** A round step (1, 2 or 5 times a power of ten, in ms) giving about `count` ticks. */
function tickStep(end: number, count: number): number {
  const raw = end / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
}

/** Seconds, with as many decimals as the step needs: 0 s, 0.5 s, 1 s or 0.02 s. */
function tickLabel(ms: number, step: number): string {
  const decimals = Math.max(0, -Math.floor(Math.log10(step / 1000)));
  return `${(ms / 1000).toFixed(decimals)} s`;
}

function f(n: number): string {
  return String(Math.round(n * 10) / 10);
}
