/** What the scale benchmark measures with: running a command, its time, percentiles, the load, the log. */
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const OSVD = path.join(REPO, 'bin', 'osvd.js');
export const FAST_STUB_SRC = path.join(REPO, 'bench', 'synth', 'fast-stub-cc.c');
export const STUB = 'scripts/fast-stub-cc';
/** How long the daemon is left idle before its resting RSS is read: its resting collection comes after 10 s. */
export const REST_S = 11;

export type Compiler = 'stub' | 'real';

export interface Timed {
  ms: number;
  stdout: string;
}

export function run(cmd: string, args: readonly string[], cwd: string): Timed {
  const t = performance.now();
  const r = spawnSync(cmd, [...args], { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = performance.now() - t;
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd} (exit ${r.status}):\n${r.stderr.slice(-3000)}`);
  return { ms, stdout: r.stdout };
}

export function median(values: readonly number[]): number {
  return pct(values, 50);
}

export function pct(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
}

export function load(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

export function log(msg: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)} load ${load()}] ${msg}\n`);
}

/** One measured step of one tool. */
export interface Cell {
  ms: number;
  /** Actions run (compiles, links, generators), and for osvd those restored from its store. */
  ran?: number;
  restored?: number;
  note?: string;
}

export interface Row {
  size: string;
  step: string;
  osvd?: Cell;
  osvdDaemon?: Cell;
  make?: Cell;
  ninja?: Cell;
  load: string;
}

export interface Goal {
  goal: string;
  measured: string;
  pass: boolean | null;
}
