/**
 * osvd against make on a real OSv checkout, in one run, the same knob sequence for both:
 * cold build; no-op; all -> virtio-pci; back to all; conf_hide_symbols 0 -> 1; an app version
 * script (with hidden symbols); back to the default script; back to conf_hide_symbols=0.
 * Both build with fs=zfs, the default of OSv's `./scripts/build` (and of osvd): the kernel, libsolaris.so
 * and zfs_builder-stripped.elf; `--fs rofs` builds the kernel without ZFS instead.
 *
 *   npm run bench:osv -- --tree /path/to/osv [--jobs 2] [--keep] [--profile-only]
 *
 * `--profile-only` stops after the profile switch and back (the hide-symbols steps rebuild the whole
 * kernel twice for each tool).
 *
 * The checkout is never built in place: it is copied (without .git and build/) to a temporary folder,
 * make runs the sequence there, its build folder is moved aside, then osvd runs the sequence in the
 * same folder, so both compile with the same paths (OSv compiles with -g: paths end up in objects).
 * After the cold builds every object osvd built is compared with make's, byte for byte.
 * For each step: wall time, TUs compiled, links, outputs restored from osvd's store, compiles osvd
 * kept because their preprocessed input was unchanged, the kernel's exported symbol count, and whether
 * the result is right (nothing left stale, and the symbol count matches the knobs). For the profile
 * switch, the compiles against the minimum: the includers of drivers_config.h whose preprocessed
 * output changed, found by preprocessing each with its own command under both profiles. Prints a
 * table and writes bench/results/osv-<date>.json.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OSVD = path.join(REPO, 'bin', 'osvd.js');
const OUT = 'build/release.x64';
const FS = arg('--fs') ?? 'zfs';
/** make's `all` for this fs, up to the kernel image files (loader.img needs qemu's tools), as osvd builds it. */
const GOALS = [`${OUT}/lzloader.elf`, `${OUT}/vmlinuz.bin`, ...(FS === 'zfs' ? [`${OUT}/libsolaris.so`, `${OUT}/zfs_builder-stripped.elf`] : [])];
/** An app that needs a handful of libc functions (the names are in OSv's exported lists). */
const APP_SYMBOLS = ['free', 'malloc', 'memcpy', 'printf', 'puts', 'strlen', 'write', 'exit'];
const DRIVERS_CONFIG = `${OUT}/gen/include/osv/drivers_config.h`;

interface Step {
  name: string;
  /** The knobs after this step, for make's command line and osvd's --set. */
  knobs: Record<string, string>;
  /** What the kernel's exported symbols should look like. */
  hidden: 'no' | 'yes' | 'app';
}

