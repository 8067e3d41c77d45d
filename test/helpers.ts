import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { gatedCompilers as openGate, type Gate } from '../bench/gate.js';
import { sha } from '../bench/treeHash.js';

export type { Gate };
export { hashTree, sha } from '../bench/treeHash.js';

/** Shared by the suites: fresh copies of the example tree, and the real osvd and make run on them. */
export const REPO = path.resolve(__dirname, '..');
export const EXAMPLE = path.join(REPO, 'examples', 'mini-osv');
export const OUT = 'build/release.x64';
/** The example kernel's link chain: what a new loader.elf reruns (as OSv's: strip, lz, lzloader, vmlinuz). */
export const KERNEL_CHAIN = [`${OUT}/loader.elf`, `${OUT}/loader-stripped.elf`, `${OUT}/loader-stripped.elf.lz.o`, `${OUT}/lzloader.elf`, `${OUT}/vmlinuz.bin`];
/** The links among them. */
export const CHAIN_LINKS = [`${OUT}/loader.elf`, `${OUT}/lzloader.elf`];
const OSVD = path.join(REPO, 'bin', 'osvd.js');

const made: string[] = [];
const gates: Gate[] = [];

/** A fresh copy of examples/mini-osv (without build outputs) in a temporary folder. */
export function copyExample(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-test-'));
  fs.cpSync(EXAMPLE, dir, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(EXAMPLE, src);
      return !(rel === 'build' || rel.startsWith('build/') || rel.endsWith('.so'));
    },
  });
  made.push(dir);
  return dir;
}

