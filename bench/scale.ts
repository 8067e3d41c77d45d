/**
 * osvd's own overhead at scale, against make and ninja on the same synthetic trees (bench/synth), in
 * one run. For each size, three copies of one generated tree (osvd, make, ninja: none sees another's
 * outputs) go through the same steps:
 *
 *   cold build; no-op; one TU edited; one widely included header edited; a drivers profile switch and
 *   back; and, for osvd, the daemon: status requests idle and during a build, file event -> dirty set,
 *   its memory and its database.
 *
 * Compilers: `stub` is bench/synth/fast-stub-cc.c (compiled here with gcc): the awk stub's command
 * lines, depfiles and checksums at ~1 ms a compile instead of ~20, so that what is measured is the tool;
 * `real` is gcc/g++/ld on a small tree.
 *
 *   node dist/bench/scale.js                       preset: 1,000 TUs (stub) + 40 TUs (real g++)
 *   node dist/bench/scale.js --full                1,000 / 10,000 / 50,000 TUs (stub) + 200 TUs (real)
 *     [--sizes 1000,10000] [--real N|0] [--jobs N] [--work DIR] [--keep] [--requests 1000]
 *     [--header-share 0.05] [--make-cold-max 10000] [--daemon-only 50000 [--built]]
 *
 * Prints one table (osvd / make / ninja, ratios) and a goals section, and writes
 * bench/results/scale-<date>.json.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DaemonClient } from '../daemon/client.js';
import type { BuildReport, StatusReport } from '../daemon/answers.js';
import { generateTree, type TreeInfo } from './synth/generate.js';
import { writeNinja } from './synth/ninja.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OSVD = path.join(REPO, 'bin', 'osvd.js');
const FAST_STUB_SRC = path.join(REPO, 'bench', 'synth', 'fast-stub-cc.c');
const STUB = 'scripts/fast-stub-cc';
/** How long the daemon is left idle before its resting RSS is read: its resting collection comes after 10 s. */
const REST_S = 11;

type Compiler = 'stub' | 'real';

interface Args {
  sizes: number[];
  real: number;
  jobs: number;
  work: string;
  keep: boolean;
  requests: number;
  headerShare: number;
  full: boolean;
  /** Above this many TUs, make's cold build is not run: make's tree gets a copy of ninja's build. */
  makeColdMax: number;
  /** Sizes at which only the daemon is measured, on a tree that is not built (see the README). */
  daemonOnly: number[];
  /** With --daemon-only: keep the tree's build (a tree an earlier --keep run built), so the daemon holds last runs. */
  built: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const val = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const full = argv.includes('--full');
  const work = val('--work');
  return {
    full,
    sizes: (val('--sizes') ?? (full ? '1000,10000,50000' : '1000')).split(',').map(Number).filter((n) => n > 0),
    real: Number(val('--real') ?? (full ? 200 : 40)),
    jobs: Number(val('--jobs') ?? os.availableParallelism()),
    work: work ? path.resolve(work) : fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-bench-scale-')),
    keep: argv.includes('--keep') || work !== undefined,
    requests: Number(val('--requests') ?? 1000),
    headerShare: Number(val('--header-share') ?? 0.05),
    makeColdMax: Number(val('--make-cold-max') ?? 10_000),
    daemonOnly: (val('--daemon-only') ?? '').split(',').map(Number).filter((n) => n > 0),
    built: argv.includes('--built'),
  };
}

// ---------------------------------------------------------------------------------------------
// Measuring

interface Timed {
  ms: number;
  stdout: string;
}

