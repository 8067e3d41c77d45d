/**
 * osvd against make on the same tree and the same sequence of knob changes, in one run:
 * cold build, no-op, all -> virtio-mmio, back to all, conf_hide_symbols 0 -> 1, back to 0.
 * Each tool works in its own copy of the tree (so neither sees the other's outputs).
 *
 *   node dist/bench/example.js [--tree DIR] [--jobs N]
 *
 * DIR defaults to examples/mini-osv; it is copied, never built in place. Prints a table and writes
 * bench/results/example-<date>.json.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OSVD = path.join(REPO, 'bin', 'osvd.js');

interface Step {
  name: string;
  vars: string[];
}

const STEPS: Step[] = [
  { name: 'cold build', vars: [] },
  { name: 'no-op', vars: [] },
  { name: 'all -> virtio-mmio', vars: ['conf_drivers_profile=virtio-mmio'] },
  { name: 'back to all', vars: ['conf_drivers_profile=all'] },
  { name: 'hide_symbols 0 -> 1', vars: ['conf_hide_symbols=1'] },
  { name: 'back to 0', vars: ['conf_hide_symbols=0'] },
];

interface Measure {
  ms: number;
  compiles: number;
  links: number;
  restored: number;
  exported: number;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

function copyTree(src: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-bench-'));
  fs.cpSync(src, dir, { recursive: true, filter: (p) => !path.relative(src, p).startsWith('build') });
  return dir;
}

function exportedCount(root: string): number {
  const r = spawnSync('nm', ['-D', '--defined-only', path.join(root, 'build/release.x64/loader.elf')], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean).length : -1;
}

function timed(cmd: string, args: string[], cwd: string): { ms: number; stdout: string; code: number | null } {
  const t = performance.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 28 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${r.stderr}`);
  return { ms, stdout: r.stdout, code: r.status };
}

function runMake(root: string, step: Step, jobs: number): Measure {
  const r = timed('make', [`-j${jobs}`, 'V=1', ...step.vars], root);
  const lines = r.stdout.split('\n');
  return {
    ms: r.ms,
    compiles: lines.filter((l) => / -c /.test(l)).length,
    links: lines.filter((l) => /^(ld|g\+\+|gcc) .*-o \S+\.(elf|so)\b/.test(l)).length,
    restored: 0,
    exported: exportedCount(root),
  };
}

function runOsvd(root: string, step: Step, jobs: number): Measure {
  const r = timed(process.execPath, [OSVD, 'build', '--json', '--root', root, '-j', String(jobs), ...step.vars.flatMap((v) => ['--set', v])], root);
  const out = JSON.parse(r.stdout) as { ran: { kind: string }[]; restored: unknown[] };
  return {
    ms: r.ms,
    compiles: out.ran.filter((e) => e.kind === 'compile').length,
    links: out.ran.filter((e) => e.kind === 'link').length,
    restored: out.restored.length,
    exported: exportedCount(root),
  };
}

function main(): void {
  const tree = path.resolve(arg('--tree', path.join(REPO, 'examples', 'mini-osv')));
  const jobs = Number(arg('--jobs', String(os.availableParallelism())));
  const makeRoot = copyTree(tree);
  const osvdRoot = copyTree(tree);
  const rows: { step: string; make: Measure; osvd: Measure }[] = [];
  try {
    for (const step of STEPS) {
      // The no-op carries the previous step's knobs for make (it has no memory of them).
      rows.push({ step: step.name, make: runMake(makeRoot, step, jobs), osvd: runOsvd(osvdRoot, step, jobs) });
    }
  } finally {
    fs.rmSync(makeRoot, { recursive: true, force: true });
    fs.rmSync(osvdRoot, { recursive: true, force: true });
  }
  const header = `${'step'.padEnd(22)} ${'make ms'.padStart(8)} ${'osvd ms'.padStart(8)} ${'ratio'.padStart(6)}  make cc/ld  osvd cc/ld/restored  exported make/osvd`;
  console.log(`tree ${tree}, ${jobs} jobs, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, node ${process.version}`);
  console.log(header);
  for (const r of rows) {
    const ratio = r.osvd.ms / r.make.ms;
    console.log(
      `${r.step.padEnd(22)} ${r.make.ms.toFixed(0).padStart(8)} ${r.osvd.ms.toFixed(0).padStart(8)} ${ratio.toFixed(2).padStart(6)}  ` +
        `${`${r.make.compiles}/${r.make.links}`.padStart(10)}  ${`${r.osvd.compiles}/${r.osvd.links}/${r.osvd.restored}`.padStart(19)}  ` +
        `${`${r.make.exported}/${r.osvd.exported}`.padStart(19)}${r.make.exported !== r.osvd.exported ? '  (kernels differ)' : ''}`,
    );
  }
  const out = path.join(REPO, 'bench', 'results', `example-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, JSON.stringify({ tree, jobs, node: process.version, rows }, null, 2));
  console.log(`wrote ${path.relative(REPO, out)}`);
}

main();