export function removeCopies(): void {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  for (const g of gates.splice(0)) {
    g.open();
    g.remove();
  }
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function osvd(root: string, args: string[]): RunResult {
  const r = spawnSync(process.execPath, [OSVD, ...args, '--root', root], { cwd: root, encoding: 'utf8', env: { ...process.env, OSVD_LOG: '' }, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export interface BuildJson {
  ok: boolean;
  ran: { output: string; kind: string; reason: string; reasons: { type: string; added?: string[]; removed?: string[]; context?: { name: string }[] }[] }[];
  restored: { output: string; kind: string }[];
  /** Compiles kept because their preprocessed input was unchanged. */
  cutoff: { output: string; kind: string; reason: string }[];
  upToDate: number;
  failed: { output: string; kind: string; source?: string; message: string; exitCode: number | null }[];
  skipped: string[];
  durationMs: number;
  /** Whether the Makefile was imported again for this build (not taken from the database), and how long that took. */
  import?: { cached: boolean; ms: number };
}

/** `osvd build --json` with knobs; throws with osvd's output when it could not run at all. */
export function build(root: string, ...sets: string[]): BuildJson & { code: number | null } {
  return buildEnv(root, {}, ...sets);
}

/** build() from a shell with these variables too (a daemon refuses a client that would build differently). */
export function buildEnv(root: string, env: Record<string, string>, ...sets: string[]): BuildJson & { code: number | null } {
  const r = osvdEnv(root, ['build', '--json', ...sets.flatMap((s) => ['--set', s])], { OSVD_LOG: '', ...env });
  let parsed: BuildJson;
  try {
    parsed = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as BuildJson;
  } catch {
    throw new Error(`osvd build printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...parsed, code: r.code };
}

export function make(root: string, args: string[]): RunResult {
  const r = spawnSync('make', args, { cwd: root, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Outputs of the actions that ran, by kind. */
export function ranOf(r: BuildJson, kind?: string): string[] {
  return r.ran.filter((e) => kind === undefined || e.kind === kind).map((e) => e.output).sort();
}

/**
 * Compiles that ran or were kept because their preprocessed input was unchanged: the TUs a build had to
 * look at. Which of the two a TU is depends, by default, on recorded durations (preprocess: 'auto').
 */
export function compiledOrKept(r: BuildJson): string[] {
  return [...ranOf(r, 'compile'), ...r.cutoff.map((e) => e.output)].sort();
}

export function restoredOf(r: BuildJson, kind?: string): string[] {
  return r.restored.filter((e) => kind === undefined || e.kind === kind).map((e) => e.output).sort();
}

/** The objects make would link into loader.elf for these make variables, from make's own dry run (its link line). */
export function kernelObjects(root: string, vars: string[]): string[] {
  const r = make(root, ['-n', '-B', 'V=1', ...vars, `${OUT}/loader.elf`]);
  if (r.code !== 0) throw new Error(`make -n failed: ${r.stderr}`);
  const link = r.stdout.split('\n').find((l) => l.includes(` -o ${OUT}/loader.elf `));
  if (!link) throw new Error(`no link of loader.elf in make's dry run:\n${r.stdout.slice(-2000)}`);
  return [...new Set(link.split(/\s+/).filter((w) => w.endsWith('.o')))].sort();
}

/** Sources that include <osv/drivers_config.h>, as object paths. */
export function driversConfigIncluders(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = dir ? `${dir}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (rel !== 'build' && rel !== 'apps') walk(rel);
      } else if (/\.(c|cc|S)$/.test(e.name) && fs.readFileSync(path.join(root, rel), 'utf8').includes('osv/drivers_config.h')) {
        out.push(`${OUT}/${rel.replace(/\.(c|cc|S)$/, '.o')}`);
      }
    }
  };
  walk('');
  return out.sort();
}

/**
 * Outputs whose depfile names `header`: the depfile's target (an object, or what a compile-and-link
 * recipe writes, such as libvdso.so).
 */
export function depfileReaders(root: string, header: string): string[] {
  const readers: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory()) walk(r);
      else if (e.name.endsWith('.d')) {
        const text = fs.readFileSync(path.join(root, r), 'utf8').replace(/\\\n/g, ' ');
        const firstRule = text.split('\n')[0]!;
        const [target, ...prerequisites] = firstRule.split(/\s+/);
        if (prerequisites.includes(header)) readers.push(target!.replace(/:$/, ''));
      }
    }
  };
  walk(OUT);
  return readers.sort();
}

export function appendTo(root: string, rel: string, text: string): void {
  fs.appendFileSync(path.join(root, rel), text);
}

export function osvdEnv(root: string, args: string[], env: Record<string, string>): RunResult {
  const r = spawnSync(process.execPath, [OSVD, ...args, '--root', root], { cwd: root, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Run osvd without waiting (for concurrent clients). */
export function osvdAsync(root: string, args: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [OSVD, ...args, '--root', root], { cwd: root });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface StatusJson {
  daemon: { running: boolean; pid?: number; importFailure?: string | null; watcher?: { mode: string; backend?: string; healthy: boolean; problem?: string; fix?: string }; verifying?: string | null; reimporting?: string | null; replanning?: string | null; autoBuild?: boolean; lastUpdateMs?: number };
  knobs: Record<string, string>;
  liveKnobs: Record<string, string>;
  dirty: { run: number; restore: number; pending: number; upToDate: number };
  graph: { actions: number; byKind: Record<string, number> };
  building: { finished: number; total: number } | null;
  lastBuild: { ok: boolean; ran: number; ranOutputs?: string[]; knobs: Record<string, string> } | null;
  builds: number;
}

export function status(root: string, ...sets: string[]): StatusJson {
  const r = osvd(root, ['status', '--json', ...sets.flatMap((s) => ['--set', s])]);
  if (r.code !== 0) throw new Error(`osvd status failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as StatusJson;
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const daemons = new Set<string>();

/**
 * Start the tree's daemon. It watches folders unless `env` says otherwise: a test never reaches the
 * user's watchman (the watchman tests start their own, on a socket of their own).
 */
export function startDaemon(root: string, env: Record<string, string> = {}, ...args: string[]): number {
  const r = osvdEnv(root, ['start', '--json', ...args], { OSVD_WATCHER: 'folders', ...env });
  if (r.code !== 0) throw new Error(`osvd start failed: ${r.stdout}${r.stderr}`);
  daemons.add(root);
  return (JSON.parse(r.stdout) as { pid: number }).pid;
}

export function stopDaemons(): void {
  for (const root of daemons) osvd(root, ['stop']);
  daemons.clear();
}

/** An osv.config.ts for a copy, with the daemon settings the tests need. */
export function writeConfig(root: string, daemon: Record<string, unknown>): void {
  fs.writeFileSync(path.join(root, 'osv.config.ts'), `import { defineConfig } from 'osvd';\nexport default defineConfig({ daemon: ${JSON.stringify(daemon)} });\n`);
}

/** A folder of links to every program of /usr/bin and /bin except those matching `missing`: a PATH without them. */
export function binWithout(missing: RegExp): string {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-bin-'));
  made.push(bin);
  for (const dir of ['/usr/bin', '/bin']) {
    for (const name of fs.readdirSync(dir)) {
      if (missing.test(name)) continue;
      if (!fs.existsSync(path.join(bin, name))) fs.symlinkSync(path.join(dir, name), path.join(bin, name));
    }
  }
  return bin;
}

/** Every blob file of a tree's content-addressed store, by its content's sha256. */
export function storeBlobs(root: string): Map<string, string> {
  const store = path.join(root, 'build/.osvd/store');
  const out = new Map<string, string>();
  if (!fs.existsSync(store)) return out;
  for (const f of fs.readdirSync(store, { recursive: true })) {
    const abs = path.join(store, String(f));
    if (fs.statSync(abs).isFile()) out.set(sha(abs), abs);
  }
  return out;
}

/**
 * Type-check a tree's osv.config.ts as an editor's TypeScript server does: find the tsconfig.json
 * nearest to the file, take its options and files, report the errors by file.
 */
export function editorErrors(root: string): string[] {
  const configPath = ts.findConfigFile(root, ts.sys.fileExists);
  if (!configPath) return ['no tsconfig.json'];
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) return [ts.flattenDiagnosticMessageText(read.error.messageText, '\n')];
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, path.dirname(configPath));
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  return [...parsed.errors, ...ts.getPreEmitDiagnostics(program)].map((d) => `${d.file ? path.relative(root, d.file.fileName) + ': ' : ''}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

/** Compilers held at a gate (bench/gate.ts); removed with the copies. */
export function gatedCompilers(): Gate {
  const gate = openGate();
  gates.push(gate);
  return gate;
}

/** osvd started without waiting, with its own environment: a handle to signal it and its end. */
export interface Running {
  readonly pid: number;
  /** Everything it printed on stderr so far. */
  stderr(): string;
  readonly done: Promise<RunResult & { signal: NodeJS.Signals | null }>;
}

export function spawnOsvd(root: string, args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, [OSVD, ...args, '--root', root], { cwd: root, env: { ...process.env, OSVD_LOG: '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b) => (stdout += b));
  child.stderr.on('data', (b) => (stderr += b));
  const done = new Promise<RunResult & { signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { pid: child.pid!, stderr: () => stderr, done };
}
