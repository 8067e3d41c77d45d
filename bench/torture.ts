/**
 * Crash torture: builds of a copy of examples/mini-osv are hit by a fault, then osvd is started
 * again and builds. The faults (tortureFaults.ts), one per round:
 *
 * - kill: SIGKILL at a random moment of a build, of osvd alone (the compilers it started run on and
 *   the next osvd must stop them) or, as a power cut, of osvd and its commands;
 * - crash: osvd kills itself at a named point (OSVD_CRASH_AT, base/crashPoint.ts): after some actions
 *   were recorded, or after the last one, before what osvd writes itself (compile_commands.json);
 * - orphans: osvd is SIGKILLed while its compiles are held at a gate; the next osvd builds other
 *   knobs, then the gate opens: a compile still alive would write its object now;
 * - two builds: two builds of other knobs in one tree at once (one-shot, or beside the daemon);
 * - ctrl-c: Ctrl-C of a client of the daemon at a random moment: the daemon's build stops with it;
 * - overflow (every fifth round, `overflowEvery`): nothing is killed; the daemon's inotify queue
 *   overflows instead, and the build through it must still see every edit (tortureOverflow.ts).
 *
 * After every round:
 * - right after the fault: `PRAGMA integrity_check` passes; no file whose recorded stat still matches
 *   has content other than its recorded hash; no action osvd would call up to date has an output
 *   whose content differs from its record;
 * - the rebuild succeeds, a second build runs nothing, and every output is byte-identical to a clean
 *   build of the same knobs in the same folder; no stray temporary file is left in the tree.
 *
 * Rounds alternate the knobs (so a fault lands in compiles, restores from the store and links), hit
 * either the daemon or a one-shot `osvd build`, and sometimes edit a TU before the killed build and
 * revert the edit before the rebuild. `DETERMINISTIC_ROUNDS` are rounds whose faults come at fixed
 * points (no timing): the test suite runs them.
 *
 *   npm run torture -- --rounds 50 [--seed N] [--tree DIR] [--kinds kill,crash,orphans,two-builds,ctrl-c]
 *
 * Prints one line per round and "rounds survived: S/N"; exits 1 unless every round survived.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { decide } from '../graph/rebuilder.js';
import { hashBytes } from '../graph/hash.js';
import { Session } from '../daemon/session.js';
import { isAlive } from '../base/process.js';
import { crashAt, ctrlCOfClient, killAtRandom, killWithCompilersHeld, osvdSync, startDaemon, twoBuildsAtOnce, type FaultOutcome, type Mode } from './tortureFaults.js';
import { FLOOD_FOLDER, overflowRound } from './tortureOverflow.js';
import { prng } from './prng.js';
import { hashTree } from './treeHash.js';

/** The repository: two folders up when compiled (dist/bench/), one when run from source (the tests). */
const REPO = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
export const EXAMPLE_TREE = path.join(REPO, 'examples', 'mini-osv');
const OUT = 'build/release.x64';
/** A folder a crash left unreadable or without is what the checks report (missing outputs), not an exception. */
const TOLERANT = { unreadableIsEmpty: true } as const;

export type RoundKind = 'kill' | 'crash' | 'orphans' | 'two-builds' | 'ctrl-c' | 'overflow';
export const ROUND_KINDS: readonly RoundKind[] = ['kill', 'crash', 'orphans', 'two-builds', 'ctrl-c', 'overflow'];

/** One round: its fault, the knobs of the build it hits and of the rebuild, who builds. */
export interface RoundPlan {
  readonly kind: RoundKind;
  /** The knob set (an index of the variants) of the build the fault hits; for two builds, of the first. */
  readonly variant: number;
  /** The knob set of the rebuild and of the check: another than `variant` for orphans and two builds. */
  readonly rebuildVariant: number;
  /** Who runs the build the fault hits (for two builds, the first: the second is one-shot). */
  readonly osvd: Mode;
  readonly recoveredBy: Mode;
  /** kind 'crash': the OSVD_CRASH_AT value. */
  readonly crashAt?: string;
  /** kind 'kill': the commands die with osvd (a power cut), or run on. */
  readonly powerCut?: boolean;
  /** Edit a TU before the build, revert the edit before the rebuild. */
  readonly edit?: boolean;
  /** Start from an empty state (`osvd clean --all`): every action of the build runs, none is restored. */
  readonly fresh?: boolean;
}

