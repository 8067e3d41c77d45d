import path from 'node:path';
import type { Action, FileHash, OutputRecord, PreprocessRecipe } from './action.js';
import type { LaunchedRun } from './launcher.js';
import { MIN_SAMPLES, PreprocessCosts } from './preprocessCosts.js';
import { inputHashes, preKeyOf } from './rebuilder.js';
import { runAndRecord, type RunAnnotation, type RunOutcome, type RunSetting } from './runAndRecord.js';
import { raceWindowStart, runRecordOf, type Preprocessed, type RunRecord } from './traces.js';

/** Preprocess, or (not worth it) what the compile's record says of preprocessing. */
type Worth = true | { readonly preprocessed?: Preprocessed };

/**
 * Early cutoff before a compile, in the manner of ccache's preprocessor mode: when the only inputs of a
 * compile that changed are headers its last depfile named, the translation unit is preprocessed with
 * the same command first; when the output hashes as it did when the outputs on disk (or in the store)
 * were built from it, those outputs are still right and the compile does not run. The same headers
 * are entered in the same order (line markers name them), so the last depfile still holds.
 *
 * The hash recorded with an object is that of a preprocessing that read exactly what the compile read:
 * run alongside the compile (or after it), and kept only when nothing read changed meanwhile.
 */

/** `auto`: only for compiles that cost clearly more than their preprocessing; `always`; `never`. */
export type PreprocessMode = 'auto' | 'always' | 'never';

/** Preprocessing is worth it for a compile that takes at least this many times as long. */
const WORTH_RATIO = 2;
/**
 * Before its preprocessing was ever timed: a compile shorter than this is not worth skipping; a longer
 * one is preprocessed when its compile took WORTH_RATIO times what preprocessing it is predicted to
 * cost (preprocessCosts.ts), or while too few preprocessings were timed to predict.
 */
const FIRST_LOOK_MS = 100;

export const CUTOFF_REASON = 'preprocessed input unchanged';

export type CutoffOutcome = { readonly state: 'cutoff'; readonly durationMs: number };

interface Preprocessing {
  readonly ms: number;
  /** When it started (Date.now()): a file modified since may not be what it read. */
  readonly startedAt: number;
  readonly hash?: string;
  /** No hash because the preprocessor said no (temporal macros, `.incbin`, an error). */
  readonly refused: boolean;
}

/** One build's use of preprocessing: its mode, and where the preprocessed outputs are written. */
export class PreprocessCutoff {
  private scratchFiles = 0;
  /** What preprocessing costs in this build, from the preprocessings it timed. */
  private readonly costs = new PreprocessCosts();
  /** Preprocessings decided on while nothing could be predicted (they time it for the others). */
  private explored = 0;
  /** Preprocessings running now (after a compile they run beside the next one: see runAndRecord's release). */
  private readonly running = new Set<Promise<Preprocessing>>();

  constructor(
    private readonly mode: PreprocessMode,
    private readonly scratchDir: string,
  ) {}

  /**
   * Run an action whose key had no recorded result, unless it is a compile whose preprocessed input is
   * unchanged. `look` and `launched` are runAndRecord's (open outputs, a launcher's commands); the
   * preprocessing itself runs here.
   */
  async run(action: Action, preKey: string, s: RunSetting, release: (ok: boolean) => void, look?: () => string[], launched?: LaunchedRun): Promise<RunOutcome | CutoffOutcome> {
    const recipe = action.preprocess;
    const runIt = (annotate?: RunAnnotation): Promise<RunOutcome> => runAndRecord(action, preKey, s, release, { look, annotate, launched });
    if (!recipe || this.mode === 'never') return runIt();
    const last = s.traces.lastRun(action.id);
    // The same pre-key: the same command, compiler and declared inputs; only discovered headers changed.
    const onlyHeaders = last !== undefined && last.preKey === preKey;
    const known = last?.preprocessed;
    const lastBytes = bytesOnce(last?.deps, s);
    if (onlyHeaders && known?.hash !== undefined && (await this.worth(last.durationMs, known, lastBytes)) === true) {
      const pp = await this.preprocess(action, recipe, s, lastBytes);
      if (s.signal?.aborted) {
        // Stopped while preprocessing (its shell was killed): the compile must not start.
        release(false);
        throw new Error('the build was stopped');
      }
      if (pp.hash === known.hash && this.keep(action, preKey, last, pp, s)) {
        release(true);
        return { state: 'cutoff', durationMs: pp.ms };
      }
      return runIt(async (run) => this.asRecorded(pp, run, action, s));
    }
    // Otherwise it compiles, and is preprocessed too when that is worth it: the hash is for next time.
    if (last === undefined && this.mode !== 'always') {
      // Never compiled: whether it is worth it is known from this compile's duration, after it.
      return runIt(async (run) => {
        const bytes = bytesOnce(run.deps, s);
        const worth = await this.worth(run.durationMs, undefined, bytes);
        return worth === true ? this.asRecorded(await this.preprocess(action, recipe, s, bytes), run, action, s) : worth;
      });
    }
    const worth = await this.worth(last?.durationMs, known, lastBytes);
    if (worth !== true) return runIt(async () => worth);
    const alongside = this.preprocess(action, recipe, s, lastBytes);
    return runIt(async (run) => this.asRecorded(await alongside, run, action, s));
  }