interface Measure {
  ms: number;
  compiles: number;
  links: number;
  restored: number;
  exported: number;
  /** TUs or actions still out of date after the step (make: a second dry run; osvd: its status). */
  stale: number;
  right: boolean;
  /** The objects compiled (osvd: from its report; make: from its log). */
  compiled?: string[];
  /** osvd: compiles not run, their preprocessed input unchanged. */
  cutoff?: string[];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function run(cmd: string, args: string[], cwd: string, allowFail = false): { ms: number; stdout: string; stderr: string; code: number | null } {
  const t = performance.now();
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = performance.now() - t;
  if (r.status !== 0 && !allowFail) throw new Error(`${cmd} ${args.slice(0, 8).join(' ')} failed in ${cwd}:\n${(r.stderr ?? '').slice(-3000)}`);
  return { ms, stdout: r.stdout ?? '', stderr: r.stderr ?? '', code: r.status };
}

function exportedCount(root: string): number {
  const r = spawnSync('nm', ['-D', '--defined-only', path.join(root, OUT, 'loader.elf')], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean).length : -1;
}

function rightKernel(step: Step, exported: number, stale: number): boolean {
  if (stale !== 0 || exported < 0) return false;
  if (step.hidden === 'no') return exported > 10_000;
  if (step.hidden === 'yes') return exported > APP_SYMBOLS.length && exported < 5_000;
  return exported <= APP_SYMBOLS.length + 2;
}

function makeVars(knobs: Record<string, string>): string[] {
  // make gets what OSv's scripts/build passes for the fs; osvd derives the manifest from the fs knob.
  const vars = Object.entries(knobs).map(([k, v]) => `${k}=${v}`);
  return knobs.fs === 'zfs' ? vars : [...vars, 'bootfs_manifest=bootfs_empty.manifest.skel'];
}

function countCommands(log: string): { compiles: number; links: number } {
  const lines = log.split('\n');
  return {
    compiles: lines.filter((l) => /^(g\+\+|gcc|cc|c\+\+)\s.*\s-c(\s|$)/.test(l)).length,
    links: lines.filter((l) => /^(ld(\.bfd)?|g\+\+|gcc)\s.*-o \S+\.(elf|so|bin)\b/.test(l) && !/\s-c(\s|$)/.test(l)).length,
  };
}

/** Compiles a dry run prints even right after a full build. */
const alwaysPrinted = new Set<string>();

function compiledObjects(log: string): string[] {
  return log
    .split('\n')
    .filter((l) => /^(g\+\+|gcc|cc|c\+\+)\s.*\s-c(\s|$)/.test(l))
    .map((l) => /\s-o\s+(\S+)/.exec(l)?.[1] ?? l);
}

function runMake(root: string, step: Step, jobs: number): Measure & { log: string } {
  const r = run('make', [`-j${jobs}`, 'V=1', ...makeVars(step.knobs), ...GOALS], root);
  const { compiles, links } = countCommands(r.stdout);
  // What a second make would still compile. Links are left out, and so are the compiles a dry run
  // always prints (make takes the phony prerequisites of bootfs.o and of the kernel chain as remade):
  // those found right after the cold build.
  const again = run('make', ['-n', 'V=1', ...makeVars(step.knobs), ...GOALS], root);
  const pending = compiledObjects(again.stdout);
  if (step.name === 'cold build') for (const o of pending) alwaysPrinted.add(o);
  const stale = pending.filter((o) => !alwaysPrinted.has(o)).length;
  const exported = exportedCount(root);
  return { ms: r.ms, compiles, links, restored: 0, exported, stale, right: rightKernel(step, exported, stale), compiled: compiledObjects(r.stdout), log: r.stdout };
}

interface OsvdJson {
  ok: boolean;
  ran: { kind: string; output: string }[];
  restored: unknown[];
  cutoff?: { output: string }[];
  failed: unknown[];
}

function runOsvd(root: string, step: Step, jobs: number): Measure {
  const sets = Object.entries(step.knobs).flatMap(([k, v]) => ['--set', `${k}=${v}`]);
  const r = run(process.execPath, [OSVD, 'build', '--json', '--no-daemon', '--root', root, '-j', String(jobs), ...sets], root, true);
  const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as OsvdJson;
  if (!out.ok) throw new Error(`osvd build failed: ${JSON.stringify(out.failed).slice(0, 3000)}`);
  const st = run(process.execPath, [OSVD, 'status', '--json', '--no-daemon', '--root', root, ...sets], root);
  const dirty = (JSON.parse(st.stdout) as { dirty: { run: number; restore: number; pending: number } }).dirty;
  const stale = dirty.run + dirty.restore + dirty.pending;
  const exported = exportedCount(root);
  return {
    ms: r.ms,
    compiles: out.ran.filter((e) => e.kind === 'compile').length,
    links: out.ran.filter((e) => e.kind === 'link').length,
    restored: out.restored.length,
    exported,
    stale,
    right: rightKernel(step, exported, stale),
    compiled: out.ran.filter((e) => e.kind === 'compile').map((e) => e.output),
    cutoff: (out.cutoff ?? []).map((e) => e.output),
  };
}

/** Objects whose depfile names `header`. */
function depfileReaders(root: string, header: string): string[] {
  const readers: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(root, rel), { withFileTypes: true })) {
      const r = `${rel}/${e.name}`;
      if (e.isDirectory() && e.name !== '.osvd') walk(r);
      else if (e.name.endsWith('.d') && fs.readFileSync(path.join(root, r), 'utf8').replace(/\\\n/g, ' ').split(/\s+/).includes(header)) readers.push(r.replace(/\.d$/, '.o'));
    }
  };
  walk(OUT);
  return readers.sort();
}

