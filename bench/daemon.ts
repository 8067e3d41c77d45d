/**
 * The daemon at OSv scale, on a synthetic tree (bench/synth) of 1,200 TUs, 3,000 headers and 9,000
 * files, built with the stub compiler:
 *  - requests handled by the daemon (status), p50/p99 over 1,000, idle and while a build runs;
 *  - `osvd status` end to end, process start included, beside `node -e 0`;
 *  - from a file edit to an updated dirty set (inside the daemon, and as a client sees it);
 *  - the daemon's memory.
 *
 *   node dist/bench/daemon.js [--tus 1200] [--keep DIR]
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DaemonClient } from '../daemon/client.js';
import type { StatusReport } from '../daemon/answers.js';
import { generateTree } from './synth/generate.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OSVD = path.join(REPO, 'bin', 'osvd.js');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function osvd(root: string, args: string[]): { ms: number; stdout: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, [OSVD, ...args, '--root', root], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`osvd ${args.join(' ')} failed: ${r.stderr}`);
  return { ms: performance.now() - t, stdout: r.stdout };
}

function pct(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

function median(values: number[]): number {
  return pct(values, 50);
}

async function requestTimes(client: DaemonClient, n: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await client.request('status');
    times.push(performance.now() - t);
  }
  return times;
}

function rssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function main(): Promise<void> {
  const tus = Number(arg('--tus', '1200'));
  const root = arg('--keep', '') || fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-bench-daemon-'));
  const rows: [string, string, string, string][] = [];
  try {
    const t0 = performance.now();
    const info = generateTree(root, { tus, seed: 1 });
    fs.writeFileSync(
      path.join(root, 'osv.config.ts'),
      "import { defineConfig } from 'osvd';\nexport default defineConfig({ makeVars: { COMPILER: 'stub', STUB: 'scripts/stub-cc' } });\n",
    );
    console.log(`tree: ${info.tus} TUs, ${info.headers} headers, ${info.files} files (generated in ${((performance.now() - t0) / 1000).toFixed(1)} s) at ${root}`);
    const cold = osvd(root, ['build', '--quiet']);
    console.log(`cold one-shot build with the stub compiler: ${(cold.ms / 1000).toFixed(1)} s`);

    const started = osvd(root, ['start', '--json']);
    const pid = (JSON.parse(started.stdout) as { pid: number }).pid;
    const client = (await DaemonClient.find(path.join(root, 'build/.osvd')))!;
    const s0 = await client.request<StatusReport>('status');
    console.log(`daemon pid ${pid}: ${s0.graph.actions} actions, watcher ${s0.daemon.watcher?.mode}`);

    await requestTimes(client, 50);
    const idle = await requestTimes(client, 1000);
    rows.push(['status request in the daemon, idle: p50 / p99', `${median(idle).toFixed(2)} / ${pct(idle, 99).toFixed(2)} ms`, '< 2 / < 10 ms', median(idle) < 2 && pct(idle, 99) < 10 ? 'pass' : 'FAIL']);

    // During a build: every TU recompiles (hide symbols flips every command), set live so that the
    // daemon's own plan follows.
    await client.request('set', { sets: ['conf_hide_symbols=1'] });
    const building = client.request('build');
    await new Promise((r) => setTimeout(r, 500));
    const busy = await requestTimes(client, 1000);
    const during = await client.request<StatusReport>('status');
    rows.push([
      `status request during a build (${during.building ? `${during.building.finished}/${during.building.total} done` : 'build ended'}): p50 / p99`,
      `${median(busy).toFixed(2)} / ${pct(busy, 99).toFixed(2)} ms`,
      '< 2 / < 10 ms',
      median(busy) < 2 && pct(busy, 99) < 10 ? 'pass' : 'FAIL',
    ]);
    await building;

    const ends: number[] = [];
    const nodes: number[] = [];
    for (let i = 0; i < 15; i++) {
      ends.push(osvd(root, ['status']).ms);
      const t = performance.now();
      spawnSync(process.execPath, ['-e', '0']);
      nodes.push(performance.now() - t);
    }
    rows.push(['osvd status end to end (median of 15)', `${median(ends).toFixed(0)} ms (node -e 0: ${median(nodes).toFixed(0)} ms)`, '< 150 ms', median(ends) < 150 ? 'pass' : 'FAIL']);

    // From an edit to the dirty set: inside the daemon (its own timing) and as a client sees it.
    const inside: number[] = [];
    const seen: number[] = [];
    const tuSources = info.objectsByProfile.all!.filter((o) => o.endsWith('.o')).slice(0, 10);
    for (const object of tuSources) {
      const rel = object.slice('build/release.x64/'.length).replace(/\.o$/, '');
      const src = ['.c', '.cc'].map((e) => rel + e).find((f) => fs.existsSync(path.join(root, f)));
      if (!src) continue;
      const clean = await client.request<StatusReport>('status');
      if (clean.dirty.run + clean.dirty.pending + clean.dirty.restore !== 0) throw new Error('the tree should be up to date before an edit');
      const t = performance.now();
      fs.appendFileSync(path.join(root, src), `\nint bench_edit_${inside.length}(void) { return ${inside.length}; }\n`);
      for (;;) {
        const st = await client.request<StatusReport>('status');
        if (st.dirty.run > 0) {
          seen.push(performance.now() - t);
          inside.push(st.daemon.lastUpdateMs ?? NaN);
          break;
        }
        await new Promise((r) => setTimeout(r, 2));
      }
      await client.request('build');
    }
    rows.push(['file event -> dirty set, inside the daemon (median / max)', `${median(inside).toFixed(2)} / ${Math.max(...inside).toFixed(2)} ms`, '< 20 ms', Math.max(...inside) < 20 ? 'pass' : 'FAIL']);
    rows.push(['edit -> dirty set seen by a client, watcher latency included (median)', `${median(seen).toFixed(0)} ms`, '(info)', '']);
    const mem = (await client.request<StatusReport>('status')).daemon.memory;
    if (mem) console.log(`daemon heap: ${mem.heapUsedMb} MB used of ${mem.heapTotalMb} MB; external ${mem.externalMb} MB`);
    const rss = rssMb(pid);
    rows.push(['daemon RSS', `${rss.toFixed(0)} MB`, '< 200 MB', rss < 200 ? 'pass' : 'FAIL']);
    client.close();
    osvd(root, ['stop']);
  } finally {
    if (!process.argv.includes('--keep')) fs.rmSync(root, { recursive: true, force: true });
  }
  console.log(`machine: ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, node ${process.version}`);
  const w = Math.max(...rows.map((r) => r[0].length));
  for (const [what, value, goal, verdict] of rows) console.log(`${what.padEnd(w)}  ${value.padStart(28)}  ${goal.padStart(14)}  ${verdict}`);
  const out = path.join(REPO, 'bench', 'results', `daemon-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ tus, rows }, null, 2));
}

void main();
