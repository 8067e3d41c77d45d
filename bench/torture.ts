/**
 * Crash torture: a build of a copy of examples/mini-osv is killed with SIGKILL at a random moment
 * (the whole process group, as a power cut would: osvd and the compilers it started), then osvd is
 * started again and builds. After every round:
 *
 * - right after the kill: `PRAGMA integrity_check` passes; no file whose recorded stat still matches
 *   has content other than its recorded hash; no action osvd would call up to date has an output
 *   whose content differs from its record;
 * - the rebuild succeeds, a second build runs nothing, and every output is byte-identical to a clean
 *   build of the same knobs in the same folder; no stray temporary file is left in the tree.
 *
 * Rounds alternate the knobs (so a kill lands in compiles, restores from the store and links), kill
 * either the daemon or a one-shot `osvd build`, and sometimes edit a TU before the killed build and
 * revert the edit before the rebuild. Every fifth round (`overflowEvery`) kills nothing: the daemon's
 * inotify queue overflows instead, and the build through it must still see every edit
 * (tortureOverflow.ts); the round's rebuild and checks follow as in the others.
 *
 *   npm run torture -- --rounds 50 [--seed N] [--tree DIR]
 *
 * Prints one line per round and "rounds survived: S/N"; exits 1 unless every round survived.
 */
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { decide } from '../graph/rebuilder.js';
import { hashBytes } from '../graph/hash.js';
import { Session } from '../daemon/session.js';
import { FLOOD_FOLDER, overflowRound } from './tortureOverflow.js';

/** The repository: two folders up when compiled (dist/bench/), one when run from source (the tests). */
const REPO = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
const OSVD = path.join(REPO, 'bin', 'osvd.js');
export const EXAMPLE_TREE = path.join(REPO, 'examples', 'mini-osv');
const OUT = 'build/release.x64';

export interface TortureOptions {
  readonly rounds: number;
  readonly seed: number;
  /** The tree to copy (default: examples/mini-osv). */
  readonly tree?: string;
  /** Knob sets the rounds switch between (each a list of KEY=VALUE). */
  readonly variants?: readonly (readonly string[])[];
  readonly log?: (line: string) => void;
  /** Every this many rounds, an overflow round instead of a kill (default 5; 0: never). */
  readonly overflowEvery?: number;
}

export interface RoundResult {
  readonly round: number;
  /** A build killed, or the daemon's inotify queue overflowed (nothing killed). */
  readonly kind: 'kill' | 'overflow';
  readonly variant: string;
  readonly killed: 'daemon' | 'one-shot';
  readonly killAfterMs: number;
  /** Whether the killed build was still running (not finished) when the kill came. */
  readonly midBuild: boolean;
  readonly edited?: string;
  readonly recoveredBy: 'daemon' | 'one-shot';
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

/** A small seeded PRNG (mulberry32), so a failing round can be replayed with its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sha(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Every regular file under `dir`, relative to it, with its hash. */
function hashTree(dir: string, skip: (rel: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (rel: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip(r)) continue;
      if (e.isDirectory()) walk(r);
      else if (e.isFile()) out.set(r, sha(path.join(dir, r)));
    }
  };
  walk('');
  return out;
}

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