/**
 * Each object's TU preprocessed with its own command from compile_commands.json (-E in place of -c,
 * without the object and the depfile), hashed: what a minimal build would have to look at.
 */
function preprocessedHashes(root: string, objects: readonly string[]): Map<string, string> {
  const wanted = new Set(objects);
  const entries = JSON.parse(fs.readFileSync(path.join(root, OUT, 'compile_commands.json'), 'utf8')) as { output: string; command: string; directory: string }[];
  const out = new Map<string, string>();
  for (const e of entries) {
    if (!wanted.has(e.output)) continue;
    const command = e.command.replace(/ -(?:o|MF|MT|MQ) \S+/g, ' ').replace(/ -(?:c|MD|MMD|MP)(?= |$)/g, ' ');
    const r = spawnSync('sh', ['-c', `${command} -E`], { cwd: e.directory, maxBuffer: 1 << 30 });
    if (r.status === 0) out.set(e.output, crypto.createHash('sha256').update(r.stdout).digest('hex'));
  }
  return out;
}

/** Preprocessing osvd did while it compiled, from its database: TUs and total time, against their compiles'. */
function preprocessingCost(root: string): { tus: number; ms: number; compileMs: number } | undefined {
  const r = spawnSync('node', ['-e', `
    const Db = require(${JSON.stringify(path.join(REPO, 'node_modules', 'better-sqlite3'))});
    const db = new Db(${JSON.stringify(path.join(root, 'build', '.osvd', 'state.db'))}, { readonly: true });
    let tus = 0, ms = 0, compileMs = 0;
    for (const { record } of db.prepare('SELECT record FROM last_runs').iterate()) {
      const run = JSON.parse(record);
      if (!run.preprocessed || run.preprocessed.predicted) continue;
      tus++; ms += run.preprocessed.ms; compileMs += run.durationMs;
    }
    console.log(JSON.stringify({ tus, ms, compileMs }));`], { encoding: 'utf8' });
  try {
    return JSON.parse(r.stdout) as { tus: number; ms: number; compileMs: number };
  } catch {
    return undefined;
  }
}

