/** The trees the scale benchmark builds: three copies of one generated tree, and the files its steps edit. */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { generateTree, type TreeInfo } from '../synth/generate.js';
import { FAST_STUB_SRC, STUB, run, type Compiler } from './measure.js';

export function compileFastStub(work: string): string {
  const exe = path.join(work, 'fast-stub-cc');
  if (!fs.existsSync(exe)) run('gcc', ['-O2', '-o', exe, FAST_STUB_SRC], work);
  return exe;
}

export function writeConfig(dir: string, compiler: Compiler, jobs: number): void {
  const vars = compiler === 'stub' ? `{ COMPILER: 'stub', STUB: '${STUB}' }` : `{ COMPILER: 'real' }`;
  fs.writeFileSync(path.join(dir, 'osv.config.ts'), `import { defineConfig } from 'osvd';\nexport default defineConfig({ jobs: ${jobs}, makeVars: ${vars} });\n`);
}

export interface Trees {
  info: TreeInfo;
  osvd: string;
  make: string;
  ninja: string;
}

export function makeTrees(work: string, tus: number, compiler: Compiler, jobs: number): Trees {
  const base = path.join(work, `${compiler}-${tus}`);
  fs.rmSync(base, { recursive: true, force: true });
  const dirs = { osvd: path.join(base, 'osvd'), make: path.join(base, 'make'), ninja: path.join(base, 'ninja') };
  const info = generateTree(dirs.osvd, { tus, seed: 1 });
  if (compiler === 'stub') fs.copyFileSync(compileFastStub(work), path.join(dirs.osvd, STUB));
  for (const d of [dirs.make, dirs.ninja]) run('cp', ['-a', dirs.osvd, d], work);
  writeConfig(dirs.osvd, compiler, jobs);
  return { info, ...dirs };
}

/** Sources of plain (non-driver) TUs, relative to the tree. */
export function tuSources(t: Trees, n: number): string[] {
  const out: string[] = [];
  const objects = t.info.objectsByProfile.all!;
  const step = Math.max(1, Math.floor(objects.length / (n + 1)));
  for (let i = step; i < objects.length && out.length < n; i += step) {
    const rel = objects[i]!.slice(t.info.outDir.length + 1).replace(/\.o$/, '');
    if (rel.startsWith('drivers/')) continue;
    const src = ['.c', '.cc'].map((e) => rel + e).find((f) => fs.existsSync(path.join(t.osvd, f)));
    if (src) out.push(src);
  }
  return out;
}

/** The header read by the number of TUs closest to `share` of them (from make's depfiles). */
export function widelyIncludedHeader(t: Trees, share: number): { header: string; readers: number } {
  const counts = new Map<string, number>();
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.d')) {
        const text = fs.readFileSync(p, 'utf8');
        const head = text.split('\n\n')[0]!;
        for (const w of head.split(/[\s\\]+/)) if (/\.(h|hh)$/.test(w) && !w.startsWith('/') && !w.startsWith(t.info.outDir)) counts.set(w, (counts.get(w) ?? 0) + 1);
      }
    }
  };
  walk(path.join(t.make, t.info.outDir));
  const target = share * t.info.tus;
  let best: [string, number] = ['', 0];
  for (const [h, n] of counts) if (Math.abs(n - target) < Math.abs(best[1] - target)) best = [h, n];
  return { header: best[0], readers: best[1] };
}

export function appendTo(t: Trees, rel: string, text: string): void {
  for (const d of [t.osvd, t.make, t.ninja]) fs.appendFileSync(path.join(d, rel), text);
}

export function dirSizeMb(p: string): number {
  const r = spawnSync('du', ['-sk', p], { encoding: 'utf8' });
  return Number(r.stdout.split('\t')[0] ?? NaN) / 1024;
}