function osvdSync(root: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [OSVD, ...args, '--root', root], { cwd: root, encoding: 'utf8', env: torturedEnv(), timeout: 300_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** No log to stderr; the daemon watches folders unless OSVD_WATCHER says otherwise (never the user's watchman). */
function torturedEnv(): NodeJS.ProcessEnv {
  return { ...process.env, OSVD_LOG: '', OSVD_WATCHER: process.env.OSVD_WATCHER ?? 'folders' };
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

/** Processes of a group that still run (zombies excluded: they write nothing any more). */
function liveInGroup(pgid: number): number[] {
  const live: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') live.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return live;
}

async function killGroup(pgid: number): Promise<void> {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // already gone
  }
  for (let i = 0; i < 200 && liveInGroup(pgid).length > 0; i++) await sleep(25);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
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
  const ours = hashTree(path.join(root, OUT));
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
  const sources = hashTree(root, (rel) => rel === 'build' || rel.startsWith('build/'));
  for (const [f, h] of sources) if (pristine.get(f) !== h) problems.push(`${f}: ${pristine.has(f) ? 'changed' : 'a stray file'} in the tree`);
  const tmp = path.join(root, 'build/.osvd/tmp');
  const left = fs.existsSync(tmp) ? fs.readdirSync(tmp) : [];
  if (left.length) problems.push(`build/.osvd/tmp still holds ${left.join(', ')} after osvd stopped`);
  return problems;
}

function startDaemon(root: string): number {
  const r = osvdSync(root, ['start', '--json']);
  if (r.code !== 0) throw new Error(`osvd start failed: ${r.stdout}${r.stderr}`);
  return (JSON.parse(r.stdout) as { pid: number }).pid;
}

/**
 * Start a build that will be killed and kill it: at a random moment of its start (reading the config,
 * importing the Makefile), or once a random fraction of its actions has finished (read from the
 * progress lines it prints) plus a little jitter. Returns when the whole group is gone.
 */
async function buildAndKill(root: string, mode: 'daemon' | 'one-shot', sets: readonly string[], random: () => number): Promise<{ afterMs: number; midBuild: boolean }> {
  const args = [OSVD, 'build', '--root', root, ...sets.flatMap((s) => ['--set', s])];
  let pgid = 0;
  if (mode === 'daemon') pgid = startDaemon(root);
  else args.push('--no-daemon');
  // The one-shot build leads its own process group (its shells and compilers are in it); a client
  // of the daemon dies with the connection, the daemon's group is killed.
  const started = performance.now();
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], detached: mode === 'one-shot', env: torturedEnv() });
  if (mode === 'one-shot') pgid = child.pid!;
  let done = false;
  const exited = new Promise<void>((resolve) => child.on('exit', () => ((done = true), resolve())));
  const early = random() < 0.2;
  const fraction = random();
  const jitterMs = random() * 250;
  await new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const fire = (ms: number): void => {
      if (!timer) timer = setTimeout(resolve, ms);
    };
    if (early) fire(random() * 2000);
    let buffer = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const m = /^\[(\d+)\/(\d+)\]/.exec(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        if (m && !early && Number(m[1]) >= fraction * Number(m[2])) fire(jitterMs);
      }
    });
    void exited.then(() => resolve());
  });
  const afterMs = Math.round(performance.now() - started);
  const midBuild = !done;
  await killGroup(pgid);
  if (!done) await exited;
  return { afterMs, midBuild };
}

