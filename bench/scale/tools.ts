/** The three tools the scale benchmark drives on their copies of a tree: make, ninja and osvd (one-shot and its daemon). */
import fs from 'node:fs';
import path from 'node:path';
import { DaemonClient } from '../../daemon/client.js';
import type { BuildReport, StatusReport } from '../../daemon/answers.js';
import type { TreeInfo } from '../synth/generate.js';
import { writeNinja } from '../synth/ninja.js';
import { OSVD, REST_S, STUB, run, type Cell, type Compiler, type Timed } from './measure.js';

export class MakeTool {
  constructor(readonly dir: string, readonly jobs: number, readonly compilerVars: string[]) {}
  build(vars: readonly string[] = []): Cell {
    const r = run('make', [`-j${this.jobs}`, 'V=1', ...this.compilerVars, ...vars], this.dir);
    const lines = r.stdout.split('\n');
    const ran = lines.filter((l) => / -c | -o \S+loader\.elf|gen-drivers-config-header/.test(l)).length;
    return { ms: r.ms, ran };
  }
}

export class NinjaTool {
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

export class OsvdTool {
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