function copyTree(src: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-bench-osv-'));
  // Paths go to the shell as positional parameters, never inside the script text.
  const r = spawnSync('sh', ['-c', 'tar -C "$1" --exclude=./build --exclude=.git --exclude=./osv.config.ts -cf - . | tar -C "$2" -xf -', 'sh', src, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cannot copy ${src} to ${dir}: ${r.stderr}`);
  return dir;
}

function objectsUnder(dir: string): string[] {
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && e.name !== '.osvd') walk(p);
      else if (e.isFile() && e.name.endsWith('.o')) found.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return found.sort();
}

/** Every object both built, compared byte for byte. */
function compareObjects(makeOut: string, osvdOut: string): { compared: number; identical: number; differing: string[]; onlyMake: number; onlyOsvd: number } {
  const mine = new Set(objectsUnder(osvdOut));
  const theirs = objectsUnder(makeOut);
  let identical = 0;
  const differing: string[] = [];
  let compared = 0;
  for (const o of theirs) {
    if (!mine.has(o)) continue;
    compared++;
    if (fs.readFileSync(path.join(makeOut, o)).equals(fs.readFileSync(path.join(osvdOut, o)))) identical++;
    else differing.push(o);
  }
  return { compared, identical, differing, onlyMake: theirs.filter((o) => !mine.has(o)).length, onlyOsvd: [...mine].filter((o) => !theirs.includes(o)).length };
}

/** make's loader.elf link line against the one osvd imported (and ran). */
function linkLine(log: string): string | undefined {
  return log.split('\n').find((l) => l.includes(`-o ${OUT}/loader.elf `));
}

function main(): void {
  const treeArg = arg('--tree');
  if (!treeArg) {
    console.error('usage: npm run bench:osv -- --tree /path/to/an/osv/checkout [--jobs N] [--fs zfs|rofs] [--keep] [--profile-only]');
    process.exit(2);
  }
  const tree = path.resolve(treeArg);
  if (!fs.existsSync(path.join(tree, 'Makefile')) || !fs.existsSync(path.join(tree, 'musl_1.2.1')) && !fs.existsSync(path.join(tree, 'musl'))) {
    console.error(`${tree}: not an OSv checkout with its submodules (musl_1.2.1, external/x64/acpica, kbuild)`);
    process.exit(2);
  }
  const jobs = Number(arg('--jobs') ?? String(os.availableParallelism()));
  const root = copyTree(tree);
  const appScript = path.join(root, 'app_version_script');
  fs.writeFileSync(appScript, `{\n  global:\n${APP_SYMBOLS.map((s) => `    ${s};\n`).join('')}  local:\n    *;\n};\n`);
  const STEPS: Step[] = [
    { name: 'cold build', knobs: { fs: FS, conf_drivers_profile: 'all', conf_hide_symbols: '0' }, hidden: 'no' },
    { name: 'no-op', knobs: { fs: FS, conf_drivers_profile: 'all', conf_hide_symbols: '0' }, hidden: 'no' },
    { name: 'all -> virtio-pci', knobs: { fs: FS, conf_drivers_profile: 'virtio-pci', conf_hide_symbols: '0' }, hidden: 'no' },
    { name: 'back to all', knobs: { fs: FS, conf_drivers_profile: 'all', conf_hide_symbols: '0' }, hidden: 'no' },
    { name: 'hide_symbols 0 -> 1', knobs: { fs: FS, conf_drivers_profile: 'all', conf_hide_symbols: '1' }, hidden: 'yes' },
    { name: 'app version script', knobs: { fs: FS, conf_drivers_profile: 'all', conf_hide_symbols: '1', conf_version_script: appScript }, hidden: 'app' },
    { name: 'back to default script', knobs: { fs: FS, conf_drivers_profile: 'all', conf_hide_symbols: '1' }, hidden: 'yes' },
    { name: 'back to hide_symbols 0', knobs: { fs: FS, conf_drivers_profile: 'all', conf_hide_symbols: '0' }, hidden: 'no' },
  ];
  if (process.argv.includes('--profile-only')) STEPS.splice(STEPS.findIndex((s) => s.name === 'back to all') + 1);
  const rows: { step: string; make: Measure; osvd: Measure }[] = [];
  let preprocessing: ReturnType<typeof preprocessingCost>;
  let switchCompiles: { includers: number; builtInBoth: number; minimum: number; osvd: number; osvdCutoff: number; make: number; osvdOther: string[]; makeOther: string[] } | undefined;
  const makeRuns: Measure[] = [];
  /** The machine's 1-minute load after each step: the figures are only comparable on a quiet machine. */
  const loads: string[] = [];
  let makeCold = '';
  let makeLink: string | undefined;
  const stash = `${root}.make-cold`;
  try {
    console.error(`copied ${tree} to ${root}; make first (${jobs} jobs)`);
    for (const step of STEPS) {
      const m = runMake(root, step, jobs);
      if (step.name === 'cold build') {
        makeLink = linkLine(m.log);
        makeCold = stash;
        // Keep make's cold objects (hard links) to compare osvd's with.
        spawnSync('cp', ['-al', path.join(root, OUT), stash]);
      }
      const { log: _log, ...measure } = m;
      makeRuns.push(measure);
      loads.push(`make ${step.name}: ${os.loadavg()[0]!.toFixed(1)}`);
      console.error(`make  ${step.name}: ${(m.ms / 1000).toFixed(1)} s, ${m.compiles} cc, ${m.links} ld, ${m.exported} exported, ${m.stale} stale`);
    }
    fs.renameSync(path.join(root, 'build'), `${root}.make-build`);
    const osvdRuns: Measure[] = [];
    let comparison: ReturnType<typeof compareObjects> | undefined;
    let osvdLink: string | undefined;
    let includers: string[] = [];
    let before = new Map<string, string>();
    for (const step of STEPS) {
      if (step.name === 'all -> virtio-pci') {
        includers = depfileReaders(root, DRIVERS_CONFIG);
        before = preprocessedHashes(root, includers);
      }
      const o = runOsvd(root, step, jobs);
      osvdRuns.push(o);
      loads.push(`osvd ${step.name}: ${os.loadavg()[0]!.toFixed(1)}`);
      console.error(`osvd  ${step.name}: ${(o.ms / 1000).toFixed(1)} s, ${o.compiles} cc, ${o.links} ld, ${o.restored} restored, ${o.cutoff!.length} kept, ${o.exported} exported, ${o.stale} stale`);
      if (step.name === 'cold build') {
        comparison = compareObjects(makeCold, path.join(root, OUT));
        const db = JSON.parse(fs.readFileSync(path.join(root, OUT, 'compile_commands.json'), 'utf8')) as unknown[];
        console.error(`objects: ${comparison.identical}/${comparison.compared} identical; compile_commands.json: ${db.length} entries`);
        osvdLink = linkCommandOf(root);
        preprocessing = preprocessingCost(root);
        if (preprocessing) console.error(`preprocessing during the cold build: ${preprocessing.tus} TUs, ${(preprocessing.ms / 1000).toFixed(1)} s (their compiles: ${(preprocessing.compileMs / 1000).toFixed(1)} s)`);
      }
      if (step.name === 'all -> virtio-pci') {
        const after = preprocessedHashes(root, includers);
        const both = [...after.keys()].filter((k) => before.has(k));
        const changed = both.filter((k) => before.get(k) !== after.get(k));
        const makeSwitch = makeRuns[STEPS.indexOf(step)]!;
        switchCompiles = {
          includers: includers.length,
          builtInBoth: both.length,
          minimum: changed.length,
          osvd: o.compiled!.filter((c) => includers.includes(c)).length,
          osvdCutoff: o.cutoff!.length,
          make: makeSwitch.compiled!.filter((c) => includers.includes(c)).length,
          osvdOther: o.compiled!.filter((c) => !includers.includes(c)),
          makeOther: makeSwitch.compiled!.filter((c) => !includers.includes(c)),
        };
        console.error(`profile switch: includers of drivers_config.h ${includers.length}, built in both ${both.length}, preprocessed output changed ${changed.length}; compiled: osvd ${switchCompiles.osvd} (+${switchCompiles.osvdCutoff} kept), make ${switchCompiles.make}`);
      }
    }
    STEPS.forEach((s, i) => rows.push({ step: s.name, make: makeRuns[i]!, osvd: osvdRuns[i]! }));
    printTable(tree, jobs, rows, comparison!, makeLink === osvdLink);
    const at = (name: string): { step: string; make: Measure; osvd: Measure } => rows.find((r) => r.step === name)!;
    const roundTrip = (who: 'make' | 'osvd'): string => ((at('all -> virtio-pci')[who].ms + at('back to all')[who].ms) / 1000).toFixed(1);
    console.log(`all -> virtio-pci and back: make ${roundTrip('make')} s, osvd ${roundTrip('osvd')} s`);
    if (switchCompiles) {
      const c = switchCompiles;
      console.log(
        `all -> virtio-pci, includers of drivers_config.h (${c.builtInBoth} built by both profiles): compiled by make ${c.make}, by osvd ${c.osvd} (${c.osvdCutoff} kept: preprocessed input unchanged), minimum ${c.minimum}; ` +
          `other compiles: make ${c.makeOther.length}, osvd ${c.osvdOther.length}${c.osvdOther.length ? ` (${c.osvdOther.join(', ')})` : ''}`,
      );
    }
    if (preprocessing) console.log(`preprocessing osvd did during its cold build: ${preprocessing.tus} TUs, ${(preprocessing.ms / 1000).toFixed(1)} s, against ${(preprocessing.compileMs / 1000).toFixed(1)} s of their compiles`);
    console.log(`load (1 min) after each step: ${loads.join('; ')}`);
    const out = path.join(REPO, 'bench', 'results', `osv-${new Date().toISOString().slice(0, 19).replace(/:/g, '')}.json`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(
      out,
      JSON.stringify({ tree, jobs, cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, rows, objects: comparison, sameLinkCommand: makeLink === osvdLink, makeLink, osvdLink, loads, switchCompiles, preprocessing }, null, 2),
    );
    console.log(`wrote ${path.relative(REPO, out)}`);
  } finally {
    if (!process.argv.includes('--keep')) {
      for (const d of [root, stash, `${root}.make-build`]) fs.rmSync(d, { recursive: true, force: true });
    } else console.error(`kept ${root} (osvd), ${root}.make-build (make), ${stash} (make's cold objects)`);
  }
}

/** The loader.elf link command osvd has in its graph (the same text make printed, if the import is right). */
function linkCommandOf(root: string): string | undefined {
  const r = spawnSync(process.execPath, [OSVD, 'why', `${OUT}/loader.elf`, '--json', '--no-daemon', '--root', root], { cwd: root, encoding: 'utf8', maxBuffer: 1 << 28 });
  try {
    const why = JSON.parse(r.stdout) as { commands?: string[] };
    return why.commands?.find((c) => c.includes(`-o ${OUT}/loader.elf `));
  } catch {
    return undefined;
  }
}

function printTable(tree: string, jobs: number, rows: { step: string; make: Measure; osvd: Measure }[], cmp: ReturnType<typeof compareObjects>, sameLink: boolean): void {
  console.log(`OSv tree ${tree}; ${jobs} jobs; ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}; node ${process.version}`);
  console.log(`cold-build objects: ${cmp.identical}/${cmp.compared} byte-identical to make's${cmp.differing.length ? ` (differ: ${cmp.differing.slice(0, 5).join(', ')})` : ''}; only make ${cmp.onlyMake}, only osvd ${cmp.onlyOsvd}; loader.elf link command ${sameLink ? 'identical' : 'DIFFERENT'}`);
  console.log(`${'step'.padEnd(24)} ${'make s'.padStart(7)} ${'osvd s'.padStart(7)}  make cc/ld  osvd cc/ld/restored/kept  exported make/osvd  right make/osvd`);
  for (const r of rows) {
    console.log(
      `${r.step.padEnd(24)} ${(r.make.ms / 1000).toFixed(1).padStart(7)} ${(r.osvd.ms / 1000).toFixed(1).padStart(7)}  ` +
        `${`${r.make.compiles}/${r.make.links}`.padStart(10)}  ${`${r.osvd.compiles}/${r.osvd.links}/${r.osvd.restored}/${r.osvd.cutoff?.length ?? 0}`.padStart(24)}  ` +
        `${`${r.make.exported}/${r.osvd.exported}`.padStart(19)}  ${`${r.make.right ? 'yes' : `NO (${r.make.stale} stale)`}/${r.osvd.right ? 'yes' : `NO (${r.osvd.stale} stale)`}`.padStart(15)}`,
    );
  }
}

main();