export interface TortureOptions {
  /** Random rounds (unless `plan` is given). */
  readonly rounds?: number;
  readonly seed: number;
  /** These rounds, in this order, instead of random ones. */
  readonly plan?: readonly RoundPlan[];
  /** The kinds random rounds are drawn from (default: all); 'overflow' comes every `overflowEvery` rounds. */
  readonly kinds?: readonly RoundKind[];
  /** Every this many random rounds, an overflow round (default 5; 0: never). */
  readonly overflowEvery?: number;
  /** The tree to copy (default: examples/mini-osv). */
  readonly tree?: string;
  /** Knob sets the rounds switch between (each a list of KEY=VALUE). */
  readonly variants?: readonly (readonly string[])[];
  readonly log?: (line: string) => void;
}

export interface RoundResult extends RoundPlan {
  readonly round: number;
  readonly variantName: string;
  readonly afterMs: number;
  /** Whether the fault came while a build still ran (not after its end). */
  readonly midBuild: boolean;
  readonly edited?: string;
  readonly problems: string[];
}

export interface TortureResult {
  readonly seed: number;
  readonly rounds: RoundResult[];
  readonly survived: number;
  readonly midBuild: number;
}

export const DEFAULT_VARIANTS: readonly (readonly string[])[] = [
  [],
  ['conf_drivers_profile=virtio-mmio'],
  ['conf_hide_symbols=1'],
];

function copyTree(src: string, dest: string): void {
  fs.rmSync(dest, { recursive: true, force: true });
  fs.cpSync(src, dest, {
    recursive: true,
    filter: (p) => {
      const rel = path.relative(src, p);
      return !(rel === 'build' || rel.startsWith('build/') || rel.endsWith('.so'));
    },
  });
  fs.mkdirSync(path.join(dest, FLOOD_FOLDER));
  // A config file, so that its loading is part of what gets killed too.
  fs.writeFileSync(path.join(dest, 'osv.config.ts'), "import { defineConfig } from 'osvd';\nexport default defineConfig({ jobs: 2 });\n");
}

interface BuildJson {
  ok: boolean;
  via?: string;
  ran: { output: string }[];
  failed: { output: string; message: string }[];
}

function buildJson(root: string, sets: readonly string[], extra: string[] = []): BuildJson {
  const r = osvdSync(root, ['build', '--json', ...extra, ...sets.flatMap((s) => ['--set', s])]);
  try {
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as BuildJson;
  } catch {
    throw new Error(`osvd build printed no JSON (exit ${r.code}): ${r.stdout}${r.stderr}`);
  }
}