function run(cmd: string, args: readonly string[], cwd: string): Timed {
  const t = performance.now();
  const r = spawnSync(cmd, [...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = performance.now() - t;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
  return { ms, stdout: r.stdout };
}

function median(values: readonly number[]): number {
  return pct(values, 50);
}

function pct(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

function load(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

function log(msg: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)} load ${load()}] ${msg}\n`);
}

/** One measured step of one tool. */
interface Cell {
  ms: number;
  /** Actions run (compiles, links, generators), and for osvd those restored from its store. */
  ran?: number;
  restored?: number;
  note?: string;
}

interface Row {
  size: string;
  step: string;
  osvd?: Cell;
  osvdDaemon?: Cell;
  make?: Cell;
  ninja?: Cell;
  load: string;
}

interface Goal {
  goal: string;
  measured: string;
  pass: boolean | null;
}

// ---------------------------------------------------------------------------------------------
// The tools

class MakeTool {
  constructor(readonly dir: string, readonly jobs: number, readonly compilerVars: string[]) {}
  build(vars: readonly string[] = []): Cell {
    const r = run('make', [`-j${this.jobs}`, 'V=1', ...this.compilerVars, ...vars], this.dir);
    const lines = r.stdout.split('\n');
    const ran = lines.filter((l) => / -c | -o \S+loader\.elf|gen-drivers-config-header/.test(l)).length;
    return { ms: r.ms, ran };
  }
}

class NinjaTool {
  profile = 'all';
  constructor(readonly dir: string, readonly jobs: number, readonly info: TreeInfo, readonly compiler: Compiler) {}
  writeFile(profile: string): number {
    const t = performance.now();
    writeNinja(this.dir, this.info, { compiler: this.compiler, profile, vars: this.compiler === 'stub' ? [`STUB=${STUB}`] : [] });
    this.profile = profile;
    return performance.now() - t;
  }
  build(): Cell {
    // Depfiles are kept (not only read into .ninja_deps), so that make can use a tree ninja built.
    const r = run('ninja', [`-j${this.jobs}`, '-d', 'keepdepfile'], this.dir);
    const ran = r.stdout.split('\n').filter((l) => /^\[\d+\/\d+\]/.test(l)).length;
    return { ms: r.ms, ran };
  }
  /** Sum of the durations of the edges of the last build, from .ninja_log. */
  sumOfCommandsMs(since: number): number {
    const text = fs.readFileSync(path.join(this.dir, this.info.outDir, '.ninja_log'), 'utf8');
    let sum = 0;
    for (const line of text.split('\n')) {
      const f = line.split('\t');
      if (f.length < 5 || line.startsWith('#')) continue;
      const start = Number(f[0]);
      const end = Number(f[1]);
      if (start >= since) sum += end - start;
    }
    return sum;
  }
}

class OsvdTool {
  client: DaemonClient | undefined;
  pid = 0;
  constructor(readonly dir: string, readonly jobs: number) {}
  oneShot(args: string[] = []): Cell & { report: BuildReport } {
    const r = run(process.execPath, [OSVD, 'build', '--json', '--no-daemon', '-j', String(this.jobs), '--root', this.dir, ...args], this.dir);
    const report = JSON.parse(r.stdout) as BuildReport;
    if (!report.ok) throw new Error(`osvd build failed in ${this.dir}`);
    return { ms: r.ms, ran: report.ran.length, restored: report.restored.length, report };
  }
  cli(args: string[]): Timed {
    return run(process.execPath, [OSVD, ...args, '--root', this.dir], this.dir);
  }
  async start(): Promise<number> {
    const r = this.cli(['start', '--json']);
    this.pid = (JSON.parse(r.stdout) as { pid: number }).pid;
    this.client = await DaemonClient.find(path.join(this.dir, 'build/.osvd'));
    if (!this.client) throw new Error('the daemon did not answer');
    // The first status waits for the graph to be loaded and planned.
    const t = performance.now();
    await this.status();
    return r.ms + (performance.now() - t);
  }
  async build(sets: string[] = []): Promise<Cell & { report: BuildReport }> {
    const t = performance.now();
    const report = await this.client!.request<BuildReport>('build', sets.length ? { sets } : {});
    const ms = performance.now() - t;
    if (!report.ok) throw new Error(`osvd build through the daemon failed in ${this.dir}`);
    return { ms, ran: report.ran.length, restored: report.restored.length, report };
  }
  async status(): Promise<StatusReport> {
    return this.client!.request<StatusReport>('status');
  }
  async statusTimes(n: number, until?: () => boolean): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < n && !(until?.() ?? false); i++) {
      const t = performance.now();
      await this.client!.request('status');
      times.push(performance.now() - t);
    }
    return times;
  }
  /** Wait until the daemon's plan has taken an edit in (dirty actions appear); its own update time. */
  async waitDirty(timeoutMs = 30_000): Promise<{ insideMs: number; seenMs: number }> {
    const t = performance.now();
    for (;;) {
      const st = await this.status();
      if (st.dirty.run + st.dirty.pending > 0) return { insideMs: st.daemon.lastUpdateMs ?? NaN, seenMs: performance.now() - t };
      if (performance.now() - t > timeoutMs) throw new Error('the daemon did not see the edit');
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  /** RSS once the daemon has been idle long enough for its resting collection (daemon/idleCollection.ts). */
  async restingRssMb(): Promise<number> {
    await new Promise((r) => setTimeout(r, REST_S * 1000));
    return this.memory().rssMb;
  }
  memory(): { rssMb: number; hwmMb: number } {
    const status = fs.readFileSync(`/proc/${this.pid}/status`, 'utf8');
    const kb = (name: string): number => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  }
  async stop(): Promise<void> {
    this.client?.close();
    this.client = undefined;
    try {
      this.cli(['stop']);
    } catch {
      // already gone
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Trees

function compileFastStub(work: string): string {
  const exe = path.join(work, 'fast-stub-cc');
  if (!fs.existsSync(exe)) run('gcc', ['-O2', '-o', exe, FAST_STUB_SRC], work);
  return exe;
}

function writeConfig(dir: string, compiler: Compiler, jobs: number): void {
  const vars = compiler === 'stub' ? `{ COMPILER: 'stub', STUB: '${STUB}' }` : `{ COMPILER: 'real' }`;
  fs.writeFileSync(path.join(dir, 'osv.config.ts'), `import { defineConfig } from 'osvd';\nexport default defineConfig({ jobs: ${jobs}, makeVars: ${vars} });\n`);
}

interface Trees {
  info: TreeInfo;
  osvd: string;
  make: string;
  ninja: string;
}

function makeTrees(work: string, tus: number, compiler: Compiler, jobs: number): Trees {
  const base = path.join(work, `${compiler}-${tus}`);
  fs.rmSync(base, { recursive: true, force: true });
  const dirs = { osvd: path.join(base, 'osvd'), make: path.join(base, 'make'), ninja: path.join(base, 'ninja') };
  const info = generateTree(dirs.osvd, { tus, seed: 1 });
  if (compiler === 'stub') fs.copyFileSync(compileFastStub(work), path.join(dirs.osvd, STUB));
  for (const d of [dirs.make, dirs.ninja]) run('cp', ['-a', dirs.osvd, d], work);
  writeConfig(dirs.osvd, compiler, jobs);
  return { info, ...dirs };
}

/** Sources of plain (non-driver) TUs, relative to the tree. */
function tuSources(t: Trees, n: number): string[] {
  const out: string[] = [];
  const objects = t.info.objectsByProfile.all!;
  const step = Math.max(1, Math.floor(objects.length / (n + 1)));
  for (let i = step; i < objects.length && out.length < n; i += step) {
    const rel = objects[i]!.slice(t.info.outDir.length + 1).replace(/\.o$/, '');
    if (rel.startsWith('drivers/')) continue;
    const src = ['.c', '.cc'].map((e) => rel + e).find((f) => fs.existsSync(path.join(t.osvd, f)));
    if (src) out.push(src);
  }
  return out;
}

/** The header read by the number of TUs closest to `share` of them (from make's depfiles). */
function widelyIncludedHeader(t: Trees, share: number): { header: string; readers: number } {
  const counts = new Map<string, number>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.d')) {
        const text = fs.readFileSync(p, 'utf8');
        const head = text.split('\n\n')[0]!;
        for (const w of head.split(/[\s\\]+/)) if (/\.(h|hh)$/.test(w) && !w.startsWith('/') && !w.startsWith(t.info.outDir)) counts.set(w, (counts.get(w) ?? 0) + 1);
      }
    }
  };
  walk(path.join(t.make, t.info.outDir));
  const target = share * t.info.tus;
  let best: [string, number] = ['', 0];
  for (const [h, n] of counts) if (Math.abs(n - target) < Math.abs(best[1] - target)) best = [h, n];
  return { header: best[0], readers: best[1] };
}

function appendTo(t: Trees, rel: string, text: string): void {
  for (const d of [t.osvd, t.make, t.ninja]) fs.appendFileSync(path.join(d, rel), text);
}

function dirSizeMb(p: string): number {
  const r = spawnSync('du', ['-sk', p], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0] ?? NaN) / 1024;
}

// ---------------------------------------------------------------------------------------------
// One size

/** The median cell of each tool over repeated steps (ms and actions of the median run). */
function medians(runs: { osvd: Cell[]; make: Cell[]; ninja: Cell[] }): { osvdDaemon: Cell; make: Cell; ninja: Cell } {
  const mid = (cells: Cell[]): Cell => [...cells].sort((a, b) => a.ms - b.ms)[Math.floor(cells.length / 2)]!;
  return { osvdDaemon: mid(runs.osvd), make: mid(runs.make), ninja: mid(runs.ninja) };
}

/** An incremental step's times for the goals (osvd through the daemon against ninja), and every run's. */
function stepRatio(facts: Record<string, number | string>, name: string, cells: { osvdDaemon?: Cell; ninja?: Cell }, runs?: { osvd: Cell[]; make: Cell[]; ninja: Cell[] }): void {
  facts[`${name}OsvdMs`] = cells.osvdDaemon!.ms;
  facts[`${name}NinjaMs`] = cells.ninja!.ms;
  if (runs) for (const k of ['osvd', 'make', 'ninja'] as const) facts[`${name}Runs_${k}`] = runs[k].map((c) => Math.round(c.ms)).join(' ');
}

interface SizeResult {
  tus: number;
  compiler: Compiler;
  daemonOnly?: boolean;
  /** daemonOnly on a tree an earlier run built (the daemon holds every last run). */
  built?: boolean;
  rows: Row[];
  facts: Record<string, number | string>;
}

async function benchSize(args: Args, tus: number, compiler: Compiler): Promise<SizeResult> {
  const size = `${compiler} ${tus >= 1000 ? `${tus / 1000}k` : tus}`;
  const rows: Row[] = [];
  const facts: Record<string, number | string> = {};
  const row = (step: string, cells: Omit<Row, 'size' | 'step' | 'load'>): void => {
    rows.push({ size, step, ...cells, load: load() });
    log(`${size} ${step}: ${['osvd', 'osvdDaemon', 'make', 'ninja'].map((k) => { const c = (cells as Record<string, Cell | undefined>)[k]; return c ? `${k} ${c.ms.toFixed(0)} ms${c.ran !== undefined ? ` (${c.ran} ran${c.restored ? `, ${c.restored} restored` : ''})` : ''}` : ''; }).filter(Boolean).join(', ')}`);
  };
  log(`${size}: generating three copies of the tree`);
  const tg = performance.now();
  const t = makeTrees(args.work, tus, compiler, args.jobs);
  facts.generateMs = Math.round(performance.now() - tg);
  const compilerVars = compiler === 'stub' ? ['COMPILER=stub', `STUB=${STUB}`] : ['COMPILER=real'];
  const make = new MakeTool(t.make, args.jobs, compilerVars);
  const ninja = new NinjaTool(t.ninja, args.jobs, t.info, compiler);
  const osvd = new OsvdTool(t.osvd, args.jobs);
  facts.ninjaFileMs = Math.round(ninja.writeFile('all'));
  const actions = t.info.objectsByProfile.all!.length + 2;
  facts.actions = actions;

  // Cold builds. The ideal is the sum of the commands' times over the jobs: ninja's own log for ninja
  // and make (same commands), osvd's recorded durations for osvd.
  const ninjaSince = 0;
  const coldNinja = ninja.build();
  const ninjaSum = ninja.sumOfCommandsMs(ninjaSince);
  let coldMake: Cell | undefined;
  if (tus <= args.makeColdMax) {
    coldMake = make.build();
  } else {
    // The same outputs and depfiles, with ninja's times: make's no-op and edits work on a built tree.
    fs.rmSync(path.join(t.make, 'build'), { recursive: true, force: true });
    run('cp', ['-a', path.join(t.ninja, 'build'), path.join(t.make, 'build')], args.work);
    for (const f of ['.ninja_log', '.ninja_deps']) fs.rmSync(path.join(t.make, t.info.outDir, f), { force: true });
    log(`${size}: make's cold build skipped (--make-cold-max ${args.makeColdMax}); its tree has a copy of ninja's build`);
  }
  const coldOsvd = osvd.oneShot();
  const osvdSum = coldOsvd.report.ran.reduce((s, e) => s + e.durationMs, 0);
  const overhead = (wall: number, sum: number, n: number): number => (wall - sum / args.jobs) / n;
  // Where osvd's overhead is: outside the build (Node's start, the import, the exit), and in it (the
  // builder's own time from its start to its end, against the commands' sum over the jobs).
  const outsideBuild = coldOsvd.ms - coldOsvd.report.durationMs;
  const inBuild = overhead(coldOsvd.report.durationMs, osvdSum, actions);
  coldOsvd.note = `import ${coldOsvd.report.import.ms} ms; overhead ${overhead(coldOsvd.ms, osvdSum, actions).toFixed(2)} ms/action: ${(outsideBuild / actions).toFixed(2)} outside the build (${outsideBuild.toFixed(0)} ms: start, import, exit), ${inBuild.toFixed(2)} in it`;
  if (coldMake) coldMake.note = `overhead ${overhead(coldMake.ms, ninjaSum, actions).toFixed(2)} ms/action`;
  coldNinja.note = `overhead ${overhead(coldNinja.ms, ninjaSum, actions).toFixed(2)} ms/action`;
  row('cold build', { osvd: coldOsvd, make: coldMake, ninja: coldNinja });
  facts.sumOfCommandsMsNinja = ninjaSum;
  facts.sumOfCommandsMsOsvd = osvdSum;
  facts.overheadMsPerActionOsvd = overhead(coldOsvd.ms, osvdSum, actions);
  facts.overheadMsPerActionNinja = overhead(coldNinja.ms, ninjaSum, actions);
  facts.overheadMsPerActionMake = coldMake ? overhead(coldMake.ms, ninjaSum, actions) : NaN;
  facts.outsideBuildMsOsvd = Math.round(outsideBuild);
  facts.overheadInBuildMsPerActionOsvd = inBuild;
  facts.coldRatioOsvdNinja = coldOsvd.ms / coldNinja.ms;

  // No-op builds.
  const reps = tus > 10_000 ? 2 : 3;
  const many = (f: () => Cell): Cell => {
    const cells = Array.from({ length: reps }, f);
    return { ...cells[0], ms: median(cells.map((c) => c.ms)), ran: Math.max(...cells.map((c) => c.ran ?? 0)) };
  };
  const noopMake = many(() => make.build());
  const noopNinja = many(() => ninja.build());
  const noopOneShot = many(() => osvd.oneShot());
  const startMs = await osvd.start();
  facts.daemonStartMs = Math.round(startMs);
  await osvd.build(); // the first build through the daemon (nothing to do) warms it
  const inDaemon: number[] = [];
  for (let i = 0; i < 5; i++) inDaemon.push((await osvd.build()).ms);
  const noopDaemon: Cell = { ms: median(inDaemon), ran: 0, note: 'request round trip' };
  const viaCli = median(Array.from({ length: 3 }, () => osvd.cli(['build', '--quiet']).ms));
  const statusCli = median(Array.from({ length: 5 }, () => osvd.cli(['status']).ms));
  const nodeStart = median(Array.from({ length: 5 }, () => run(process.execPath, ['-e', '0'], t.osvd).ms));
  noopOneShot.note = 'osvd build --no-daemon';
  row('no-op', { osvd: noopOneShot, osvdDaemon: noopDaemon, make: noopMake, ninja: noopNinja });
  row('no-op, osvd build through the daemon (CLI, end to end)', { osvdDaemon: { ms: viaCli, note: `node -e 0: ${nodeStart.toFixed(0)} ms` } });
  row('osvd status (CLI, end to end)', { osvdDaemon: { ms: statusCli, note: `node -e 0: ${nodeStart.toFixed(0)} ms` } });
  facts.noopDaemonMs = noopDaemon.ms;
  facts.noopMakeMs = noopMake.ms;
  facts.noopNinjaMs = noopNinja.ms;
  facts.noopOneShotMs = noopOneShot.ms;

  // Status requests, idle.
  await osvd.statusTimes(50);
  const idle = await osvd.statusTimes(args.requests);
  facts.statusIdleP50 = median(idle);
  facts.statusIdleP99 = pct(idle, 99);
  row('status request in the daemon, idle (p50)', { osvdDaemon: { ms: median(idle), note: `p99 ${pct(idle, 99).toFixed(2)} ms over ${idle.length}` } });

  // One TU edited: the daemon's dirty set (several edits), then the rebuild by each tool.
  const sources = tuSources(t, 9);
  const dirty: number[] = [];
  const seen: number[] = [];
  const tuRebuilds: { osvd: Cell[]; make: Cell[]; ninja: Cell[] } = { osvd: [], make: [], ninja: [] };
  for (const [i, src] of sources.entries()) {
    appendTo(t, src, `\nint bench_edit_${i}(void) { return ${i}; }\n`);
    const d = await osvd.waitDirty();
    dirty.push(d.insideMs);
    seen.push(d.seenMs);
    tuRebuilds.osvd.push(await osvd.build());
    tuRebuilds.make.push(make.build());
    tuRebuilds.ninja.push(ninja.build());
  }
  facts.dirtySetMs = median(dirty);
  facts.dirtySetMaxMs = Math.max(...dirty);
  row('one TU edited: file event -> dirty set (in the daemon)', { osvdDaemon: { ms: median(dirty), note: `max ${Math.max(...dirty).toFixed(2)} ms over ${dirty.length} edits; a client sees it after ${median(seen).toFixed(0)} ms (watcher latency)` } });
  const tu = medians(tuRebuilds);
  row(`one TU edited: rebuild (median of ${sources.length})`, tu);
  stepRatio(facts, 'oneTu', tu, tuRebuilds);

  // A widely included header edited; status requests while osvd rebuilds.
  const { header, readers } = widelyIncludedHeader(t, args.headerShare);
  facts.header = header;
  facts.headerReaders = readers;
  // Edited four times. The first edit's osvd build is flooded with status requests (their latency
  // during a build is measured there), so it is not timed, for any tool: medians of the other three.
  const headerRebuilds: { osvd: Cell[]; make: Cell[]; ninja: Cell[] } = { osvd: [], make: [], ninja: [] };
  let busy: number[] = [];
  for (let i = 0; i < 4; i++) {
    appendTo(t, header, `\n/* bench edit ${i} */\n`);
    await osvd.waitDirty();
    let done = false;
    const building = osvd.build().finally(() => (done = true));
    if (i === 0) {
      await new Promise((r) => setTimeout(r, 50));
      busy = await osvd.statusTimes(args.requests, () => done);
      await building;
      make.build();
      ninja.build();
      continue;
    }
    headerRebuilds.osvd.push(await building);
    headerRebuilds.make.push(make.build());
    headerRebuilds.ninja.push(ninja.build());
  }
  facts.statusBusyP50 = median(busy);
  facts.statusBusyP99 = pct(busy, 99);
  facts.statusBusyCount = busy.length;
  const headerRow = medians(headerRebuilds);
  row(`header read by ${readers} TUs edited: rebuild (median of 3)`, headerRow);
  stepRatio(facts, 'header', headerRow, headerRebuilds);
  row('status request in the daemon, during that build (p50)', { osvdDaemon: { ms: median(busy), note: `p99 ${pct(busy, 99).toFixed(2)} ms over ${busy.length}` } });

  // A profile switch and back, three times (ninja: build.ninja written again for the profile, timed
  // apart, as osvd's `set` request is); medians of the three.
  if (compiler === 'stub') {
    const switches: Record<string, { osvd: Cell[]; make: Cell[]; ninja: Cell[] }> = {};
    for (let i = 0; i < 3; i++) {
      for (const profile of ['virtio-mmio', 'all']) {
        const ts = performance.now();
        await osvd.client!.request('set', { sets: [`conf_drivers_profile=${profile}`] });
        const setMs = performance.now() - ts;
        const o = await osvd.build();
        o.note = `+ ${setMs.toFixed(0)} ms for osvd set`;
        const m = make.build([`conf_drivers_profile=${profile}`]);
        const regen = ninja.writeFile(profile);
        const n = ninja.build();
        n.note = `+ ${regen.toFixed(0)} ms to write build.ninja`;
        const runs = (switches[profile] ??= { osvd: [], make: [], ninja: [] });
        runs.osvd.push(o);
        runs.make.push(m);
        runs.ninja.push(n);
      }
    }
    for (const [profile, runs] of Object.entries(switches)) {
      const cells = medians(runs);
      row(`profile -> ${profile} (median of ${runs.osvd.length})`, cells);
      stepRatio(facts, profile === 'all' ? 'switchBack' : 'switch', cells, runs);
    }
  }

  const mem = osvd.memory();
  facts.daemonRssMb = Math.round(mem.rssMb);
  facts.daemonPeakRssMb = Math.round(mem.hwmMb);
  facts.daemonRestRssMb = Math.round(await osvd.restingRssMb());
  const stateDir = path.join(t.osvd, 'build/.osvd');
  const dbMb = ['state.db', 'state.db-wal'].reduce((s, f) => s + (fs.existsSync(path.join(stateDir, f)) ? fs.statSync(path.join(stateDir, f)).size : 0), 0) / 2 ** 20;
  facts.databaseMb = Math.round(dbMb * 10) / 10;
  facts.storeMb = Math.round(dirSizeMb(path.join(stateDir, 'store')) * 10) / 10;
  row('daemon memory (RSS now / peak)', { osvdDaemon: { ms: NaN, note: `${mem.rssMb.toFixed(0)} MB / ${mem.hwmMb.toFixed(0)} MB; ${facts.daemonRestRssMb} MB once idle ${REST_S} s; database ${facts.databaseMb} MB, store ${facts.storeMb} MB` } });
  await osvd.stop();
  if (!args.keep) fs.rmSync(path.dirname(t.osvd), { recursive: true, force: true });
  return { tus, compiler, rows, facts };
}

/**
 * The daemon alone on a tree no tool has built (a 50,000-TU cold build takes each tool tens of
 * minutes on a loaded 2-core machine): start-up (import and plan), status requests, and the dirty
 * set after TU edits. Every action is already dirty, so an edit re-decides the same actions as on a
 * built tree (the TU and the link) but the daemon holds no last runs: its memory is a lower bound.
 */
async function benchDaemonOnly(args: Args, tus: number): Promise<SizeResult> {
  const size = `stub ${tus >= 1000 ? `${tus / 1000}k` : tus} (daemon only, ${args.built ? 'built' : 'not built'})`;
  const rows: Row[] = [];
  const facts: Record<string, number | string> = {};
  const dir = path.join(args.work, `stub-${tus}`, 'osvd');
  let info: TreeInfo;
  if (fs.existsSync(path.join(dir, 'synth-tree.json'))) {
    info = JSON.parse(fs.readFileSync(path.join(dir, 'synth-tree.json'), 'utf8')) as TreeInfo;
    if (!args.built) fs.rmSync(path.join(dir, 'build'), { recursive: true, force: true });
    log(`${size}: reusing the tree in ${dir}${args.built ? ', with its build' : ''}`);
  } else {
    log(`${size}: generating the tree`);
    info = generateTree(dir, { tus, seed: 1 });
  }
  fs.copyFileSync(compileFastStub(args.work), path.join(dir, STUB));
  writeConfig(dir, 'stub', args.jobs);
  const osvd = new OsvdTool(dir, args.jobs);
  const add = (step: string, cell: Cell): void => {
    rows.push({ size, step, osvdDaemon: cell, load: load() });
    log(`${size} ${step}: ${cell.ms.toFixed(2)} ms ${cell.note ?? ''}`);
  };
  const startMs = await osvd.start();
  facts.daemonStartMs = Math.round(startMs);
  add('daemon start (import by make, plan)', { ms: startMs });
  await osvd.statusTimes(50);
  const idle = await osvd.statusTimes(args.requests);
  facts.statusIdleP50 = median(idle);
  facts.statusIdleP99 = pct(idle, 99);
  add('status request in the daemon, idle (p50)', { ms: median(idle), note: `p99 ${pct(idle, 99).toFixed(2)} ms over ${idle.length}` });
  const t: Trees = { info, osvd: dir, make: dir, ninja: dir };
  const dirty: number[] = [];
  for (const [i, src] of tuSources(t, 5).entries()) {
    const s0 = await osvd.status();
    const seen = (s: StatusReport): boolean => (s.daemon.watcher?.lastEventAt ?? 0) !== (s0.daemon.watcher?.lastEventAt ?? 0) || s.daemon.lastUpdateMs !== s0.daemon.lastUpdateMs;
    fs.appendFileSync(path.join(dir, src), `\nint bench_edit_${i}(void) { return ${i}; }\n`);
    const t0 = performance.now();
    while (!seen(await osvd.status())) {
      if (performance.now() - t0 > 60_000) throw new Error('the daemon did not see the edit');
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 300)); // the watcher's settle delay, then the update
    dirty.push((await osvd.status()).daemon.lastUpdateMs ?? NaN);
  }
  if (args.built) {
    // The edits above, then one more TU alone: the rebuilds through the daemon (osvd only).
    const edits = await osvd.build();
    add(`the ${dirty.length} TUs edited: rebuild`, { ms: edits.ms, ran: edits.ran });
    const [one] = tuSources(t, 7).slice(-1);
    fs.appendFileSync(path.join(dir, one!), '\nint bench_edit_last(void) { return 0; }\n');
    await osvd.waitDirty();
    const rebuild = await osvd.build();
    add('one TU edited: rebuild', { ms: rebuild.ms, ran: rebuild.ran });
    facts.oneTuRebuildMs = rebuild.ms;
  }
  const mode = (await osvd.status()).daemon.watcher?.mode ?? 'off';
  facts.watcherMode = mode;
  facts.dirtySetMs = median(dirty);
  facts.dirtySetMaxMs = Math.max(...dirty);
  add('one TU edited: file event -> dirty set (in the daemon)', {
    ms: median(dirty),
    note: `max ${Math.max(...dirty).toFixed(2)} ms over ${dirty.length} edits; watcher: ${mode}${mode === 'polling' ? ' (the stat scan that found the edit is not counted)' : ''}`,
  });
  const mem = osvd.memory();
  facts.daemonRssMb = Math.round(mem.rssMb);
  facts.daemonPeakRssMb = Math.round(mem.hwmMb);
  facts.daemonRestRssMb = Math.round(await osvd.restingRssMb());
  add('daemon memory (RSS now / peak)', { ms: NaN, note: `${mem.rssMb.toFixed(0)} MB / ${mem.hwmMb.toFixed(0)} MB; ${facts.daemonRestRssMb} MB once idle ${REST_S} s${args.built ? '' : ' (no last runs held: a lower bound)'}` });
  await osvd.stop();
  return { tus, compiler: 'stub', daemonOnly: true, built: args.built, rows, facts };
}

// ---------------------------------------------------------------------------------------------
// Report

function fmt(c: Cell | undefined): string {
  if (!c) return '';
  if (Number.isNaN(c.ms)) return '';
  const t = c.ms >= 10_000 ? `${(c.ms / 1000).toFixed(1)} s` : c.ms >= 100 ? `${c.ms.toFixed(0)} ms` : `${c.ms.toFixed(2)} ms`;
  const acts = c.ran !== undefined ? ` [${c.ran}${c.restored ? `+${c.restored}r` : ''}]` : '';
  return t + acts;
}

function printTable(results: SizeResult[]): void {
  const header = ['size', 'step', 'osvd one-shot', 'osvd daemon', 'make', 'ninja', 'osvd/make', 'osvd/ninja', 'load', 'notes'];
  const lines: string[][] = [header];
  for (const r of results) {
    for (const row of r.rows) {
      const best = row.osvdDaemon && !Number.isNaN(row.osvdDaemon.ms) ? row.osvdDaemon : row.osvd;
      const ratio = (other: Cell | undefined): string => (best && other && other.ms > 0 ? `${(best.ms / other.ms).toFixed(2)}x` : '');
      const notes = [row.osvd?.note, row.osvdDaemon?.note, row.make?.note ? `make: ${row.make.note}` : '', row.ninja?.note ? `ninja: ${row.ninja.note}` : ''].filter(Boolean).join('; ');
      lines.push([row.size, row.step, fmt(row.osvd), fmt(row.osvdDaemon), fmt(row.make), fmt(row.ninja), ratio(row.make), ratio(row.ninja), row.load.split(' ')[0]!, notes]);
    }
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => (i === header.length - 1 ? 0 : l[i]!.length))));
  for (const l of lines) console.log(l.map((c, i) => (i === l.length - 1 ? c : i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  console.log('[n] = actions run, +Nr = restored from the store; ratios use osvd through the daemon where measured, else one-shot.');
}

function goals(results: SizeResult[]): Goal[] {
  return [...stubGoals(results), ...overheadGoals(results)];
}

/** Every size's, the real compiler's too: what osvd adds to the commands' time, per action, in a cold one-shot build. */
function overheadGoals(results: SizeResult[]): Goal[] {
  const f = (r: SizeResult, k: string): number => Number(r.facts[k]);
  return results
    .filter((r) => !r.daemonOnly)
    .map((r) => ({
      goal: `scheduling overhead < 2 ms per action (${r.compiler}, ${r.tus} TUs, cold)`,
      measured: `${f(r, 'overheadMsPerActionOsvd').toFixed(2)} ms, ${f(r, 'overheadInBuildMsPerActionOsvd').toFixed(2)} of it in the build (make ${f(r, 'overheadMsPerActionMake').toFixed(2)}, ninja ${f(r, 'overheadMsPerActionNinja').toFixed(2)})`,
      pass: f(r, 'overheadMsPerActionOsvd') < 2,
    }));
}

/** The goals of the runs with the stub compiler. */
function stubGoals(results: SizeResult[]): Goal[] {
  const all = results.filter((r) => r.compiler === 'stub').sort((a, b) => a.tus - b.tus);
  const stub = all.filter((r) => !r.daemonOnly);
  const out: Goal[] = [];
  if (all.length === 0) return out;
  // The daemon's own goals at the largest size it ran at (built or not); the comparisons with make and
  // ninja at the largest size all three built.
  const daemonBig = all[all.length - 1]!;
  const small = all[0]!;
  const f = (r: SizeResult, k: string): number => Number(r.facts[k]);
  const dAt = `at ${daemonBig.tus} TUs${daemonBig.daemonOnly ? (daemonBig.built ? ' (daemon only, built tree)' : ' (tree not built)') : ''}`;
  const busy = daemonBig.daemonOnly ? '' : `; during a build p50 ${f(daemonBig, 'statusBusyP50').toFixed(2)}, p99 ${f(daemonBig, 'statusBusyP99').toFixed(2)}`;
  out.push({ goal: `in-daemon status p50 < 2 ms ${dAt}`, measured: `${f(daemonBig, 'statusIdleP50').toFixed(2)} ms (p99 ${f(daemonBig, 'statusIdleP99').toFixed(2)}${busy})`, pass: f(daemonBig, 'statusIdleP50') < 2 });
  out.push({ goal: `dirty set after one edit < 20 ms ${dAt}`, measured: `${f(daemonBig, 'dirtySetMs').toFixed(2)} ms (max ${f(daemonBig, 'dirtySetMaxMs').toFixed(2)})`, pass: f(daemonBig, 'dirtySetMaxMs') < 20 });
  if (all.length > 1) {
    const growth = f(daemonBig, 'dirtySetMs') / f(small, 'dirtySetMs');
    out.push({ goal: `dirty set grows with the change, not the tree (${small.tus} -> ${daemonBig.tus} TUs, x${daemonBig.tus / small.tus})`, measured: `${f(small, 'dirtySetMs').toFixed(2)} -> ${f(daemonBig, 'dirtySetMs').toFixed(2)} ms (x${growth.toFixed(1)})`, pass: growth < 3 });
  }
  if (daemonBig.daemonOnly) {
    out.push({
      goal: `daemon RSS < 400 MB ${dAt}`,
      measured: `${f(daemonBig, 'daemonRssMb')} MB (peak ${f(daemonBig, 'daemonPeakRssMb')} MB, ${f(daemonBig, 'daemonRestRssMb')} MB once idle)${daemonBig.built ? '' : '; a lower bound: no last runs held'}`,
      pass: daemonBig.built ? f(daemonBig, 'daemonRssMb') < 400 : null,
    });
  }
  if (stub.length === 0) return out;
  const big = stub[stub.length - 1]!;
  const at = `at ${big.tus} TUs`;
  out.push({ goal: `no-op through the daemon >= 10x faster than ninja's ${at}`, measured: `${f(big, 'noopDaemonMs').toFixed(1)} vs ${f(big, 'noopNinjaMs').toFixed(0)} ms (${(f(big, 'noopNinjaMs') / f(big, 'noopDaemonMs')).toFixed(1)}x)`, pass: f(big, 'noopNinjaMs') / f(big, 'noopDaemonMs') >= 10 });
  for (const r of stub) {
    out.push({ goal: `no-op through the daemon >= 10x faster than make's at ${r.tus} TUs`, measured: `${f(r, 'noopDaemonMs').toFixed(1)} vs ${f(r, 'noopMakeMs').toFixed(0)} ms (${(f(r, 'noopMakeMs') / f(r, 'noopDaemonMs')).toFixed(1)}x)`, pass: f(r, 'noopMakeMs') / f(r, 'noopDaemonMs') >= 10 });
  }
  for (const r of stub) {
    out.push({ goal: `cold build with the stub <= 1.2x ninja's at ${r.tus} TUs`, measured: `${f(r, 'coldRatioOsvdNinja').toFixed(2)}x`, pass: f(r, 'coldRatioOsvdNinja') <= 1.2 });
  }
  const steps: [string, string][] = [['oneTu', 'one TU edited'], ['header', 'widely included header edited'], ['switch', 'profile switch'], ['switchBack', 'profile switch back']];
  for (const r of stub) {
    for (const [k, what] of steps) {
      if (r.facts[`${k}OsvdMs`] === undefined) continue;
      const ratio = f(r, `${k}OsvdMs`) / f(r, `${k}NinjaMs`);
      out.push({ goal: `${what}: rebuild through the daemon <= 1.0x ninja's at ${r.tus} TUs`, measured: `${ratio.toFixed(2)}x (${f(r, `${k}OsvdMs`).toFixed(0)} vs ${f(r, `${k}NinjaMs`).toFixed(0)} ms)`, pass: ratio <= 1.0 });
    }
  }
  // Kept or beaten from the last full run (BENCHMARKS.md, 2026-11-27: 22.3 s and 23 s at 50,000 TUs).
  const at50k = all.filter((r) => r.tus >= 50_000);
  for (const r of at50k.filter((x) => !x.daemonOnly)) {
    out.push({ goal: `one-shot no-op < 22.3 s (the last full run's) at ${r.tus} TUs`, measured: `${(f(r, 'noopOneShotMs') / 1000).toFixed(1)} s (ninja ${(f(r, 'noopNinjaMs') / 1000).toFixed(1)} s)`, pass: f(r, 'noopOneShotMs') < 22_300 });
  }
  for (const r of at50k) {
    out.push({ goal: `daemon start < 23 s (the last full run's) at ${r.tus} TUs${r.daemonOnly ? ' (daemon only)' : ''}`, measured: `${(f(r, 'daemonStartMs') / 1000).toFixed(1)} s`, pass: f(r, 'daemonStartMs') < 23_000 });
  }
  out.push({ goal: `daemon RSS < 400 MB ${at}`, measured: `${f(big, 'daemonRssMb')} MB (peak ${f(big, 'daemonPeakRssMb')} MB, ${f(big, 'daemonRestRssMb')} MB once idle)`, pass: f(big, 'daemonRssMb') < 400 });
  for (const g of out) {
    const n = /at (\d+) TUs/.exec(g.goal);
    // The incremental steps' and the cold build's goals hold at every size (issue 14: at 1k and 10k).
    if (n && Number(n[1]) < 50_000 && !/<= 1\.[02]x ninja/.test(g.goal)) g.goal += ' [goal is set at 50,000 TUs]';
  }
  return out;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const machine = `${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GB, node ${process.version}, ${spawnSync('make', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]}, ninja ${spawnSync('ninja', ['--version'], { encoding: 'utf8' }).stdout.trim()}`;
  log(`${args.full ? 'full' : 'preset'} run: sizes ${args.sizes.join(', ')} (stub)${args.real ? `, ${args.real} (real g++)` : ''}, -j${args.jobs}, work in ${args.work}`);
  fs.mkdirSync(args.work, { recursive: true });
  const results: SizeResult[] = [];
  const failures: string[] = [];
  try {
    // A size that fails is reported as failed; the others are still measured.
    const attempt = async (what: string, f: () => Promise<SizeResult>): Promise<void> => {
      try {
        results.push(await f());
      } catch (err) {
        log(`${what} FAILED: ${(err as Error).stack ?? String(err)}`);
        failures.push(`${what}: ${(err as Error).message.split('\n')[0]}`);
      }
    };
    for (const tus of args.sizes) await attempt(`stub ${tus}`, () => benchSize(args, tus, 'stub'));
    for (const tus of args.daemonOnly) await attempt(`stub ${tus} (daemon only)`, () => benchDaemonOnly(args, tus));
    if (args.real > 0) await attempt(`real ${args.real}`, () => benchSize(args, args.real, 'real'));
  } finally {
    if (!args.keep) fs.rmSync(args.work, { recursive: true, force: true });
  }
  console.log(`\nosvd scale benchmark (${args.full ? 'full' : 'preset'}), ${new Date().toISOString()}, ${((Date.now() - started) / 1000).toFixed(0)} s`);
  console.log(`machine: ${machine}; -j${args.jobs}; load at start of each step in the 'load' column (1-min average)\n`);
  printTable(results);
  for (const f of failures) console.log(`FAILED ${f}`);
  const g = goals(results);
  console.log('\ngoals');
  const w = Math.max(...g.map((x) => x.goal.length));
  for (const x of g) console.log(`  ${x.pass === null ? '    ' : x.pass ? 'pass' : 'FAIL'}  ${x.goal.padEnd(w)}  ${x.measured}`);
  const out = path.join(REPO, 'bench', 'results', `${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ full: args.full, machine, jobs: args.jobs, results, failures, goals: g }, null, 2));
  console.log(`\nwrote ${path.relative(REPO, out)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
