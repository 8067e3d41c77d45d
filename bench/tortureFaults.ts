/**
 * The faults a torture round provokes (see torture.ts): osvd killed at a random moment, killed at a
 * named point (OSVD_CRASH_AT), killed while compiles are held at a gate (they run on), two builds
 * of one tree at once, Ctrl-C of a client of the daemon. Each returns when the fault is over: the
 * killed process is gone, or the builds and clients have ended.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { killGroups, notedGroups } from '../base/jobGroups.js';
import { isAlive, liveProcessGroups } from '../base/process.js';
import { gatedCompilers, type Gate } from './gate.js';

const REPO = ((): string => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();
export const OSVD = path.join(REPO, 'bin', 'osvd.js');

export type Mode = 'daemon' | 'one-shot';

export interface FaultOutcome {
  readonly afterMs: number;
  /** Whether the fault came while a build still ran. */
  readonly midBuild: boolean;
  /** What the fault itself got wrong (a build of two at once that failed, a build that went on after Ctrl-C). */
  readonly problems: string[];
  /** Compiles left held at a gate by a killed osvd (an 'orphans' round): the gate opens after the rebuild. */
  readonly orphans?: { readonly pids: number[]; readonly gate: Gate };
  /** The TUs the fault edited (and reverted). */
  readonly edited?: string;
}

/** No log to stderr; the daemon watches folders unless OSVD_WATCHER says otherwise (never the user's watchman). */
function torturedEnv(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, OSVD_LOG: '', OSVD_WATCHER: process.env.OSVD_WATCHER ?? 'folders', ...env };
}

export function osvdSync(root: string, args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [OSVD, ...args, '--root', root], { cwd: root, encoding: 'utf8', env: torturedEnv(env), timeout: 300_000 });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function startDaemon(root: string, env: Record<string, string> = {}): number {
  const r = osvdSync(root, ['start', '--json'], env);
  if (r.code !== 0) throw new Error(`osvd start failed: ${r.stdout}${r.stderr}`);
  return (JSON.parse(r.stdout) as { pid: number }).pid;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Wait until no process of the group runs (zombies excluded). */
async function groupGone(pgid: number): Promise<void> {
  for (let i = 0; i < 400 && liveProcessGroups().has(pgid); i++) await sleep(25);
}

interface Started {
  readonly child: ReturnType<typeof spawn>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  done: boolean;
  stderr: string;
}

/** `osvd build` in the background; a one-shot build leads its own process group (as a terminal's job would). */
function startBuild(root: string, sets: readonly string[], mode: Mode, env: Record<string, string> = {}): Started {
  const args = [OSVD, 'build', '--root', root, ...sets.flatMap((s) => ['--set', s])];
  if (mode === 'one-shot') args.push('--no-daemon');
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'], detached: mode === 'one-shot', env: torturedEnv(env) });
  const started: Started = {
    child,
    exited: new Promise((resolve) => child.on('close', (code, signal) => ((started.done = true), resolve({ code, signal })))),
    done: false,
    stderr: '',
  };
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => (started.stderr += chunk));
  return started;
}

/**
 * Resolve at a random moment of the build: early (its start: the config, the import), or once a
 * random fraction of its actions finished (read from its progress lines) plus a little jitter.
 */
function randomMoment(build: Started, random: () => number): Promise<void> {
  const early = random() < 0.2;
  const fraction = random();
  const jitterMs = random() * 250;
  const earlyMs = random() * 2000;
  return new Promise<void>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const fire = (ms: number): void => {
      if (!timer) timer = setTimeout(resolve, ms);
    };
    if (early) fire(earlyMs);
    let seen = 0;
    const scan = (): void => {
      const lines = build.stderr.split('\n');
      for (; seen < lines.length - 1; seen++) {
        const m = /^\[(\d+)\/(\d+)\]/.exec(lines[seen]!);
        if (m && !early && Number(m[1]) >= fraction * Number(m[2])) fire(jitterMs);
      }
    };
    build.child.stderr!.on('data', scan);
    void build.exited.then(() => resolve());
  });
}

/**
 * SIGKILL at a random moment: osvd's process group, and with `powerCut` the groups of the commands
 * it started as well (a power cut); without, they run on, and the next osvd must stop them.
 */
export async function killAtRandom(root: string, mode: Mode, sets: readonly string[], random: () => number, powerCut: boolean): Promise<FaultOutcome> {
  const pgid = mode === 'daemon' ? startDaemon(root) : 0;
  const started = performance.now();
  const build = startBuild(root, sets, mode);
  await randomMoment(build, random);
  const afterMs = Math.round(performance.now() - started);
  const midBuild = !build.done;
  const victim = pgid || build.child.pid!;
  try {
    process.kill(-victim, 'SIGKILL');
  } catch {
    // already gone
  }
  await groupGone(victim);
  if (powerCut) killGroups(notedGroups(path.join(root, 'build/.osvd/tmp', String(victim))));
  if (!build.done) await build.exited;
  return { afterMs, midBuild, problems: [] };
}