  /**
   * Whether a compile of this duration is worth preprocessing: against its preprocessing's time as its
   * last record has it (`known`: timed, or predicted), or else the time predicted for what it read
   * (`bytes`, its depfile's files; see FIRST_LOOK_MS). When it is not, its record keeps the time it was
   * decided on, so that later builds decide from it without timing again.
   */
  private async worth(compileMs: number | undefined, known: Preprocessed | undefined, bytesOf: BytesRead): Promise<Worth> {
    if (this.mode === 'always') return true;
    if (compileMs === undefined) return true;
    if (known !== undefined) return compileMs >= WORTH_RATIO * known.ms || { preprocessed: known.predicted ? { ms: known.ms, predicted: true } : { ms: known.ms } };
    if (compileMs < FIRST_LOOK_MS) return {};
    const bytes = bytesOf();
    if (bytes === undefined) return true;
    let predicted = this.costs.predict(bytes);
    if (predicted === undefined && this.explored >= MIN_SAMPLES) {
      // Enough are being timed: their times decide (this compile's slot is already free).
      await Promise.all([...this.running]);
      predicted = this.costs.predict(bytes);
    }
    if (predicted !== undefined) return compileMs >= WORTH_RATIO * predicted || { preprocessed: { ms: Math.round(predicted), predicted: true } };
    this.explored++;
    return true;
  }

  /**
   * Preprocess the TU to a scratch file and hash it, in the shell (the build's thread only reads the
   * hash). `bytes`, what it is expected to read (its depfile's files), times preprocessing for the next
   * predictions.
   */
  private preprocess(action: Action, recipe: PreprocessRecipe, s: RunSetting, bytes: BytesRead): Promise<Preprocessing> {
    const running = this.preprocessNow(action, recipe, s, bytes);
    this.running.add(running);
    void running.finally(() => this.running.delete(running));
    return running;
  }

  private async preprocessNow(action: Action, recipe: PreprocessRecipe, s: RunSetting, bytesOf: BytesRead): Promise<Preprocessing> {
    const file = quote(path.join(this.scratchDir, `osvd-pp-${process.pid}-${this.scratchFiles++}.i`));
    const refuse = recipe.refuseIf !== undefined ? ` && ! grep -qF -e ${quote(recipe.refuseIf)} ${file}` : '';
    const line = `${preprocessCommand(action, recipe)} >${file} 2>/dev/null${refuse} && sha256sum <${file}; s=$?; rm -f ${file}; exit $s`;
    const startedAt = Date.now();
    // A stopped build starts nothing, not even for the record of a compile that just finished.
    if (s.signal?.aborted) return { ms: 0, startedAt, refused: false };
    try {
      const exec = await s.shells.run({ ...action, commands: [line] }, s.root);
      const hash = exec.ok ? /^([0-9a-f]{64})\s/.exec(exec.output)?.[1] : undefined;
      const bytes = hash !== undefined ? bytesOf() : undefined;
      if (bytes !== undefined) this.costs.add(bytes, exec.durationMs);
      return { ms: exec.durationMs, startedAt, hash, refused: hash === undefined };
    } catch {
      // The shell itself failed (the compile will say so if it is more than that): nothing learnt.
      return { ms: 0, startedAt, refused: false };
    }
  }

