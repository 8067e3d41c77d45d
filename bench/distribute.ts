/**
 * What distributed compiles would give, on paper, for a real hide-symbols flip (every TU recompiles):
 *
 *   npm run bench:distribute -- --tree DIR [--build N] [--sample 40] [--slots 2,4,8,16,32,64,128] [--gbit 1]
 *
 * DIR is an OSv tree osvd has built, whose database has a flip of conf_hide_symbols (a build whose
 * knobs differ from the one before only in it): `osvd build`, then `osvd build --set
 * conf_hide_symbols=1`. From the flip's recorded durations it takes the total work W and the critical
 * path C; on a sample of its TUs it measures, with a distccd of its own on loopback, what distcc adds
 * to each compile: the preprocessing here, the protocol and the copies (loopback has no network:
 * the bytes sent and received are printed, with what a `--gbit` link adds). For N remote slots the
 * build takes at least max(C', W'/N, P/J) and at most about C' + W'/N (Brent's bound for a greedy
 * scheduler), where W' and C' count each compile with distcc's additions and P/J is the
 * preprocessing of every TU on the J local cores, which no number of hosts removes.
 * `--build N` takes the recorded runs of build N of the tree's history instead (its number in `builds`,
 * e.g. a cold build, which also recompiles every TU), for a database that has no flip.
 * The tree's sources are not changed (the sampled compiles write to a temporary folder); its database
 * is written to as by any osvd command (the import, file states).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Session } from '../daemon/session.js';
import type { Action } from '../graph/action.js';
import { readDistccLog } from '../graph/distccLauncher.js';
import { decide } from '../graph/rebuilder.js';
import { criticalPaths } from '../graph/scheduler.js';
import { compileLineOf } from '../osv/recipes.js';
import { startDistccd } from './distccd.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Flip {
  readonly startedAt: number;
  readonly finishedAt: number;
  readonly durationMs: number;
  readonly knobs: Record<string, string>;
  readonly ran: number;
  readonly ok: boolean;
}

/** The newest build whose knobs differ from the build before only in conf_hide_symbols, or build `n` (1-based). */
function findFlip(session: Session, n: number | undefined): Flip | undefined {
  const builds: readonly Flip[] = session.history.summaries();
  if (n !== undefined) return builds[n - 1];
  for (let i = builds.length - 1; i > 0; i--) {
    const [a, b] = [builds[i - 1]!.knobs, builds[i]!.knobs];
    const changed = Object.keys({ ...a, ...b }).filter((k) => a[k] !== b[k]);
    if (changed.length === 1 && changed[0] === 'conf_hide_symbols' && builds[i]!.ran > 0) return builds[i];
  }
  return undefined;
}

interface Sample {
  source: string;
  localMs: number;
  cppMs: number;
  distccMs: number;
  sentBytes: number;
  receivedBytes: number;
}