/** osvd kills itself at a named point of its build (base/crashPoint.ts); its commands run on. */
export async function crashAt(root: string, mode: Mode, sets: readonly string[], point: string): Promise<FaultOutcome> {
  const env = { OSVD_CRASH_AT: point };
  const started = performance.now();
  const daemon = mode === 'daemon' ? startDaemon(root, env) : 0;
  const build = startBuild(root, sets, mode, mode === 'one-shot' ? env : {});
  const { signal } = await build.exited;
  // The client may see the daemon's socket close before the dying daemon is reaped.
  const crashed = mode === 'daemon' ? build.stderr.includes('the daemon closed the connection before answering') : signal === 'SIGKILL';
  for (let i = 0; i < 400 && daemon && crashed && isAlive(daemon); i++) await sleep(25);
  return { afterMs: Math.round(performance.now() - started), midBuild: crashed, problems: [] };
}

/** osvd is SIGKILLed (it alone) while compiles are held at a gate: they live on, held, until the round opens the gate. */
export async function killWithCompilersHeld(root: string, mode: Mode, sets: readonly string[]): Promise<FaultOutcome> {
  const gate = gatedCompilers();
  const started = performance.now();
  const daemon = mode === 'daemon' ? startDaemon(root, { PATH: gate.path }) : 0;
  const build = startBuild(root, sets, mode, { PATH: gate.path });
  for (let i = 0; i < 2400 && gate.started().length === 0 && !build.done; i++) await sleep(25);
  const pids = gate.started();
  const afterMs = Math.round(performance.now() - started);
  if (daemon || !build.done) process.kill(daemon || build.child.pid!, 'SIGKILL');
  await build.exited;
  for (let i = 0; i < 400 && daemon && isAlive(daemon); i++) await sleep(25);
  const problems = pids.length ? [] : [`no compile reached the gate before the build ended: ${build.stderr.trim().split('\n').slice(-3).join(' | ')}`];
  return { afterMs, midBuild: pids.length > 0, problems, orphans: { pids, gate } };
}

/**
 * Two builds of other knobs in one tree at once: `first` (one-shot, or through the daemon), then,
 * after a random delay, a one-shot build of `second`. Both must succeed (one waits for the other).
 */
export async function twoBuildsAtOnce(root: string, mode: Mode, first: readonly string[], second: readonly string[], random: () => number): Promise<FaultOutcome> {
  if (mode === 'daemon') startDaemon(root);
  const started = performance.now();
  const a = startBuild(root, first, mode);
  await sleep(random() * 1500);
  const b = startBuild(root, second, 'one-shot');
  const afterMs = Math.round(performance.now() - started);
  const midBuild = !a.done;
  const problems: string[] = [];
  for (const [name, build] of [['the first', a], ['the second', b]] as const) {
    const { code } = await build.exited;
    if (code !== 0) problems.push(`${name} of two builds at once exited ${code}: ${build.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  return { afterMs, midBuild, problems };
}

const BUILD_TOOLS = new Set(['cc1', 'cc1plus', 'as', 'ld', 'collect2', 'gcc', 'g++', 'make', 'objcopy', 'nm']);

/** Build tools (compilers, the linker, make) running in the tree. */
export function buildToolsIn(root: string): string[] {
  const found: string[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cwd = fs.readlinkSync(`/proc/${name}/cwd`);
      if (cwd !== root && !cwd.startsWith(root + '/')) continue;
      const comm = fs.readFileSync(`/proc/${name}/comm`, 'utf8').trim();
      if (BUILD_TOOLS.has(comm) && isAlive(Number(name))) found.push(`${comm} (pid ${name})`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/**
 * Ctrl-C (SIGINT) of a client of the daemon at a random moment: when the client has exited, the
 * daemon's build has stopped and none of its compilers runs. The daemon stays up for the rebuild.
 */
export async function ctrlCOfClient(root: string, sets: readonly string[], random: () => number): Promise<FaultOutcome> {
  startDaemon(root);
  const started = performance.now();
  const client = startBuild(root, sets, 'daemon');
  await randomMoment(client, random);
  const afterMs = Math.round(performance.now() - started);
  const midBuild = !client.done;
  if (midBuild) client.child.kill('SIGINT');
  const { code, signal } = await client.exited;
  const problems: string[] = [];
  // 0: the build ended before the signal; killed by SIGINT: the signal came before osvd listened for it.
  if (!(code === 130 || code === 0 || signal === 'SIGINT')) problems.push(`the client exited ${code ?? signal} on Ctrl-C: ${client.stderr.trim().split('\n').slice(-2).join(' | ')}`);
  const status = osvdSync(root, ['status', '--json']);
  try {
    if ((JSON.parse(status.stdout) as { building: unknown }).building) problems.push('the daemon still builds after its client was stopped with Ctrl-C');
  } catch {
    problems.push(`osvd status failed after Ctrl-C: ${status.stderr}`);
  }
  const tools = buildToolsIn(root);
  if (tools.length) problems.push(`build tools still run after Ctrl-C: ${tools.join(', ')}`);
  return { afterMs, midBuild, problems };
}