export async function runTorture(options: TortureOptions): Promise<TortureResult> {
  const log = options.log ?? ((l: string) => process.stdout.write(l + '\n'));
  const variants = options.variants ?? DEFAULT_VARIANTS;
  const random = prng(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
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
      refs.push(hashTree(path.join(root, OUT)));
    }
    copyTree(src, root);
    const pristine = hashTree(root, (rel) => rel === 'build' || rel.startsWith('build/'));
    const tus = [...pristine.keys()].filter((f) => /^(core|drivers|fs|libc)\/.*\.(cc|c)$/.test(f));
    log(`torture: ${options.rounds} rounds, seed ${options.seed}, ${variants.length} knob sets, tree ${root}`);

    const overflowEvery = options.overflowEvery ?? 5;
    let current = -1;
    for (let round = 1; round <= options.rounds; round++) {
      const problems: string[] = [];
      const kind = overflowEvery > 0 && round % overflowEvery === 0 ? 'overflow' : 'kill';
      let variant = Math.floor(random() * variants.length);
      if (variant === current && variants.length > 1) variant = (variant + 1) % variants.length;
      // The daemon's live plan (what an overflow can leave stale) is the one of the config's knobs.
      if (kind === 'overflow') variant = 0;
      const sets = variants[variant]!;
      const killed = random() < 0.5 ? 'daemon' : 'one-shot';
      const recoveredBy = random() < 0.5 ? 'daemon' : 'one-shot';
      let edited: string | undefined;
      let original: Buffer | undefined;
      if (random() < 0.3 && tus.length && kind === 'kill') {
        edited = pick(tus);
        original = fs.readFileSync(path.join(root, edited));
        fs.appendFileSync(path.join(root, edited), `\nint osvd_torture_${round}(void) { return ${round}; }\n`);
      }

      let killAfterMs = 0;
      let midBuild = false;
      if (kind === 'overflow') {
        const seen = pick(tus);
        const lost = pick(tus.filter((t) => t !== seen));
        edited = `${seen} and ${lost}`;
        try {
          problems.push(...(await overflowRound(overflowTools(root, sets), seen, lost, round)));
        } catch (err) {
          problems.push(`the overflow round failed: ${(err as Error).stack ?? err}`);
        }
      } else {
        try {
          ({ afterMs: killAfterMs, midBuild } = await buildAndKill(root, killed, sets, random));
        } catch (err) {
          problems.push(`could not start the build to kill: ${(err as Error).message}`);
        }
      }
      if (edited && original) fs.writeFileSync(path.join(root, edited), original);

      try {
        problems.push(...(await checkAfterCrash(root, sets)));
      } catch (err) {
        problems.push(`checking the state after the kill failed: ${(err as Error).stack ?? err}`);
      }

      // Start again and build.
      try {
        if (recoveredBy === 'daemon') startDaemon(root);
        const r = buildJson(root, sets);
        if (!r.ok) problems.push(`the rebuild failed: ${r.failed.map((f) => `${f.output}: ${f.message.split('\n')[0]}`).join('; ')}`);
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
      problems.push(...checkOutputs(root, variant, refs, pristine));
      current = variant;

      const result: RoundResult = { round, kind, variant: sets.join(' ') || 'defaults', killed, killAfterMs, midBuild, edited, recoveredBy, problems };
      rounds.push(result);
      const what =
        kind === 'overflow'
          ? `the daemon's inotify queue overflowed while it was stopped, ${edited} edited (the second's events dropped) then reverted`
          : `${killed} killed after ${killAfterMs} ms (${midBuild ? 'mid-build' : 'after the build'})${edited ? `, ${edited} edited then reverted` : ''}`;
      log(
        `round ${round}/${options.rounds}: ${what}, ${result.variant}, rebuilt by ${recoveredBy}: ` +
          (problems.length ? `FAILED\n  ${problems.slice(0, 10).join('\n  ')}` : 'ok'),
      );
    }
  } finally {
    osvdSync(root, ['stop']);
    fs.rmSync(work, { recursive: true, force: true });
  }
  const survived = rounds.filter((r) => r.problems.length === 0).length;
  const midBuild = rounds.filter((r) => r.midBuild).length;
  log(`rounds survived: ${survived}/${rounds.length} (kills mid-build: ${midBuild}, seed ${options.seed})`);
  return { seed: options.seed, rounds, survived, midBuild };
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
      // `osvd stop` may return before the process has exited.
      for (let i = 0; i < 400 && pid && liveInGroup(pid).length > 0; i++) await sleep(25);
    },
    build: (extra = []) => buildJson(root, sets, extra),
    status: () => JSON.parse(osvdSync(root, ['status', '--json']).stdout) as ReturnType<Parameters<typeof overflowRound>[0]['status']>,
  };
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rounds = Number(arg('--rounds') ?? 50);
  const seed = Number(arg('--seed') ?? Date.now() % 1_000_000);
  if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(seed)) {
    process.stderr.write('usage: npm run torture -- [--rounds N] [--seed N] [--tree DIR]\n');
    process.exit(2);
  }
  const result = await runTorture({ rounds, seed, tree: arg('--tree') });
  const dir = path.join(REPO, 'bench', 'results');
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `torture-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(result, null, 2));
  process.exitCode = result.survived === result.rounds.length ? 0 : 1;
}