function timed(cmd: string, cwd: string, env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync('/bin/sh', ['-c', cmd], { cwd, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`failed (${r.status}): ${cmd.slice(0, 300)}\n${r.stderr.slice(-2000)}`);
  return performance.now() - t;
}

/** One TU compiled here, preprocessed here, and through distcc to the loopback distccd; the best of two each. */
function measure(root: string, action: Action, tmp: string, distccEnv: NodeJS.ProcessEnv, log: string): Sample | undefined {
  const line = compileLineOf(action.commands);
  const obj = action.outputs[0]!;
  const text = line && action.commands[line.index];
  if (!text || !text.includes(` -o ${obj} `) || line.wrappers.length) return undefined;
  const to = (suffix: string): string => text.replace(` -o ${obj} `, ` -o ${tmp}/x.${suffix} `) + ` -MF ${tmp}/x.d`;
  const env = { ...process.env };
  const best = (cmd: string, e: NodeJS.ProcessEnv): number => Math.min(timed(cmd, root, e), timed(cmd, root, e));
  const localMs = best(to('o'), env);
  const cppMs = best(to('ii').replace(/ -c /, ' -E '), env);
  const sentBytes = fs.statSync(`${tmp}/x.ii`).size;
  fs.writeFileSync(log, '');
  const distccMs = best(`distcc ${to('o')}`, distccEnv);
  // Both runs must have gone to the host: a fallback would time a local compile.
  const said = readDistccLog(fs.readFileSync(log, 'utf8'));
  if (said.remote !== 2 || said.fellBack.length > 0) return undefined;
  return { source: action.source ?? obj, localMs, cppMs, distccMs, sentBytes, receivedBytes: fs.statSync(`${tmp}/x.o`).size };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function main(): Promise<void> {
  const treeArg = arg('--tree');
  if (!treeArg) {
    console.error('usage: npm run bench:distribute -- --tree DIR  (an OSv tree osvd built, then built again with conf_hide_symbols flipped)');
    process.exit(2);
  }
  const root = path.resolve(treeArg);
  const sampleSize = Number(arg('--sample') ?? '40');
  const slotCounts = (arg('--slots') ?? '2,4,8,16,32,64,128').split(',').map(Number);
  const gbit = Number(arg('--gbit') ?? '1');

  const session = await Session.open({ cwd: root, root });
  let distccd: Awaited<ReturnType<typeof startDistccd>> | undefined;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-bench-distribute-'));
  try {
    const buildArg = arg('--build');
    const flip = findFlip(session, buildArg === undefined ? undefined : Number(buildArg));
    if (!flip) {
      throw new Error(
        buildArg === undefined
          ? `${root}: its database has no hide-symbols flip: run 'osvd build' and then 'osvd build --set conf_hide_symbols=1' there`
          : `${root}: its history has no build ${buildArg}`,
      );
    }
    const what = buildArg === undefined ? `flip (conf_hide_symbols -> ${flip.knobs.conf_hide_symbols})` : `build ${buildArg} (${flip.ok ? 'ok' : 'failed'})`;
    const sets = Object.entries(flip.knobs).filter(([, v]) => v !== '').map(([k, v]) => `${k}=${v}`);
    const loaded = await session.graph(session.project(sets));
    const { graph, project } = loaded;
    const jobs = project.jobs;
    // The flip's runs: the traces that match the tree now, made while the flip ran.
    const ranInFlip = new Map<string, number>();
    for (const a of graph.actions.values()) {
      const d = decide(a, session.files, session.traces, session.store);
      const run = d.state === 'run' ? undefined : d.entry.run;
      if (run && run.finishedAt >= flip.startedAt && run.finishedAt <= flip.finishedAt) ranInFlip.set(a.id, run.durationMs);
    }
    const compiles = [...ranInFlip.keys()].map((id) => graph.get(id)).filter((a) => a.kind === 'compile');
    const others = [...ranInFlip.keys()].map((id) => graph.get(id)).filter((a) => a.kind !== 'compile');
    const compileWork = compiles.reduce((n, a) => n + ranInFlip.get(a.id)!, 0);
    const otherWork = others.reduce((n, a) => n + ranInFlip.get(a.id)!, 0);
    const pathOf = (extraPerCompile: number): number => {
      const cost = criticalPaths(graph, (id) => (ranInFlip.has(id) ? ranInFlip.get(id)! + (graph.get(id).kind === 'compile' ? extraPerCompile : 0) : 0));
      return Math.max(0, ...cost.values());
    };
    const critical = pathOf(0);
    console.log(`tree: ${root} (cc1 processes running as it starts: ${spawnSync('pgrep', ['-c', 'cc1'], { encoding: 'utf8' }).stdout.trim() || '0'})`);
    console.log(
      `recorded ${what}: ${flip.ran} actions ran in ${seconds(flip.durationMs)} on ${jobs} jobs; ` +
        `${compiles.length} compiles, work ${seconds(compileWork)}; ${others.length} other actions, ${seconds(otherWork)}; critical path ${seconds(critical)}`,
    );

    // distcc's additions per TU, on a sample spread over the compile durations.
    distccd = await startDistccd(1);
    const log = path.join(tmp, 'distcc.log');
    const distccDir = path.join(tmp, 'distcc');
    fs.mkdirSync(distccDir);
    const distccEnv = { ...process.env, DISTCC_HOSTS: distccd.host(1), DISTCC_DIR: distccDir, DISTCC_LOG: log };
    const byDuration = [...compiles].sort((a, b) => ranInFlip.get(a.id)! - ranInFlip.get(b.id)!);
    const samples: Sample[] = [];
    const step = Math.max(1, Math.floor(byDuration.length / sampleSize));
    for (let i = Math.floor(step / 2); i < byDuration.length && samples.length < sampleSize; i += step) {
      const s = measure(root, byDuration[i]!, tmp, distccEnv, log);
      if (s) samples.push(s);
    }
    if (samples.length === 0) throw new Error('no sampled compile could be sent to the loopback distccd');
    const added = median(samples.map((s) => s.distccMs - s.localMs));
    const cpp = median(samples.map((s) => s.cppMs));
    const sent = samples.reduce((n, s) => n + s.sentBytes, 0) / samples.length;
    const received = samples.reduce((n, s) => n + s.receivedBytes, 0) / samples.length;
    const wireMs = ((sent + received) * 8) / (gbit * 1e9) * 1000;
    const perTu = added + wireMs;
    console.log(
      `distcc on loopback, ${samples.length} TUs: local compile median ${median(samples.map((s) => s.localMs)).toFixed(0)} ms, through distcc ${median(samples.map((s) => s.distccMs)).toFixed(0)} ms: ` +
        `added per TU (median of the differences) ${added.toFixed(0)} ms, preprocessing alone ${cpp.toFixed(0)} ms; sent ${(sent / 1024).toFixed(0)} KB, received ${(received / 1024).toFixed(0)} KB per TU ` +
        `(+${wireMs.toFixed(1)} ms on a ${gbit} Gbit/s link)`,
    );

    const workPrime = compileWork + compiles.length * perTu;
    const criticalPrime = pathOf(perTu);
    const localBound = (compiles.length * cpp + otherWork) / jobs;
    const rows = slotCounts.map((n) => {
      const low = Math.max(criticalPrime, workPrime / n, localBound);
      const high = Math.max(criticalPrime + workPrime / n, localBound);
      return { slots: n, workOverN: workPrime / n, lowMs: low, highMs: high, speedup: flip.durationMs / high };
    });
    console.log(`\nN remote slots | W'/N      | at least  | about (C'+W'/N) | recorded / about`);
    for (const r of rows) {
      console.log(`${String(r.slots).padStart(14)} | ${seconds(r.workOverN).padStart(9)} | ${seconds(r.lowMs).padStart(9)} | ${seconds(r.highMs).padStart(15)} | ${r.speedup.toFixed(2)}x`);
    }
    console.log(`\nC' = ${seconds(criticalPrime)} (critical path with distcc's additions); preprocessing every TU here on ${jobs} cores: ${seconds(localBound)}.`);
    const result = { tree: root, flip, jobs, compiles: compiles.length, compileWorkMs: compileWork, otherWorkMs: otherWork, criticalMs: critical, samples, addedMsPerTu: added, cppMsPerTu: cpp, wireMsPerTu: wireMs, criticalPrimeMs: criticalPrime, localBoundMs: localBound, rows };
    const dir = path.join(REPO, 'bench', 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `distribute-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify(result, null, 1));
    console.log(`results: ${file}`);
  } finally {
    distccd?.stop();
    session.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
