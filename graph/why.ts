import type { Action, BuildContext, FileHash } from './action.js';
import { sortedInputs } from './rebuilder.js';
import type { FileHasher, RunRecord } from './traces.js';

/**
 * Why an action is dirty: the reasons its key differs from its last successful run, for `ran[].reason`
 * and `osvd why`. Deciding (rebuilder.ts) does not need them; they are worked out only for what runs
 * or is asked about.
 */

export interface ContextChange {
  readonly name: string;
  readonly from: string | undefined;
  readonly to: string | undefined;
}

export type DirtyReason =
  | { readonly type: 'new' }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'command'; readonly added: readonly string[]; readonly removed: readonly string[]; readonly context: readonly ContextChange[] }
  | { readonly type: 'env'; readonly vars: readonly ContextChange[]; readonly context: readonly ContextChange[] }
  | { readonly type: 'input'; readonly path: string; readonly change: 'modified' | 'added' | 'removed' | 'appeared' | 'missing'; readonly producer?: string }
  | { readonly type: 'pendingInput'; readonly path: string; readonly producer: string }
  | { readonly type: 'output'; readonly path: string; readonly problem: 'missing' | 'modified' }
  | { readonly type: 'storeMiss' };

export function contextChanges(before: BuildContext, now: BuildContext): ContextChange[] {
  const names = new Set([...Object.keys(before), ...Object.keys(now)]);
  return [...names]
    .sort()
    .filter((n) => before[n] !== now[n])
    .map((name) => ({ name, from: before[name], to: now[name] }));
}

function tokens(commands: readonly string[]): string[] {
  return commands.join(' ').split(/\s+/).filter(Boolean);
}

function sameCommands(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}

function multisetDiff(a: string[], b: string[]): string[] {
  const counts = new Map<string, number>();
  for (const t of b) counts.set(t, (counts.get(t) ?? 0) + 1);
  const out: string[] = [];
  for (const t of a) {
    const n = counts.get(t) ?? 0;
    if (n > 0) counts.set(t, n - 1);
    else out.push(t);
  }
  return out;
}

export interface ExplainInput {
  readonly action: Action;
  readonly files: FileHasher;
  readonly lastRun: RunRecord | undefined;
  readonly lastFailure: string | undefined;
  readonly context: BuildContext;
  /** Producers of inputs that are themselves dirty and will run first: their outputs are not known yet. */
  readonly pendingProducer: (path: string) => string | undefined;
  readonly producerOf: (path: string) => string | undefined;
}

/** Every reason an action's key differs from its last successful run (empty when it does not). */
export function explain(x: ExplainInput): DirtyReason[] {
  const { action, files, lastRun } = x;
  const reasons: DirtyReason[] = [];
  if (x.lastFailure !== undefined) reasons.push({ type: 'failed', message: x.lastFailure });
  if (!lastRun) {
    reasons.push({ type: 'new' });
    return reasons;
  }
  const ctx = contextChanges(lastRun.context, x.context);
  if (!sameCommands(action.commands, lastRun.commands)) {
    const nowTokens = tokens(action.commands);
    const thenTokens = tokens(lastRun.commands);
    reasons.push({ type: 'command', added: multisetDiff(nowTokens, thenTokens), removed: multisetDiff(thenTokens, nowTokens), context: ctx });
  }
  const envChanges = contextChanges(lastRun.keyEnv, action.keyEnv);
  if (envChanges.length > 0) reasons.push({ type: 'env', vars: envChanges, context: ctx });

  const check = (path: string, recorded: string | undefined): void => {
    const pending = x.pendingProducer(path);
    if (pending !== undefined) {
      reasons.push({ type: 'pendingInput', path, producer: pending });
      return;
    }
    const now = files.hash(path);
    const producer = x.producerOf(path);
    if (recorded === undefined) {
      reasons.push({ type: 'input', path, change: 'added', producer });
    } else if (now === null && recorded !== 'missing') {
      reasons.push({ type: 'input', path, change: 'missing', producer });
    } else if (now !== null && recorded === 'missing') {
      reasons.push({ type: 'input', path, change: 'appeared', producer });
    } else if (now !== null && now !== recorded) {
      reasons.push({ type: 'input', path, change: 'modified', producer });
    }
  };
  // The kernel link has 50,000 inputs: they are looked up in the last run's sorted list and in the
  // action's (made once per action), not put in a map and a set at each call (~20 MB of garbage a rebuild).
  const declared = sortedInputs(action);
  const recordedInput = lookupIn(lastRun.inputs);
  const isDeclared = (p: string): boolean => indexIn(declared, p, (q) => q) >= 0;
  const seen = declared.length === action.inputs.length ? undefined : new Set<string>();
  // Indexed loops: explain runs too seldom for V8 to optimize it, and a for-of then makes an object per
  // step (and a destructured pair two more).
  for (let i = 0; i < action.inputs.length; i++) {
    const input = action.inputs[i]!;
    if (seen?.has(input)) continue;
    seen?.add(input);
    check(input, recordedInput(input));
  }
  // A path is reported once: as a declared input, else as removed from them, else among the traced inputs and the deps.
  const later = new Set<string>();
  for (let i = 0; i < lastRun.inputs.length; i++) {
    const p = lastRun.inputs[i]![0];
    if (isDeclared(p) || later.has(p)) continue;
    later.add(p);
    reasons.push({ type: 'input', path: p, change: 'removed' });
  }
  const checkLater = (p: string, recorded: string | undefined): void => {
    if (isDeclared(p) || later.has(p)) return;
    later.add(p);
    check(p, recorded);
  };
  // A traced input the last run had as a declared input is reported as removed from those above.
  if (action.tracedInputs?.length) {
    const recordedDep = lookupIn(lastRun.deps);
    for (const p of action.tracedInputs) if (recordedDep(p) !== undefined || recordedInput(p) === undefined) checkLater(p, recordedDep(p));
  }
  for (let i = 0; i < lastRun.deps.length; i++) checkLater(lastRun.deps[i]![0], lastRun.deps[i]![1]);

  if (reasons.length === 0) {
    for (const o of lastRun.outputs) {
      const now = files.hash(o.path);
      if (now === null) reasons.push({ type: 'output', path: o.path, problem: 'missing' });
      else if (now !== o.hash) reasons.push({ type: 'output', path: o.path, problem: 'modified' });
    }
  }
  return reasons;
}

