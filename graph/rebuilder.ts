import type { Action, FileHash, OutputRecord } from './action.js';
import { hashValue } from './hash.js';
import { keyedCommands, keyedInputs } from './toolKey.js';
import type { FileHasher, OutputStore, TraceEntry, TraceStore } from './traces.js';

/**
 * The rebuilder decides whether an action must run, using verifying traces with early cutoff:
 * an action's key covers its command, environment and the content of every input, so when an
 * upstream action reran but wrote the same bytes, this key is unchanged and nothing runs.
 */

/** The persistent state deciding reads, behind traces.ts's interfaces: the builder and the plans take it. */
export interface BuildServices {
  readonly files: FileHasher;
  readonly traces: TraceStore;
  readonly store: OutputStore;
}

/** Bump when the way keys are computed changes, so old traces are never trusted. */
const KEY_VERSION = 'osvd-key-1';

export function inputHashes(action: Action, files: FileHasher): FileHash[] {
  return sortedInputs(action).map((p) => [p, files.hash(p) ?? 'missing'] as const);
}

/**
 * An action's inputs sorted, without repeats: worked out once per action (its inputs are read-only),
 * not at each of the three or four times a build hashes them (the kernel link has one per object).
 */
const sortedInputsOf = new WeakMap<Action, readonly string[]>();

export function sortedInputs(action: Action): readonly string[] {
  const inputs = action.inputs;
  // Most actions read one file or a few, already in order: no copy is kept for them.
  if (inputs.every((p, i) => i === 0 || inputs[i - 1]! < p)) return inputs;
  let sorted = sortedInputsOf.get(action);
  if (sorted === undefined) sortedInputsOf.set(action, (sorted = [...new Set(inputs)].sort()));
  return sorted;
}

/**
 * The part of an action's key known before it runs: command, folder, environment, declared inputs, and
 * the contents of the program it runs (see toolKey.ts).
 */
export function preKeyOf(action: Action, inputs: readonly FileHash[]): string {
  // A build works out each decided action's pre-key three times (its live plan, the builder, the plan
  // again after it): the last one is kept with the inputs it was for (their strings are shared with
  // the file-hash memo, so keeping them costs the list, not the text).
  const known = preKeys.get(action);
  if (known !== undefined && sameInputs(known.inputs, inputs)) return known.preKey;
  const preKey = computePreKey(action, inputs);
  // The most recent ones only: a plan of 50,000 actions would otherwise keep a list per action.
  if (known === undefined && preKeys.size >= PRE_KEYS_KEPT) preKeys.delete(preKeys.keys().next().value!);
  preKeys.set(action, { inputs, preKey });
  return preKey;
}

const PRE_KEYS_KEPT = 4096;
const preKeys = new Map<Action, { readonly inputs: readonly FileHash[]; readonly preKey: string }>();

function sameInputs(a: readonly FileHash[], b: readonly FileHash[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]![0] !== b[i]![0] || a[i]![1] !== b[i]![1]) return false;
  return true;
}

function computePreKey(action: Action, inputs: readonly FileHash[]): string {
  const key: unknown[] = action.tool ? toolKeyed(action, inputs) : [KEY_VERSION, action.commands, action.cwd, action.keyEnv, inputs.map((i) => [...i])];
  // An action whose outputs are learned keys on that too: a trace recorded before osvd learned them
  // (outputs named only) would restore too little, so such an action runs once more and learns.
  if (action.outputsOpen) key.push(OPEN_OUTPUTS);
  return hashValue(key);
}

/** A key's parts for an action whose program is known: its files' contents, not its name (toolKey.ts). */
function toolKeyed(action: Action, inputs: readonly FileHash[]): unknown[] {
  const { files, tool } = keyedInputs(action, inputs);
  return [KEY_VERSION, keyedCommands(action), action.cwd, action.keyEnv, files, tool];
}

const OPEN_OUTPUTS = 'open-outputs-1';

/** The full key: the pre-key plus the discovered dependencies with their hashes. */
export function actionKey(preKey: string, deps: readonly FileHash[]): string {
  return hashValue([preKey, deps.map((d) => [...d])]);
}

export type Decision =
  | { readonly state: 'upToDate'; readonly preKey: string; readonly entry: TraceEntry }
  | { readonly state: 'restore'; readonly preKey: string; readonly entry: TraceEntry; readonly stale: readonly OutputRecord[] }
  | { readonly state: 'run'; readonly preKey: string };

/**
 * The action's last run is a verifying trace too, and the one that matches nearly always: checking it
 * first, from memory, spares a trace-store query and its decoding for each action of a no-op build.
 */
function lastRunMatch(id: string, preKey: string, files: FileHasher, traces: TraceStore): TraceEntry | undefined {
  const last = traces.lastRun(id);
  if (!last || last.preKey !== preKey) return undefined;
  for (const [p, h] of last.deps) if ((files.hash(p) ?? 'missing') !== h) return undefined;
  return { key: last.key, deps: last.deps, outputs: last.outputs, run: last };
}

/** Up to date, restorable from the store, or must run. */
export function decide(action: Action, files: FileHasher, traces: TraceStore, store: OutputStore): Decision {
  const inputs = inputHashes(action, files);
  const preKey = preKeyOf(action, inputs);
  const entry = lastRunMatch(action.id, preKey, files, traces) ?? traces.findMatch(preKey, (p) => files.hash(p), inputs);
  if (!entry) return { state: 'run', preKey };
  const stale = entry.outputs.filter((o) => files.hash(o.path) !== o.hash);
  if (stale.length === 0) return { state: 'upToDate', preKey, entry };
  const restorable = stale.every((o) => o.hash === 'dir' || o.hash.startsWith('link:') || store.has(o.hash));
  return restorable ? { state: 'restore', preKey, entry, stale } : { state: 'run', preKey };
}
