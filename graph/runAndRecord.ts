import fs from 'node:fs';
import path from 'node:path';
import { stripAnsi } from '../base/ansi.js';
import type { Action, BuildContext, FileHash, OutputRecord } from './action.js';
import { DepfileError, parseDepfile } from './depfile.js';
import { failureHint, failureMessage } from './failure.js';
import type { ShellPool } from './executor.js';
import type { LaunchedRun } from './launcher.js';
import type { BuildGraph } from './graph.js';
import type { SharedCache } from './sharedCache.js';
import { treePath } from './paths.js';
import { inputHashes, type BuildServices } from './rebuilder.js';
import { racedPaths, runRecordOf, type FileHasher, type RaceCheck, type RunRecord } from './traces.js';

/**
 * One action's run, from its commands to its verifying trace: ninja's Builder::FinishCommand and
 * ExtractDeps. A run whose inputs changed while it ran is not recorded; a failed one leaves no output.
 */

/** What a run needs besides the action: where it runs and where it is recorded. */
export interface RunSetting extends BuildServices {
  readonly graph: BuildGraph;
  readonly shells: ShellPool;
  readonly root: string;
  readonly context: BuildContext;
  /**
   * The commands to run for an action, when they differ from its own (a flag for the terminal's
   * colours): its key and its record keep its own commands.
   */
  readonly commandsFor?: (action: Action) => readonly string[];
  /** The build's (BuildOptions.signal): once aborted, no command of it may start. */
  readonly signal?: AbortSignal;
  readonly shared?: SharedCache;
}

/** `printed`: what the commands printed (stdout and stderr as they came), escapes and all. */
export type RunOutcome =
  | {
      readonly state: 'failed';
      readonly durationMs: number;
      readonly command?: string;
      readonly exitCode: number | null;
      /** The failed command and its output without terminal escapes (failure.ts); `hint`, its last line when it has one. */
      readonly message: string;
      readonly printed: string;
      readonly hint?: string;
    }
  /** `racedBecause`: when inputs changed while it ran (the run is then not recorded), the first ten of them. */
  | { readonly state: 'ran'; readonly durationMs: number; readonly printed: string; readonly racedBecause?: string[] };

/** What else a run's record says, once its commands ended and it was found not raced (preprocessCutoff.ts). */
export type RunAnnotation = (run: { readonly deps: readonly FileHash[]; readonly startedAt: number; readonly durationMs: number }) => Promise<Partial<Pick<RunRecord, 'preprocessed'>>>;

/** Extras of a run: `look` learns open outputs, `annotate` adds to its record, `launched` runs it elsewhere (see runAndRecord). */
export interface RunExtras {
  readonly look?: () => string[];
  readonly annotate?: RunAnnotation;
  readonly launched?: LaunchedRun;
}

/**
 * Run an action whose key (`preKey`, from the rebuilder) had no recorded result, and record it.
 * `release` is called as soon as its commands end, before the run is hashed and recorded, with whether
 * they succeeded. `look`, for an action with open outputs, says right after its commands end which files it wrote without naming
 * them: they are recorded as its outputs with those it named and those it was seen writing before (a
 * generator that rewrites a file only when it changes still owns the files it left alone). `launched`:
 * the commands to run instead of the action's (a launcher's), recorded as the action's own. `annotate`
 * says what else its record holds, once it was found not raced.
 */
