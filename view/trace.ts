import type { BuildTimeline } from '../graph/timeline.js';
import type { BuildFacts } from './report.js';

/**
 * A build as a trace in Chrome's trace-event format (the JSON object form), which Perfetto and
 * chrome://tracing open: one track ("thread") per job slot, one complete event ("X") per action that
 * ran, in microseconds; restores on a track of their own. Events on one track never overlap (a slot
 * runs one action at a time), which Perfetto requires of X events.
 */

export interface TraceEvent {
  readonly name: string;
  readonly ph: 'X' | 'M';
  readonly pid: number;
  readonly tid: number;
  readonly ts?: number;
  readonly dur?: number;
  readonly cat?: string;
  readonly args?: Record<string, unknown>;
}

export interface TraceFile {
  readonly traceEvents: TraceEvent[];
  readonly displayTimeUnit: 'ms';
  readonly otherData: Record<string, string>;
}

const PID = 1;

/** Track of a job slot (0-based): tid 1, 2, ...; the store's restores come after the slots. */
export function slotTid(slot: number): number {
  return slot + 1;
}

export function toTrace(summary: Pick<BuildFacts, 'startedAt' | 'knobs'>, timeline: BuildTimeline): TraceFile {
  const critical = new Set(timeline.criticalPath);
  const slots = Math.max(timeline.jobs, ...timeline.actions.map((a) => (a.slot ?? -1) + 1));
  const storeTid = slotTid(slots);
  const events: TraceEvent[] = [{ name: 'process_name', ph: 'M', pid: PID, tid: 0, args: { name: `osvd build, ${new Date(summary.startedAt).toISOString()}` } }];
  for (let slot = 0; slot < slots; slot++) {
    events.push({ name: 'thread_name', ph: 'M', pid: PID, tid: slotTid(slot), args: { name: `job slot ${slot + 1}` } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: slotTid(slot), args: { sort_index: slot } });
  }
  if (timeline.actions.some((a) => a.state === 'restored')) {
    events.push({ name: 'thread_name', ph: 'M', pid: PID, tid: storeTid, args: { name: 'restored from the store' } });
    events.push({ name: 'thread_sort_index', ph: 'M', pid: PID, tid: storeTid, args: { sort_index: slots } });
  }
  for (const a of timeline.actions) {
    // Whole microseconds from rounded ends, so that back-to-back actions on a track cannot overlap.
    const ts = Math.round(a.startMs * 1000);
    const dur = Math.max(0, Math.round(a.endMs * 1000) - ts);
    const cats = [a.kind, a.state, ...(critical.has(a.id) ? ['critical'] : [])];
    const args: Record<string, unknown> = { output: a.output, state: a.state };
    if (a.id !== a.output) args.id = a.id;
    if (a.reason) args.reason = a.reason;
    if (critical.has(a.id)) args.critical = true;
    events.push({ name: a.output, cat: cats.join(','), ph: 'X', pid: PID, tid: a.slot === undefined ? storeTid : slotTid(a.slot), ts, dur, args });
  }
  const knobs = Object.entries(summary.knobs)
    .filter(([, v]) => v !== '')
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
  return { traceEvents: events, displayTimeUnit: 'ms', otherData: { tool: 'osvd', knobs, startedAt: new Date(summary.startedAt).toISOString() } };
}
