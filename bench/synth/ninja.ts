/**
 * build.ninja for a synthetic tree (bench/synth/generate.ts), so ninja can be compared with make on
 * the same graph. The commands are make's own: writeNinja asks the tree's Makefile what it would run
 * (`make -n -B --trace V=1 <knobs>`) and which variables it exports to recipes, then writes one
 * ninja edge per compile, the drivers config header and the link of loader.elf.
 *
 *   node dist/bench/synth/ninja.js --dir /tmp/tree [--compiler stub|real] [--profile all]
 *
 * Differences from make, all forced by ninja: output folders are made by ninja (make's `mkdir -p`
 * lines are dropped); the generator of drivers_config.h gets the exported conf_drivers_* variables as
 * assignments in front of its command, depends on the script and the profile makefiles instead of
 * running every time, and uses restat; the link's response file (`build/.../loader.elf.rsp`, which
 * make's recipe writes with `echo <objects> >> $@.rsp` lines) is written by ninja from the edge's
 * inputs (rspfile), and the link command is make's. Depfiles are where gcc writes them for `-MD -o x.o` (x.d), which
 * `deps = gcc` reads into .ninja_deps and then deletes.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TreeInfo } from './generate.js';

export interface NinjaOptions {
  compiler: 'stub' | 'real';
  profile: string;
  /** Extra make variables (e.g. conf_hide_symbols=1), passed to make as they are. */
  vars?: readonly string[];
}

export interface NinjaFile {
  path: string;
  compiles: number;
  /** Whether the link names its objects through a response file. */
  linkRsp: boolean;
}

interface Traced {
  target: string;
  recipe: string[];
}

const TRACE = /^[^\s:]+:\d+: (?:update )?target '(.+?)' (?:does not exist|due to: |is \.PHONY|.*)/;