export async function runAndRecord(action: Action, preKey: string, s: RunSetting, release: (ok: boolean) => void, extras: RunExtras = {}): Promise<RunOutcome> {
  const { look, annotate, launched } = extras;
  const { files } = s;
  const before = inputHashes(action, files);
  const startedAt = Date.now();
  let exec;
  let learned: string[] = [];
  try {
    exec = await s.shells.run(action, s.root, launched ?? (s.commandsFor ? { commands: s.commandsFor(action), env: action.env } : undefined));
  } catch (err) {
    // Its shell was killed (a build stopped): what the commands had written is cut short.
    removeOutputs(s.root, action);
    if (look) learned = look();
    release(false);
    throw err;
  }
  if (look) learned = look();
  release(exec.ok);
  const outputPaths = learned.length || s.graph.learnedOutputsOf(action.id).length ? [...new Set([...action.outputs, ...s.graph.learnedOutputsOf(action.id), ...learned])] : action.outputs;
  for (const o of outputPaths) files.invalidate(o);
  if (!exec.ok) {
    removeOutputs(s.root, action);
    const plain = { exitCode: exec.exitCode, output: stripAnsi(exec.output), failedCommand: exec.failedCommand };
    const message = failureMessage(action, plain);
    const hint = failureHint(action, plain);
    s.traces.recordFailure(action.id, message);
    return { state: 'failed', durationMs: exec.durationMs, command: exec.failedCommand, exitCode: exec.exitCode, message, printed: exec.output, hint };
  }

  // An input that changed while the action ran makes this run untrustworthy: do not record it.
  // Inputs made by other actions are not looked at again: their producers finished before this
  // action started and do not run again in this build (the kernel link reads 50,000 objects).
  const changed: string[] = [];
  for (let i = 0; i < before.length; i++) {
    const p = before[i]![0];
    if (s.graph.producerOf(p)) continue;
    if ((files.hashNow(p) ?? 'missing') !== before[i]![1]) changed.push(p);
  }
  let raced = changed.length > 0;
  let deps: FileHash[] = [];
  if (action.depfile !== undefined) {
    try {
      deps = readDeps(s.root, action, files);
    } catch (err) {
      if (!(err instanceof DepfileError)) throw err;
      raced = true;
    }
  }
  // The headers the depfile names are checked when the record is written (see TraceStore.recordRun),
  // each once for the runs written together; a run shared with other trees, before it is shared.
  let check: RaceCheck | undefined;
  if (deps.length) {
    const paths: string[] = [];
    const made: string[] = [];
    for (const [p] of deps) (s.graph.producerOf(p) ? made : paths).push(p);
    check = { startedAt, paths, made, changedMs: (p) => files.changedMs(p) };
  }
  if (check && s.shared) {
    const late = racedPaths(check);
    if (late.length > 0) {
      raced = true;
      changed.push(...late);
    }
  }
  if (raced) return { state: 'ran', durationMs: exec.durationMs, printed: exec.output, racedBecause: changed.slice(0, 10) };
  const outputs: OutputRecord[] = [];
  for (const o of outputPaths) {
    const record = files.describe(o);
    if (record) outputs.push(record);
  }
  for (const o of outputs) if (o.hash !== 'dir' && !o.hash.startsWith('link:')) s.store.save(o);
  const more = annotate ? await annotate({ deps, startedAt, durationMs: exec.durationMs }) : {};
  const run = runRecordOf(action, preKey, {
    inputs: before,
    deps,
    outputs,
    context: s.context,
    durationMs: Math.round(exec.durationMs),
    ...(exec.output ? { printed: keptOutput(stripAnsi(exec.output)) } : {}),
    ...more,
  });
  s.traces.recordRun(run, s.shared ? undefined : check);
  s.shared?.share(action, run);
  return { state: 'ran', durationMs: exec.durationMs, printed: exec.output };
}

/** A run's record keeps this much of what it printed (a record is read back for every action). */
const PRINTED_KEPT = 16 * 1024;

function keptOutput(text: string): string {
  return text.length <= PRINTED_KEPT ? text : `${text.slice(0, PRINTED_KEPT)}\n[output cut]\n`;
}

/** The headers the action's depfile names and its traced inputs, with their hashes now. */
function readDeps(root: string, action: Action, files: FileHasher): FileHash[] {
  const depfile = action.depfile!;
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(root, depfile), 'utf8');
  } catch (err) {
    throw new DepfileError(depfile, `the action did not write its depfile (${(err as Error).message})`);
  }
  const names = parseDepfile(text, depfile).map((p) => treePath(root, action.cwd, p));
  return [...new Set([...names, ...(action.tracedInputs ?? [])])].sort().map((p) => [p, files.hash(p) ?? 'missing'] as const);
}

/** Like make's .DELETE_ON_ERROR: a failed action leaves no output that could look up to date. */
function removeOutputs(root: string, action: Action): void {
  for (const o of action.outputs) {
    const abs = path.resolve(root, o);
    try {
      const st = fs.lstatSync(abs);
      if (!st.isDirectory()) fs.rmSync(abs, { force: true });
    } catch {
      // already gone
    }
  }
}
