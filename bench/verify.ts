/**
 * What it costs a daemon build not to trust a view that could have missed events: the stat of every
 * path the graph reads (the folder watcher's builds pay it every time), against the daemon build's
 * own time, with each backend, on a built synthetic tree (bench/synth, the fast stub compiler):
 *
 *  - in-process: how many paths are tracked, and one check of them all (lstat each against what was
 *    seen last), wall and CPU time, median of 9;
 *  - through the real daemon, for the folder watcher and for watchman (a private server, when
 *    installed): a no-op `build` request and the rebuild after one TU is edited, median of 9 and 3.
 *
 *   node dist/bench/verify.js --tree DIR     (a tree built by osvd with the stub compiler)
 *   node dist/bench/verify.js --tus 1200 [--work DIR]   (generates and builds one first)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LivePlan } from '../graph/plan.js';
import { DaemonClient } from '../daemon/client.js';
import { Session } from '../daemon/session.js';
import { changedPaths, trackedPaths } from '../daemon/trackedPaths.js';
import { generateTree } from './synth/generate.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OSVD = path.join(REPO, 'bin', 'osvd.js');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function osvd(root: string, args: string[], env: Record<string, string> = {}): string {
  const r = spawnSync(process.execPath, [OSVD, ...args, '--root', root], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`osvd ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

function prepare(): string {
  const tree = arg('--tree');
  if (tree) return path.resolve(tree);
  const tus = Number(arg('--tus') ?? 1200);
  const root = path.join(arg('--work') ?? fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-bench-verify-')), `t${tus}`);
  if (!fs.existsSync(path.join(root, 'synth-tree.json'))) {
    generateTree(root, { tus, seed: 1 });
    const stub = path.join(root, 'scripts/fast-stub-cc');
    spawnSync('gcc', ['-O2', '-o', stub, path.join(REPO, 'bench/synth/fast-stub-cc.c')]);
    fs.writeFileSync(path.join(root, 'osv.config.ts'), "import { defineConfig } from 'osvd';\nexport default defineConfig({ jobs: 2, makeVars: { COMPILER: 'stub', STUB: 'scripts/fast-stub-cc' } });\n");
    osvd(root, ['build', '--no-daemon', '--quiet']);
  }
  return root;
}

async function checkInProcess(root: string): Promise<{ paths: number; wallMs: number; cpuMs: number }> {
  const session = await Session.open({ cwd: root, root });
  try {
    const loaded = await session.graph(session.project());
    const plan = new LivePlan(loaded.graph, session.services, loaded.project.knobs);
    const paths = [...trackedPaths(loaded, plan, session.base.configFiles)];
    for (const p of paths) session.files.hash(p);
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < 9; i++) {
      const cpu = process.cpuUsage();
      const t = performance.now();
      const { changed } = await changedPaths(session.files, paths);
      walls.push(performance.now() - t);
      const used = process.cpuUsage(cpu);
      cpus.push((used.user + used.system) / 1000);
      if (changed.length) throw new Error(`a quiet tree reported ${changed.length} changed paths`);
    }
    return { paths: paths.length, wallMs: median(walls), cpuMs: median(cpus) };
  } finally {
    session.close();
  }
}

/** A private watchman server (its socket in a temporary folder), or undefined when watchman is not installed. */
function privateWatchman(): { sock: string; stop: () => void } | undefined {
  if (spawnSync('watchman', ['--version']).status !== 0) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-bench-wm-'));
  const args = [`--sockname=${dir}/sock`, `--statefile=${dir}/state`, `--logfile=${dir}/log`, `--pidfile=${dir}/pid`, '--no-save-state'];
  spawnSync('watchman', [...args, 'get-sockname']);
  return {
    sock: `${dir}/sock`,
    stop: () => {
      spawnSync('watchman', [...args, 'shutdown-server']);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function throughDaemon(root: string, env: Record<string, string>, sources: string[]): Promise<{ noopMs: number; editMs: number }> {
  const { pid } = JSON.parse(osvd(root, ['start', '--json'], env)) as { pid: number };
  const client = (await DaemonClient.find(path.join(root, 'build/.osvd')))!;
  try {
    await client.request('build');
    const noop: number[] = [];
    for (let i = 0; i < 9; i++) {
      const t = performance.now();
      await client.request('build');
      noop.push(performance.now() - t);
    }
    const edit: number[] = [];
    for (const src of sources) {
      fs.appendFileSync(path.join(root, src), `\nint bench_verify_${path.basename(src).replace(/\W/g, '_')}_${Date.now()}(void) { return 0; }\n`);
      const t = performance.now();
      await client.request('build');
      edit.push(performance.now() - t);
    }
    return { noopMs: median(noop), editMs: median(edit) };
  } finally {
    client.close();
    osvd(root, ['stop']);
    // `osvd stop` may return before the process has exited.
    while (alive(pid)) await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  const root = prepare();
  const info = JSON.parse(fs.readFileSync(path.join(root, 'synth-tree.json'), 'utf8')) as { tus: number; objectsByProfile: Record<string, string[]> };
  const sources = info.objectsByProfile
    .all!.filter((o) => !o.includes('/drivers/'))
    .slice(10, 13)
    .map((o) => o.replace(/^build\/[^/]+\//, '').replace(/\.o$/, ''))
    .map((rel) => ['.c', '.cc'].map((e) => rel + e).find((f) => fs.existsSync(path.join(root, f)))!)
    .filter(Boolean);
  const load = (): string => os.loadavg()[0]!.toFixed(2);
  const check = await checkInProcess(root);
  console.log(`${info.tus} TUs: ${check.paths} tracked paths; one check of them all: ${check.wallMs.toFixed(1)} ms wall, ${check.cpuMs.toFixed(1)} ms CPU (load ${load()})`);
  const folders = await throughDaemon(root, { OSVD_WATCHER: 'folders' }, sources);
  console.log(`folder watcher (checks every build): no-op build request ${folders.noopMs.toFixed(1)} ms, one TU edited ${folders.editMs.toFixed(0)} ms (load ${load()})`);
  const wm = privateWatchman();
  let watchman: { noopMs: number; editMs: number } | undefined;
  if (wm) {
    try {
      watchman = await throughDaemon(root, { OSVD_WATCHER: 'watchman', WATCHMAN_SOCK: wm.sock }, sources);
      console.log(`watchman (checks only what it cannot vouch for): no-op build request ${watchman.noopMs.toFixed(1)} ms, one TU edited ${watchman.editMs.toFixed(0)} ms (load ${load()})`);
    } finally {
      wm.stop();
    }
  } else console.log('watchman: not installed');
  const out = path.join(REPO, 'bench', 'results', `verify-${info.tus}-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ tus: info.tus, check, folders, watchman, machine: `${os.cpus()[0]?.model} x${os.cpus().length}`, node: process.version }, null, 2));
}

void main();