/** The checks made right after a crash, before osvd runs again. */
async function checkAfterCrash(root: string, sets: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  const dbFile = path.join(root, 'build/.osvd/state.db');
  if (!fs.existsSync(dbFile)) return problems; // killed before it was created
  const db = new Database(dbFile);
  try {
    const check = db.pragma('integrity_check', { simple: true });
    if (check !== 'ok') problems.push(`integrity_check after the kill: ${String(check)}`);
    // The stat cache: a row whose stat still matches the file is trusted without reading it.
    let rows: { path: string; size: number; mtime_ns: string; ctime_ns: string; ino: string; hash: string; racy: number }[] = [];
    try {
      rows = db.prepare('SELECT path, size, mtime_ns, ctime_ns, ino, hash, racy FROM files').all() as typeof rows;
    } catch {
      // no schema yet
    }
    for (const r of rows) {
      if (r.racy) continue;
      const abs = path.resolve(root, r.path);
      let st: fs.BigIntStats;
      try {
        st = fs.lstatSync(abs, { bigint: true });
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      if (Number(st.size) === r.size && String(st.mtimeNs) === r.mtime_ns && String(st.ctimeNs) === r.ctime_ns && String(st.ino) === r.ino) {
        if (hashBytes(fs.readFileSync(abs)) !== r.hash) problems.push(`${r.path}: stat matches its record but the content does not`);
      }
    }
  } finally {
    db.close();
  }
  // What osvd would call up to date now must hash, read afresh, as recorded.
  const session = await Session.open({ cwd: root, root });
  try {
    const loaded = await session.graph(session.project(sets));
    for (const action of loaded.graph.actions.values()) {
      const d = decide(action, session.files, session.traces, session.store);
      if (d.state !== 'upToDate') continue;
      for (const o of d.entry.outputs) {
        if (o.hash === 'dir' || o.hash.startsWith('link:')) continue;
        let actual: string;
        try {
          actual = hashBytes(fs.readFileSync(path.resolve(root, o.path)));
        } catch {
          actual = 'missing';
        }
        if (actual !== o.hash) problems.push(`${o.path}: would be trusted as up to date, but its content is not what was recorded`);
      }
    }
  } finally {
    session.close();
  }
  return problems;
}

function checkOutputs(root: string, variant: number, refs: readonly Map<string, string>[], pristine: Map<string, string>): string[] {
  const problems: string[] = [];
  const ours = hashTree(path.join(root, OUT), undefined, TOLERANT);
  const ref = refs[variant]!;
  for (const [f, h] of ref) {
    const got = ours.get(f);
    if (got === undefined) problems.push(`${OUT}/${f}: missing`);
    else if (got !== h) problems.push(`${OUT}/${f}: differs from a clean build's`);
  }
  for (const [f, h] of ours) {
    if (ref.has(f)) continue;
    // An output of another knob set stays, as with make; anything else is a stray file.
    if (!refs.some((r) => r.get(f) === h)) problems.push(`${OUT}/${f}: a stray file (not an output of any clean build)`);
  }
  const sources = hashTree(root, (rel) => rel === 'build' || rel.startsWith('build/'), TOLERANT);
  for (const [f, h] of sources) if (pristine.get(f) !== h) problems.push(`${f}: ${pristine.has(f) ? 'changed' : 'a stray file'} in the tree`);
  const tmp = path.join(root, 'build/.osvd/tmp');
  const left = fs.existsSync(tmp) ? fs.readdirSync(tmp) : [];
  if (left.length) problems.push(`build/.osvd/tmp still holds ${left.join(', ')} after osvd stopped`);
  return problems;
}

/** A random round: another knob set than the last round's, a kind among `kinds`. */
function randomRound(random: () => number, variants: number, last: number, kinds: readonly RoundKind[], overflow: boolean): RoundPlan {
  // The daemon's live plan (what an overflow can leave stale) is the one of the config's knobs.
  if (overflow) return { kind: 'overflow', variant: 0, rebuildVariant: 0, osvd: 'daemon', recoveredBy: random() < 0.5 ? 'daemon' : 'one-shot' };
  let variant = Math.floor(random() * variants);
  if (variant === last && variants > 1) variant = (variant + 1) % variants;
  const other = variants > 1 ? (variant + 1 + Math.floor(random() * (variants - 1))) % variants : variant;
  const drawn = kinds.filter((k) => k !== 'overflow');
  const kind = drawn[Math.floor(random() * drawn.length)] ?? 'kill';
  const osvd: Mode = random() < 0.5 ? 'daemon' : 'one-shot';
  const recoveredBy: Mode = kind === 'ctrl-c' ? 'daemon' : random() < 0.5 ? 'daemon' : 'one-shot';
  switch (kind) {
    case 'kill':
      return { kind, variant, rebuildVariant: variant, osvd, recoveredBy, powerCut: random() < 0.5, edit: random() < 0.3 };
    case 'crash':
      return { kind, variant, rebuildVariant: variant, osvd, recoveredBy, crashAt: random() < 0.5 ? 'actions-done' : `action-recorded:${1 + Math.floor(random() * 20)}` };
    case 'orphans':
      // An edit, so that a compile runs (every object of a knob set built before is restored).
      return { kind, variant, rebuildVariant: other, osvd, recoveredBy, edit: true };
    case 'two-builds':
      return { kind, variant, rebuildVariant: other, osvd, recoveredBy };
    default:
      return { kind, variant, rebuildVariant: variant, osvd: 'daemon', recoveredBy };
  }
}

/**
 * Rounds whose faults come at fixed points, not at random times: what the test suite runs, so that it
 * never fails by chance and always reaches the narrow windows (variants: the defaults and virtio-mmio).
 */
export const DETERMINISTIC_ROUNDS: readonly RoundPlan[] = [
  // Killed after the last action, before compile_commands.json: the next daemon finds every action
  // up to date, and the file missing, then of the other knobs.
  { kind: 'crash', crashAt: 'actions-done', variant: 1, rebuildVariant: 1, osvd: 'one-shot', recoveredBy: 'daemon' },
  { kind: 'crash', crashAt: 'actions-done', variant: 0, rebuildVariant: 0, osvd: 'daemon', recoveredBy: 'daemon' },
  { kind: 'crash', crashAt: 'action-recorded:4', variant: 1, rebuildVariant: 1, osvd: 'daemon', recoveredBy: 'one-shot', fresh: true },
  // Killed between writing compile_commands.json's new text and renaming it into place: nothing of
  // it may be left among the outputs (it was, as compile_commands.json.tmp-PID, until 2026-12-03).
  { kind: 'crash', crashAt: 'compile-commands-written', variant: 0, rebuildVariant: 0, osvd: 'one-shot', recoveredBy: 'daemon' },
  // Killed while compiles are held: the next osvd builds the other knobs (their includers of
  // drivers_config.h are the same files), then the held compiles are let go.
  { kind: 'orphans', variant: 0, rebuildVariant: 1, osvd: 'one-shot', recoveredBy: 'one-shot', fresh: true },
  { kind: 'orphans', variant: 1, rebuildVariant: 0, osvd: 'daemon', recoveredBy: 'daemon', fresh: true },
  // The daemon's inotify queue overflows while it is stopped (SIGSTOP): no timing either.
  { kind: 'overflow', variant: 0, rebuildVariant: 0, osvd: 'daemon', recoveredBy: 'one-shot' },
];

/** What the round's fault does to the tree. `tus`: TUs an overflow round may edit. */
async function provoke(root: string, plan: RoundPlan, variants: readonly (readonly string[])[], random: () => number, tus: readonly string[], round: number): Promise<FaultOutcome> {
  const sets = variants[plan.variant]!;
  switch (plan.kind) {
    case 'overflow': {
      const seen = tus[Math.floor(random() * tus.length)]!;
      const others = tus.filter((t) => t !== seen);
      const lost = others[Math.floor(random() * others.length)]!;
      const problems = await overflowRound(overflowTools(root, sets), seen, lost, round);
      return { afterMs: 0, midBuild: false, problems, edited: `${seen} and ${lost}` };
    }
    case 'kill':
      return killAtRandom(root, plan.osvd, sets, random, plan.powerCut ?? false);
    case 'crash':
      return crashAt(root, plan.osvd, sets, plan.crashAt ?? 'actions-done');
    case 'orphans':
      return killWithCompilersHeld(root, plan.osvd, sets);
    case 'two-builds':
      return twoBuildsAtOnce(root, plan.osvd, sets, variants[plan.rebuildVariant]!, random);
    case 'ctrl-c':
      return ctrlCOfClient(root, sets, random);
  }
}

function describeRound(plan: RoundPlan, variantName: (i: number) => string): string {
  const knobs = plan.rebuildVariant === plan.variant ? variantName(plan.variant) : `${variantName(plan.variant)} then ${variantName(plan.rebuildVariant)}`;
  switch (plan.kind) {
    case 'kill':
      return `${plan.osvd} killed${plan.powerCut ? ' with its commands' : ', its commands running on,'}`;
    case 'crash':
      return `${plan.osvd} crashed at ${plan.crashAt}`;
    case 'orphans':
      return `${plan.osvd} killed with compiles held (${knobs})`;
    case 'two-builds':
      return `two builds at once (${plan.osvd}: ${knobs})`;
    case 'ctrl-c':
      return 'Ctrl-C of a client of the daemon';
    case 'overflow':
      return "the daemon's inotify queue overflowed while it was stopped";
  }
}

/** What an overflow round needs of osvd, on the torture's tree. */
function overflowTools(root: string, sets: readonly string[]): Parameters<typeof overflowRound>[0] {
  let pid = 0;
  return {
    root,
    out: OUT,
    startDaemon: () => (pid = startDaemon(root)),
    stopDaemon: async () => {
      osvdSync(root, ['stop']);
      for (let i = 0; i < 400 && pid && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 25));
    },
    build: (extra = []) => buildJson(root, sets, extra),
    status: () => JSON.parse(osvdSync(root, ['status', '--json']).stdout) as ReturnType<Parameters<typeof overflowRound>[0]['status']>,
  };
}

