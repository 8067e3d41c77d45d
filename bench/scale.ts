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
import { parseArgs } from './scale/args.js';
import { benchDaemonOnly } from './scale/daemonOnly.js';
import { REPO, log } from './scale/measure.js';
import { goals, printTable } from './scale/report.js';
import { benchSize, type SizeResult } from './scale/sizeRun.js';

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