  /**
   * What a compile's record says of preprocessing: the hash only when the preprocessing read what the
   * compile read (no file either read changed after the earlier of the two started).
   */
  private asRecorded(pp: Preprocessing, run: { readonly deps: readonly FileHash[]; readonly startedAt: number }, action: Action, s: RunSetting): { preprocessed?: Preprocessed } {
    const ms = Math.round(pp.ms);
    if (pp.hash === undefined) return pp.refused ? { preprocessed: { ms, refused: true } } : {};
    const since = Math.min(pp.startedAt, run.startedAt);
    const read = [...action.inputs, ...run.deps.map(([p]) => p)];
    return { preprocessed: read.some((p) => modifiedSince(p, since, s)) ? { ms } : { ms, hash: pp.hash } };
  }

  /**
   * The preprocessed output is the last run's: if nothing read changed while it was made and the
   * outputs are on disk or in the store, record them for the headers as they are now (a new trace).
   */
  private keep(action: Action, preKey: string, last: RunRecord, pp: Preprocessing, s: RunSetting): boolean {
    const { files, traces } = s;
    const paths = [...action.inputs, ...last.deps.map(([p]) => p)];
    for (const p of paths) {
      files.invalidate(p);
      if (modifiedSince(p, pp.startedAt, s)) return false;
    }
    const inputs = inputHashes(action, files);
    if (preKeyOf(action, inputs) !== preKey) return false;
    if (!restoreStale(last.outputs, s)) return false;
    const deps: FileHash[] = last.deps.map(([p]) => [p, files.hash(p) ?? 'missing'] as const);
    const run = runRecordOf(action, preKey, {
      inputs,
      deps,
      outputs: last.outputs,
      context: s.context,
      // The compile's duration, not this check's: scheduling and the worth test want the compile's.
      durationMs: last.durationMs,
      preprocessed: { ms: Math.round(pp.ms), hash: pp.hash },
      cutoff: true,
    });
    traces.recordRun(run);
    // The same outputs are right for these headers on any machine with this key: others may take them.
    s.shared?.share(action, run);
    return true;
  }
}

/** The recipe's command line: the compile's, without the omitted ranges, with `append` added. */
export function preprocessCommand(action: Action, recipe: PreprocessRecipe): string {
  const command = action.commands[recipe.command]!;
  let out = '';
  let at = 0;
  for (let i = 0; i + 1 < recipe.omit.length; i += 2) {
    out += command.slice(at, recipe.omit[i]);
    at = recipe.omit[i + 1]!;
  }
  return `${(out + command.slice(at)).trimEnd()} ${recipe.append}`;
}

/**
 * Whether a file read may have changed since `since` (a folder's time says nothing of what is read;
 * a source's time may lag, a made file's maker finished before: see CLOCK_SLACK_MS).
 */
function modifiedSince(p: string, since: number, s: RunSetting): boolean {
  if (s.files.hash(p) === 'dir') return false;
  return (s.files.changedMs(p) ?? 0) >= raceWindowStart(since, s.graph.producerOf(p) !== undefined);
}

/** Outputs not on disk as recorded, put back from the store; false when one cannot be. */
function restoreStale(outputs: readonly OutputRecord[], s: RunSetting): boolean {
  for (const o of outputs) {
    if (s.files.hash(o.path) === o.hash) continue;
    if (o.hash === 'dir' || o.hash.startsWith('link:') || !s.store.restore(o)) return false;
    s.files.invalidate(o.path);
  }
  return true;
}

/** Bytes of the files a compile read (its depfile names the source and every header); undefined without a depfile. */
type BytesRead = () => number | undefined;

/** BytesRead summed at most once, however often the decision and the preprocessing ask. */
function bytesOnce(deps: readonly FileHash[] | undefined, s: RunSetting): BytesRead {
  let bytes: number | undefined;
  return () => {
    if (bytes !== undefined || !deps || deps.length === 0) return bytes;
    bytes = 0;
    for (let i = 0; i < deps.length; i++) bytes += s.files.describe(deps[i]![0])?.size ?? 0;
    return bytes;
  };
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