function make(dir: string, args: readonly string[]): string {
  const r = spawnSync('make', [...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`make ${args.join(' ')} failed in ${dir}:\n${r.stderr}`);
  return r.stdout;
}

function parseTrace(text: string): Traced[] {
  const out: Traced[] = [];
  let cur: Traced | undefined;
  for (const line of text.split('\n')) {
    const m = TRACE.exec(line);
    if (m) {
      cur = { target: m[1]!, recipe: [] };
      out.push(cur);
    } else if (cur && line.trim() !== '') {
      cur.recipe.push(line.trim());
    }
  }
  return out;
}

/** Ninja's escaping of a path in a build line, and of text in a variable's value. */
const escPath = (p: string): string => p.replace(/\$/g, '$$$$').replace(/([ :])/g, '$$$1');
const escValue = (v: string): string => v.replace(/\$/g, '$$$$');

export function writeNinja(dir: string, info: TreeInfo, opts: NinjaOptions): NinjaFile {
  const vars = [`conf_drivers_profile=${opts.profile}`, `COMPILER=${opts.compiler}`, ...(opts.vars ?? [])];
  const traced = parseTrace(make(dir, ['-n', '-B', '--trace', 'V=1', ...vars]));
  const envText = make(dir, ['-s', ...vars, '--eval', '__synth_env: ; @env', '__synth_env']);
  const env = envText
    .split('\n')
    .filter((l) => /^conf_drivers_[A-Za-z0-9_]*=/.test(l) && !l.startsWith('conf_drivers_profile='))
    .sort();
  const out = info.outDir;

  const lines: string[] = [
    `# build.ninja for this synthetic tree, profile ${opts.profile}, compiler ${opts.compiler}${opts.vars?.length ? `, ${opts.vars.join(' ')}` : ''}.`,
    `# Written by osvd's bench/synth/ninja.ts from make's own commands (make -n -B V=1 ${vars.join(' ')}).`,
    'ninja_required_version = 1.7',
    `builddir = ${out}`,
    '',
    'rule cc',
    '  command = $cmd',
    '  deps = gcc',
    '  depfile = $dep',
    '  description = $desc',
    '',
    'rule gen',
    '  command = $cmd',
    '  restat = 1',
    '  description = GEN $out',
    '',
    'rule link_rsp',
    '  command = $cmd',
    '  rspfile = $out.rsp',
    '  rspfile_content = $in',
    '  description = LD $out',
    '',
  ];

  const genHeader = `${out}/gen/include/osv/drivers_config.h`;
  let compiles = 0;
  let linkRsp = false;
  let haveGen = false;
  const defaults: string[] = [];
  for (const t of traced) {
    const cmds = t.recipe.filter((c) => !/^mkdir -p /.test(c) && !/^echo /.test(c));
    if (t.target === 'perhaps-modify-drivers-config-h') {
      const cmd = cmds.find((c) => c.includes('gen-drivers-config-header'));
      if (!cmd) throw new Error('no drivers config generator in make\'s recipe');
      const inputs = ['scripts/gen-drivers-config-header', 'conf/profiles/x64/base.mk', ...fs.readdirSync(path.join(dir, 'conf/profiles/x64')).filter((f) => f.endsWith('.mk')).sort().map((f) => `conf/profiles/x64/${f}`)];
      lines.push(`build ${escPath(genHeader)}: gen | ${[...new Set(inputs)].map(escPath).join(' ')}`, `  cmd = ${escValue(`${env.join(' ')} ${cmd}`)}`, '');
      haveGen = true;
    } else if (/\.o$/.test(t.target) && cmds.length > 0) {
      const cmd = cmds[cmds.length - 1]!;
      const words = cmd.split(/\s+/);
      const src = words[words.length - 1]!;
      if (!words.includes('-c')) throw new Error(`not a compile for ${t.target}: ${cmd}`);
      const dep = t.target.replace(/\.o$/, '.d');
      const desc = src.endsWith('.S') ? 'AS' : src.endsWith('.cc') ? 'CXX' : 'CC';
      const orderOnly = src.endsWith('.S') ? '' : ` || ${escPath(genHeader)}`;
      lines.push(`build ${escPath(t.target)}: cc ${escPath(src)}${orderOnly}`, `  cmd = ${escValue(cmd)}`, `  dep = ${escPath(dep)}`, `  desc = ${desc} ${src}`, '');
      compiles++;
    } else if (t.target === `${out}/loader.elf`) {
      // make writes the objects into $@.rsp with `echo <objects> >(>) $@.rsp` lines; ninja writes the
      // same file from the edge's inputs (rspfile), and runs make's link command, which reads it.
      const rsp = `${t.target}.rsp`;
      const objs = t.recipe.flatMap((c) => {
        const w = c.split(/\s+/);
        return w[0] === 'echo' && w[w.length - 1] === rsp && />>?/.test(w[w.length - 2]!) ? w.slice(1, -2) : [];
      });
      const cmd = cmds[cmds.length - 1]!;
      const words = cmd.split(/\s+/);
      if (!words.includes(`@${rsp}`) || objs.length === 0) throw new Error(`the link of ${t.target} does not read its objects from ${rsp}: ${cmd.slice(0, 300)}`);
      const implicit = words.filter((w) => w.endsWith('.ld') || /version_script$/.test(w.replace(/^--version-script=/, '')))
        .map((w) => w.replace(/^--version-script=/, ''));
      lines.push(`build ${escPath(t.target)}: link_rsp ${objs.map(escPath).join(' ')} | ${implicit.map(escPath).join(' ')}`, `  cmd = ${escValue(cmd)}`, '');
      linkRsp = true;
      defaults.push(t.target);
    } else if (/\/(all\.symbols|version_script)$/.test(t.target)) {
      // Generated from exported_symbols/*.symbols; only built as part of the link with conf_hide_symbols=1.
      const cmd = cmds[cmds.length - 1]!;
      const inputs = fs.readdirSync(path.join(dir, 'exported_symbols')).filter((f) => f.endsWith('.symbols')).sort().map((f) => `exported_symbols/${f}`);
      lines.push(`build ${escPath(t.target)}: gen ${inputs.map(escPath).join(' ')}`, `  cmd = ${escValue(cmd)}`, '');
    }
  }
  if (!haveGen) throw new Error('make did not print the drivers config generator');
  const expected = info.objectsByProfile[opts.profile];
  if (expected && expected.length !== compiles) {
    throw new Error(`make compiles ${compiles} objects for profile ${opts.profile}, the tree description says ${expected.length}`);
  }
  lines.push(`build all: phony ${defaults.map(escPath).join(' ')}`, 'default all', '');
  const file = path.join(dir, 'build.ninja');
  fs.writeFileSync(file, lines.join('\n'));
  return { path: file, compiles, linkRsp };
}

function argOf(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const dir = argOf(argv, '--dir');
  const compiler = argOf(argv, '--compiler') ?? 'stub';
  if (!dir || (compiler !== 'stub' && compiler !== 'real')) {
    process.stderr.write('usage: ninja.js --dir TREE [--compiler stub|real] [--profile all|base|virtio-mmio|virtio-pci]\n');
    process.exit(2);
  }
  try {
    const info = JSON.parse(fs.readFileSync(path.join(dir, 'synth-tree.json'), 'utf8')) as TreeInfo;
    const r = writeNinja(dir, info, { compiler, profile: argOf(argv, '--profile') ?? 'all' });
    process.stdout.write(`${JSON.stringify(r)}\n`);
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