/** What differed between two runs of one action: why the later one ran. */
export function runChanges(before: RunRecord, after: RunRecord): DirtyReason[] {
  const reasons: DirtyReason[] = [];
  const ctx = contextChanges(before.context, after.context);
  if (before.commands.join('\n') !== after.commands.join('\n')) {
    const a = tokens(after.commands);
    const b = tokens(before.commands);
    reasons.push({ type: 'command', added: multisetDiff(a, b), removed: multisetDiff(b, a), context: ctx });
  }
  const env = contextChanges(before.keyEnv, after.keyEnv);
  if (env.length > 0) reasons.push({ type: 'env', vars: env, context: ctx });
  const then = new Map([...before.inputs, ...before.deps]);
  const now = new Map([...after.inputs, ...after.deps]);
  for (const [p, h] of now) {
    const old = then.get(p);
    if (old === undefined) reasons.push({ type: 'input', path: p, change: 'added' });
    else if (old !== h) reasons.push({ type: 'input', path: p, change: old === 'missing' ? 'appeared' : h === 'missing' ? 'missing' : 'modified' });
  }
  for (const p of then.keys()) if (!now.has(p)) reasons.push({ type: 'input', path: p, change: 'removed' });
  return reasons;
}

function describeContext(ctx: readonly ContextChange[]): string {
  if (ctx.length === 0) return '';
  return ` (knob ${ctx.map((c) => `${c.name} ${c.from ?? '(unset)'} -> ${c.to ?? '(unset)'}`).join(', ')})`;
}

function shortList(items: readonly string[], max = 4): string {
  return items.length <= max ? items.join(' ') : `${items.slice(0, max).join(' ')} ... (+${items.length - max})`;
}

/** One line per reason, for `ran[].reason` and the terminal. */
export function describeReason(r: DirtyReason): string {
  switch (r.type) {
    case 'new':
      return 'never built';
    case 'failed':
      return 'failed last time';
    case 'command': {
      const parts: string[] = [];
      if (r.added.length) parts.push(`+${shortList(r.added)}`);
      if (r.removed.length) parts.push(`-${shortList(r.removed)}`);
      return `command changed${parts.length ? `: ${parts.join(' ')}` : ''}${describeContext(r.context)}`;
    }
    case 'env':
      return `environment changed: ${shortList(r.vars.map((v) => `${v.name}=${v.to ?? '(unset)'}`))}${describeContext(r.context)}`;
    case 'input':
      return `input ${r.change}: ${r.path}`;
    case 'pendingInput':
      return `input ${r.path} is rebuilt first by ${r.producer}`;
    case 'output':
      return `output ${r.problem}: ${r.path}`;
    case 'storeMiss':
      return 'output not in the store';
  }
}

/** A recorded list's hash of a path: by binary search when the list is sorted by path (as runs record it), else through a map. */
function lookupIn(list: readonly FileHash[]): (p: string) => string | undefined {
  if (list.every((e, i) => i === 0 || list[i - 1]![0] < e[0])) return (p) => list[indexIn(list, p, (e) => e[0])]?.[1];
  const byPath = new Map(list);
  return (p) => byPath.get(p);
}

/** Where `p` is in a list sorted by `pathOf` (-1: not there). */
function indexIn<T>(list: readonly T[], p: string, pathOf: (e: T) => string): number {
  let lo = 0;
  let hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const q = pathOf(list[mid]!);
    if (q === p) return mid;
    if (q < p) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