export async function runTorture(options: TortureOptions): Promise<TortureResult> {
  const log = options.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const variants = options.variants ?? DEFAULT_VARIANTS;
  const variantName = (i: number): string => variants[i]!.join(' ') || 'defaults';
  const random = prng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const count = options.plan?.length ?? options.rounds ?? 50;
  const src = options.tree ?? EXAMPLE_TREE;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-torture-'));
  const root = path.join(work, 'tree');
  const rounds: RoundResult[] = [];
  try {
    // Clean builds of every knob set, in the very folder the rounds use (debug info names it).
    const refs: Map<string, string>[] = [];
    for (const sets of variants) {
      copyTree(src, root);
      const r = buildJson(root, sets, ['--no-daemon']);
      if (!r.ok) throw new Error(`the clean build of ${sets.join(' ') || 'the defaults'} failed: ${JSON.stringify(r.failed)}`);
      refs.push(hashTree(path.join(root, OUT), undefined, TOLERANT));
    }
    copyTree(src, root);
    const pristine = hashTree(root, (rel) => rel === 'build' || rel.startsWith('build/'), TOLERANT);
    // TUs compiled to an object of their own in the default build (libenviron.so's sources compile and
    // link in one command: the overflow round looks for each TU's object).
    const tus = [...pristine.keys()].filter((f) => /^(core|drivers|fs|libc)\/.*\.(cc|c)$/.test(f) && refs[0]!.has(f.replace(/\.(cc|c)$/, '.o')));
    log(`torture: ${count} rounds, seed ${options.seed}, ${variants.length} knob sets, tree ${root}`);

    let last = -1;
    for (let round = 1; round <= count; round++) {
      const overflowEvery = options.overflowEvery ?? 5;
      const overflow = (options.kinds ?? ROUND_KINDS).includes('overflow') && overflowEvery > 0 && round % overflowEvery === 0;
      const plan = options.plan?.[round - 1] ?? randomRound(random, variants.length, last, options.kinds ?? ROUND_KINDS, overflow);
      const problems: string[] = [];
      if (plan.fresh) osvdSync(root, ['clean', '--all']);
      let edited: string | undefined;
      let original: Buffer | undefined;
      if (plan.edit && tus.length) {
        // A TU of core/ is compiled with every knob set (a driver's may not be).
        edited = pick(plan.kind === 'orphans' ? tus.filter((t) => t.startsWith('core/')) : tus);
        original = fs.readFileSync(path.join(root, edited));
        fs.appendFileSync(path.join(root, edited), `\nint osvd_torture_${round}(void) { return ${round}; }\n`);
      }

      let outcome: FaultOutcome = { afterMs: 0, midBuild: false, problems: [] };
      try {
        outcome = await provoke(root, plan, variants, random, tus, round);
      } catch (err) {
        problems.push(`could not provoke the fault: ${(err as Error).message}`);
      }
      problems.push(...outcome.problems);
      if (edited && original) fs.writeFileSync(path.join(root, edited), original);
      edited ??= outcome.edited;

      // With compiles held at the gate, looking at the state now would stop them (osvd does so when it
      // opens a tree): the rebuild is what must do it.
      const sets = variants[plan.rebuildVariant]!;
      if (!outcome.orphans) {
        try {
          problems.push(...(await checkAfterCrash(root, sets)));
        } catch (err) {
          problems.push(`checking the state after the fault failed: ${(err as Error).stack ?? err}`);
        }
      }

      // Start again and build.
      try {
        if (plan.recoveredBy === 'daemon') startDaemon(root);
        const r = buildJson(root, sets);
        if (!r.ok) problems.push(`the rebuild failed: ${r.failed.map((f) => `${f.output}: ${f.message.split('\n')[0]}`).join('; ')}`);
        if (outcome.orphans) {
          // Compiles a killed osvd left held: the rebuild must have stopped them. Open the gate: one
          // still alive writes its object now, over what the rebuild recorded.
          const { pids, gate } = outcome.orphans;
          const survivors = pids.filter(isAlive);
          if (survivors.length) problems.push(`compiles of the killed osvd still ran after the rebuild: pids ${survivors.join(', ')}`);
          gate.open();
          for (let i = 0; i < 600 && pids.some(isAlive); i++) await new Promise((r) => setTimeout(r, 50));
          gate.remove();
        }
        const again = buildJson(root, sets);
        if (!again.ok || again.ran.length) problems.push(`a second build was not a no-op: ran ${again.ran.map((e) => e.output).join(', ')}`);
      } catch (err) {
        problems.push((err as Error).message);
      } finally {
        osvdSync(root, ['stop']);
      }
      const db = path.join(root, 'build/.osvd/state.db');
      if (fs.existsSync(db)) {
        const d = new Database(db, { readonly: true });
        const check = d.pragma('integrity_check', { simple: true });
        d.close();
        if (check !== 'ok') problems.push(`integrity_check after the rebuild: ${String(check)}`);
      }
      problems.push(...checkOutputs(root, plan.rebuildVariant, refs, pristine));
      last = plan.rebuildVariant;

      const result: RoundResult = { ...plan, round, variantName: variantName(plan.rebuildVariant), afterMs: outcome.afterMs, midBuild: outcome.midBuild, edited, problems };
      rounds.push(result);
      log(
        `round ${round}/${count}: ${describeRound(plan, variantName)} after ${outcome.afterMs} ms (${outcome.midBuild ? 'mid-build' : 'after the build'})` +
          `${edited ? `, ${edited} edited then reverted` : ''}, ${result.variantName}, rebuilt by ${plan.recoveredBy}: ` +
          (problems.length ? `FAILED\n  ${problems.slice(0, 10).join('\n  ')}` : 'ok'),
      );
    }
  } finally {
    osvdSync(root, ['stop']);
    fs.rmSync(work, { recursive: true, force: true });
  }
  const survived = rounds.filter((r) => r.problems.length === 0).length;
  const midBuild = rounds.filter((r) => r.midBuild).length;
  log(`rounds survived: ${survived}/${rounds.length} (faults mid-build: ${midBuild}, seed ${options.seed})`);
  return { seed: options.seed, rounds, survived, midBuild };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rounds = Number(arg('--rounds') ?? 50);
  const seed = Number(arg('--seed') ?? Date.now() % 1_000_000);
  const kinds = (arg('--kinds') ?? ROUND_KINDS.join(',')).split(',') as RoundKind[];
  if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(seed) || kinds.some((k) => !ROUND_KINDS.includes(k))) {
    process.stderr.write(`usage: npm run torture -- [--rounds N] [--seed N] [--tree DIR] [--kinds ${ROUND_KINDS.join(',')}]\n`);
    process.exit(2);
  }
  const result = await runTorture({ rounds, seed, kinds, tree: arg('--tree') });
  const dir = path.join(REPO, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `torture-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2));
  process.exitCode = result.survived === result.rounds.length ? 0 : 1;
}
