/**
 * Synthetic OSv-shaped source trees, so osvd, make and ninja can be measured at OSv's scale
 * (and beyond) without OSv itself. See bench/synth/README.md.
 *
 *   node dist/bench/synth/cli.js --tus 1200 --out /tmp/tree [--seed 1] [--extra-files N] [--force]
 *
 * A tree has the Makefile conventions of examples/mini-osv (profiles, the generated drivers config
 * header, conf_hide_symbols, per-folder and per-file flags, `-MD -MT $@ -MP` depfiles, V=1). It builds
 * with the real gcc/g++/ld, or with `make COMPILER=stub`, where scripts/stub-cc stands in for them.
 * The same seed and options always give the same tree, byte for byte.
 *
 * This file draws the tree (generateTree and its steps) and writes it. The rest is in shape.ts (the
 * randomness, the groups and the tree's types), texts.ts (the text of headers and TUs), makefile.ts,
 * extraFiles.ts (the README and the non-source files) and writer.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeExtraFiles, treeReadme } from './extraFiles.js';
import { linkOrder, makefileText } from './makefile.js';
import {
  ASM_DEFS_H, DEBUG_H, DRIVERS, ENTRY_S, EXPORT_H, INTRINSICS_HH,
  LOADER_LD, PROFILES, SHARED_WITH_EXAMPLE, SPINLOCK_H, STUB_CC, SWITCH_S, TYPES_H, driversOf, type Driver,
} from './scripts.js';
import {
  API_SUBS, DRIVER_ORDER, GENERIC_WORDS, GROUPS, OSV_SUBS, Rng, SUFFIXES, type Folder, type GroupDef, type Header, type Tu,
} from './shape.js';
import { headerText, tuText } from './texts.js';
import { Writer } from './writer.js';

/** examples/mini-osv, whose generator script and profiles the synthetic trees share (from dist/bench/synth). */
const EXAMPLE_TREE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'examples', 'mini-osv');

export interface GenerateOptions {
  /** C and C++ translation units (the two assembler files come on top). At least 20. */
  tus: number;
  seed?: number;
  /** Non-source files (docs, tests, scripts, modules); default: enough for ~7.5 files per TU. */
  extraFiles?: number;
}

export interface TreeInfo {
  dir: string;
  seed: number;
  /** The build folder make uses by default, relative to the tree. */
  outDir: string;
  /** C and C++ translation units. */
  tus: number;
  cTus: number;
  cxxTus: number;
  /** Assembler sources (arch/x64/entry.S, switch.S), not counted in tus. */
  asmFiles: number;
  /** Folders holding translation units. */
  folders: number;
  headers: number;
  /** Every file written, this list's synth-tree.json included. */
  files: number;
  extraFiles: number;
  /** Translation units that are built only when their driver is on. */
  driverTus: number;
  drivers: string[];
  /** Headers each C/C++ TU reads (transitively, -include and the generated header counted). */
  includesPerTu: { min: number; mean: number; max: number };
  /** Objects (relative to the tree) whose sources include $(out)/gen/include/osv/drivers_config.h. */
  driversConfigIncluders: string[];
  /** The objects linked into loader.elf for each drivers profile (default mode and arch). */
  objectsByProfile: Record<string, string[]>;
}

export const OUT_DIR = 'build/release.x64';
const INTRINSICS_PATH = 'compiler/include/intrinsics.hh';

// ---------------------------------------------------------------------------------------------
// Generation
// ---------------------------------------------------------------------------------------------

export function generateTree(dir: string, opts: GenerateOptions): TreeInfo {
  const n = Math.floor(opts.tus);
  if (!Number.isFinite(n) || n < 20) throw new Error(`tus must be at least 20 (got ${opts.tus})`);
  const seed = (opts.seed ?? 1) >>> 0;
  const rng = new Rng(seed);
  const root = path.resolve(dir);
  if (fs.existsSync(root) && fs.readdirSync(root).length > 0) throw new Error(`${root} exists and is not empty`);

  // Every TU and header gets a symbol of its own (its functions and namespaces are named after it).
  const usedSyms = new Set<string>();
  const uniqueSym = (base: string): string => {
    let s = base.replace(/[^A-Za-z0-9_]/g, '_');
    if (/^[0-9]/.test(s)) s = `_${s}`;
    let k = 2;
    let out = s;
    while (usedSyms.has(out)) out = `${s}_${k++}`;
    usedSyms.add(out);
    return out;
  };

  // The steps draw from one random stream, in this order; each fills in more of the tree.
  const { folders, tus, rootFolder } = placeTus(n, rng, uniqueSym);
  const { popular, rareHeaders, headerPaths } = makeHeaders(n, rng, folders, tus, rootFolder, uniqueSym);
  includeHeadersInHeaders(rng, rareHeaders, popular);
  includeHeadersInTus(rng, tus, rareHeaders, popular, rootFolder);
  ownHeaderApis(rng, tus);
  pickDriversConfigIncluders(n, rng, tus);
  const { folderFlags, fileFlags, hideTus } = pickFlags(n, rng, folders, tus);

  // --- Writing ---------------------------------------------------------------------------------
  const w = new Writer(root);
  w.write('scripts/stub-cc', STUB_CC, 0o755);
  for (const p of SHARED_WITH_EXAMPLE) {
    const from = path.join(EXAMPLE_TREE, p);
    w.write(p, fs.readFileSync(from, 'utf8'), fs.statSync(from).mode & 0o777);
  }
  w.write('arch/x64/loader.ld', LOADER_LD);
  w.write(INTRINSICS_PATH, INTRINSICS_HH);
  w.write('include/osv/types.h', TYPES_H);
  w.write('include/osv/debug.h', DEBUG_H);
  w.write('include/osv/export.h', EXPORT_H);
  w.write('include/osv/spinlock.h', SPINLOCK_H);
  w.write('arch/x64/asm-defs.h', ASM_DEFS_H);
  w.write('arch/x64/entry.S', ENTRY_S);
  w.write('arch/x64/switch.S', SWITCH_S);
  for (const h of rareHeaders) w.write(h.path, headerText(h, rng));
  for (const t of tus) w.write(t.path, tuText(t, seed, rng));

  const exported = tus.filter((t) => t.exported);
  w.write('exported_symbols/osv.symbols', exported.filter((t) => t.folder.group.name !== 'libc').map((t) => `${t.sym}_f0\n`).sort().join(''));
  w.write('exported_symbols/libc.symbols', exported.filter((t) => t.folder.group.name === 'libc').map((t) => `${t.sym}_f0\n`).sort().join(''));
  w.write('Makefile', makefileText(n, seed, tus, folderFlags, fileFlags, hideTus));

  const objectOf = (p: string): string => `${OUT_DIR}/${p.replace(/\.(c|cc|S)$/, '.o')}`;
  const objectsByProfile: Record<string, string[]> = {};
  for (const profile of PROFILES) {
    const on = driversOf(profile);
    objectsByProfile[profile] = linkOrder(tus, on).map(objectOf);
  }

  // Transitive includes of each TU (what its depfile lists besides the source).
  const closures = tus.map((t) => {
    const seen = new Set<string>([INTRINSICS_PATH]);
    const visit = (h: Header): void => {
      if (seen.has(h.path)) return;
      seen.add(h.path);
      for (const g of h.includes) visit(g);
    };
    for (const h of [...t.popular, ...t.direct]) visit(h);
    return seen.size + (t.driversConfig ? 1 : 0);
  });

  // Extra non-source files, then the README and the description of the tree.
  const baseFiles = w.count + 2;
  const extra = opts.extraFiles ?? Math.max(0, Math.round(n * 7.5) - baseFiles);
  writeExtraFiles(w, rng, extra, tus);
  w.write('README.md', treeReadme(n, seed));

  const info: TreeInfo = {
    dir: root,
    seed,
    outDir: OUT_DIR,
    tus: tus.length,
    cTus: tus.filter((t) => t.lang === 'c').length,
    cxxTus: tus.filter((t) => t.lang === 'cxx').length,
    asmFiles: 2,
    folders: folders.length,
    headers: headerPaths.size,
    files: w.count + 1,
    extraFiles: extra,
    driverTus: tus.filter((t) => t.driver).length,
    drivers: [...DRIVERS],
    includesPerTu: {
      min: Math.min(...closures),
      mean: Math.round((closures.reduce((a, b) => a + b, 0) / closures.length) * 10) / 10,
      max: Math.max(...closures),
    },
    driversConfigIncluders: tus.filter((t) => t.driversConfig).map((t) => objectOf(t.path)),
    objectsByProfile,
  };
  // The folder is left out of the file, so that the tree does not depend on where it was written.
  w.write('synth-tree.json', `${JSON.stringify({ ...info, dir: '.' }, null, 1)}\n`);
  return info;
}

/** The four popular headers, read by most TUs (types.h by all of them). */
interface PopularHeaders {
  types: Header;
  debug: Header;
  exportH: Header;
  spinlock: Header;
}

/** Spreads the TUs over the groups' folders and picks each one's name, language and driver. loader.cc comes first. */
function placeTus(n: number, rng: Rng, uniqueSym: (base: string) => string): { folders: Folder[]; tus: Tu[]; rootFolder: Folder } {
  const driverTuCount = Math.max(1, Math.round(n * 0.05));
  const counts = splitCounts(n - 1, GROUPS.map((g) => g.weight));
  const drvIdx = GROUPS.findIndex((g) => g.name === 'drivers');
  const muslIdx = GROUPS.findIndex((g) => g.name === 'musl');
  if (counts[drvIdx]! < driverTuCount + 1) {
    const extra = driverTuCount + 1 - counts[drvIdx]!;
    counts[drvIdx] = driverTuCount + 1;
    counts[muslIdx] = counts[muslIdx]! - extra;
  }

  const folders: Folder[] = [];
  const tus: Tu[] = [];
  const newTu = (folder: Folder, stem: string, lang: 'c' | 'cxx', driver?: Driver): Tu => {
    const file = `${stem}.${lang === 'c' ? 'c' : 'cc'}`;
    const p = folder.path ? `${folder.path}/${file}` : file;
    const tu: Tu = {
      index: tus.length, path: p, folder, lang, sym: uniqueSym(p.replace(/\.[^.]*$/, '')), driver,
      popular: [], direct: [], owns: [], driversConfig: false, exported: false, calls: new Set(),
    };
    tus.push(tu);
    folder.tus.push(tu);
    return tu;
  };

  const rootFolder: Folder = { path: '', group: GROUPS[1]!, tus: [], stems: new Set(['loader']), cxxShare: 1 };
  folders.push(rootFolder);
  newTu(rootFolder, 'loader', 'cxx');

  for (let gi = 0; gi < GROUPS.length; gi++) {
    const g = GROUPS[gi]!;
    const count = counts[gi]!;
    const nf = Math.max(1, Math.round(count / 8));
    const gFolders: Folder[] = [];
    for (let k = 0; k < nf; k++) {
      let p: string;
      if (k === 0 && g.root !== null) p = g.root;
      else {
        const j = g.root !== null ? k - 1 : k;
        const sub = g.subs[j % g.subs.length]!;
        const round = Math.floor(j / g.subs.length);
        p = `${g.base}/${sub}${round === 0 ? '' : String(round + 1)}`;
      }
      gFolders.push({ path: p, group: g, tus: [], stems: new Set(), cxxShare: 0 });
    }
    // Every folder gets one TU, the rest go by per-folder weights (folders differ in size).
    const weights = gFolders.map(() => 0.4 + rng.next() * 1.2);
    const slots: number[] = gFolders.map(() => 1);
    for (let k = nf; k < count; k++) slots[rng.weighted(weights)]!++;
    // Driver TUs go to the drivers group, in driver round-robin order.
    let driverLeft = g.name === 'drivers' ? driverTuCount : 0;
    let driverNext = 0;
    for (let fi = 0; fi < nf; fi++) {
      const folder = gFolders[fi]!;
      folders.push(folder);
      for (let k = 0; k < slots[fi]!; k++) {
        if (driverLeft > 0 && (rng.chance(driverLeft / Math.max(1, remainingIn(slots, fi, k))) || driverLeft >= remainingIn(slots, fi, k))) {
          const drv = DRIVER_ORDER[driverNext++ % DRIVER_ORDER.length]!;
          driverLeft--;
          const base = drv.replace(/_/g, '-');
          const stem = uniqueStem(folder, () => (folder.stems.has(base) ? `${base}-${rng.pick(GENERIC_WORDS)}` : base));
          newTu(folder, stem, 'cxx', drv);
          continue;
        }
        const lang = rng.chance(g.cxx) ? 'cxx' : 'c';
        const stem = uniqueStem(folder, () => tuStem(rng, g));
        newTu(folder, stem, lang);
      }
      folder.cxxShare = folder.tus.filter((t) => t.lang === 'cxx').length / folder.tus.length;
    }
  }
  return { folders, tus, rootFolder };
}

/** The popular headers and the rare ones (about 2.5 a TU), each with its path, language and level. */
function makeHeaders(
  n: number,
  rng: Rng,
  folders: readonly Folder[],
  tus: readonly Tu[],
  rootFolder: Folder,
  uniqueSym: (base: string) => string,
): { popular: PopularHeaders; rareHeaders: Header[]; headerPaths: Set<string> } {
  const muslIdx = GROUPS.findIndex((g) => g.name === 'musl');
  const headers: Header[] = [];
  const headerPaths = new Set<string>();
  const coreGroup = GROUPS[1]!;
  const popular = {
    types: mkHeader('include/osv/types.h', 'c', 0, coreGroup),
    debug: mkHeader('include/osv/debug.h', 'c', 0, coreGroup),
    exportH: mkHeader('include/osv/export.h', 'c', 0, coreGroup),
    spinlock: mkHeader('include/osv/spinlock.h', 'c', 0, coreGroup),
  };
  popular.debug.popularMix = 'osv_debug_mix';
  popular.spinlock.popularMix = 'osv_spinlock_mix';
  popular.debug.includes.push(popular.types);
  popular.spinlock.includes.push(popular.types);
  headerPaths.add(INTRINSICS_PATH);
  headerPaths.add('arch/x64/asm-defs.h');
  const fixedHeaders = 2 + headers.length; // intrinsics.hh, asm-defs.h and the popular ones

  function mkHeader(p: string, lang: 'c' | 'cxx', level: number, group: GroupDef, folder?: Folder): Header {
    const h: Header = { path: p, lang, level, sym: uniqueSym(`${p.replace(/\.[^.]*$/, '').replace(/^include\/(api\/)?/, '')}_h`), group, folder, includes: [] };
    headers.push(h);
    headerPaths.add(p);
    return h;
  }

  const totalHeaders = Math.round(n * 2.5);
  const rare = Math.max(10, totalHeaders - fixedHeaders);
  const tuWeights = GROUPS.map((g) => tus.filter((t) => t.folder.group === g).length);
  const folderWeights = folders.map((f) => (f === rootFolder ? 0 : f.tus.length));
  const dirStems = new Map<string, Set<string>>();
  const stemsIn = (d: string): Set<string> => {
    let s = dirStems.get(d);
    if (!s) {
      s = new Set();
      dirStems.set(d, s);
    }
    return s;
  };
  stemsIn('include/osv').add('types').add('debug').add('export').add('spinlock').add('drivers_config');
  let osvCount = 0;
  let apiCount = 0;
  const rareHeaders: Header[] = [];
  for (let i = 0; i < rare; i++) {
    const level = rng.weighted([0.4, 0.35, 0.25]) + 1;
    const kind = rng.weighted([0.5, 0.35, 0.15]);
    let h: Header;
    if (kind === 0) {
      const folder = folders[rng.weighted(folderWeights)]!;
      const lang = rng.chance(folder.cxxShare) ? 'cxx' : 'c';
      const d = folder.path;
      const stem = uniqueIn(stemsIn(d), () => headerStem(rng, folder.group));
      h = mkHeader(`${d ? `${d}/` : ''}${stem}.${lang === 'c' ? 'h' : 'hh'}`, lang, level, folder.group, folder);
    } else if (kind === 1) {
      const group = GROUPS[rng.weighted(tuWeights)]!;
      const lang = rng.chance(Math.min(0.9, group.cxx)) ? 'cxx' : 'c';
      const bucket = Math.floor(osvCount++ / 150);
      const d = bucket === 0 ? 'include/osv' : `include/osv/${OSV_SUBS[(bucket - 1) % OSV_SUBS.length]}${bucket > OSV_SUBS.length ? String(Math.ceil(bucket / OSV_SUBS.length)) : ''}`;
      const stem = uniqueIn(stemsIn(d), () => headerStem(rng, group));
      h = mkHeader(`${d}/${stem}.${lang === 'c' ? 'h' : 'hh'}`, lang, level, group);
    } else {
      const group = rng.chance(0.5) ? GROUPS[muslIdx]! : rng.chance(0.5) ? GROUPS[4]! : GROUPS[rng.weighted(tuWeights)]!;
      const bucket = Math.floor(apiCount++ / 150);
      const d = `include/api/${API_SUBS[bucket % API_SUBS.length]}${bucket >= API_SUBS.length ? String(Math.floor(bucket / API_SUBS.length) + 1) : ''}`;
      const stem = uniqueIn(stemsIn(d), () => headerStem(rng, group));
      h = mkHeader(`${d}/${stem}.h`, 'c', level, group);
    }
    rareHeaders.push(h);
  }
  return { popular, rareHeaders, headerPaths };
}

function includeHeadersInHeaders(rng: Rng, rareHeaders: readonly Header[], popular: PopularHeaders): void {
  // Header -> header includes: level 2 include level-1 headers, level 3 include level 2 (and 1).
  const byLevel = (level: number, group: GroupDef | undefined, cOnly: boolean): Header[] =>
    rareHeaders.filter((h) => h.level === level && (!group || h.group === group) && (!cOnly || h.lang === 'c'));
  const levelCache = new Map<string, Header[]>();
  const candidates = (level: number, group: GroupDef | undefined, cOnly: boolean): Header[] => {
    const key = `${level}/${group?.name ?? '*'}/${cOnly}`;
    let l = levelCache.get(key);
    if (!l) {
      l = byLevel(level, group, cOnly);
      levelCache.set(key, l);
    }
    return l;
  };
  const pickHeader = (level: number, h: Header): Header | undefined => {
    const cOnly = h.lang === 'c';
    let pool = rng.chance(0.8) ? candidates(level, h.group, cOnly) : [];
    if (pool.length === 0) pool = candidates(level, undefined, cOnly);
    return pool.length ? rng.pick(pool) : undefined;
  };
  for (const h of rareHeaders) {
    h.includes.push(popular.types);
    if (h.level === 1 && rng.chance(0.25)) h.includes.push(popular.spinlock);
    const wanted = h.level === 2 ? [1, ...(rng.chance(0.5) ? [1] : [])] : h.level === 3 ? [2, ...(rng.chance(0.5) ? [1] : [])] : [];
    for (const level of wanted) {
      const g = pickHeader(level, h);
      if (g && !h.includes.includes(g)) h.includes.push(g);
    }
  }
}

function includeHeadersInTus(rng: Rng, tus: Tu[], rareHeaders: readonly Header[], popular: PopularHeaders, rootFolder: Folder): void {
  // Header -> TU includes: each rare header is included directly by a few TUs, mostly near its home.
  const cxxTus = tus.filter((t) => t.lang === 'cxx');
  const groupTus = new Map<GroupDef, { all: Tu[]; cxx: Tu[] }>();
  for (const g of GROUPS) {
    const all = tus.filter((t) => t.folder.group === g);
    groupTus.set(g, { all, cxx: all.filter((t) => t.lang === 'cxx') });
  }
  const scopeFor = (h: Header): Tu[][] => {
    const lang = (list: Tu[]): Tu[] => (h.lang === 'cxx' ? list.filter((t) => t.lang === 'cxx') : list);
    const g = groupTus.get(h.group)!;
    const grp = h.lang === 'cxx' ? g.cxx : g.all;
    const any = h.lang === 'cxx' ? cxxTus : tus;
    if (h.folder) return [lang(h.folder.tus), grp, any];
    return [grp, grp, any];
  };
  // Popular headers and exports first: they count towards each TU's include budget.
  for (const t of tus) {
    const g = t.folder.group.name;
    t.exported = !t.driver && (t.folder === rootFolder || g === 'core' || g === 'libc') && t.index % 2 === 0;
    t.popular.push(popular.types);
    if (rng.chance(0.85)) t.popular.push(popular.debug);
    if (t.exported || rng.chance(0.7)) t.popular.push(popular.exportH);
    if (rng.chance(0.6)) t.popular.push(popular.spinlock);
  }
  // What including a header brings in (itself and what it includes, transitively).
  const closureOf = new Map<Header, Set<Header>>();
  const headerClosure = (h: Header): Set<Header> => {
    let c = closureOf.get(h);
    if (!c) {
      c = new Set([h]);
      for (const g of h.includes) for (const x of headerClosure(g)) c.add(x);
      closureOf.set(h, c);
    }
    return c;
  };
  // Headers each TU reads (besides intrinsics.hh and drivers_config.h), kept between MIN and MAX.
  const MIN_READ = 9;
  const MAX_READ = 23;
  const reads = new Map<Tu, Set<Header>>();
  for (const t of tus) {
    const r = new Set<Header>();
    for (const h of t.popular) for (const x of headerClosure(h)) r.add(x);
    reads.set(t, r);
  }
  const grows = (t: Tu, h: Header): number => {
    const r = reads.get(t)!;
    let k = 0;
    for (const x of headerClosure(h)) if (!r.has(x)) k++;
    return k;
  };
  const include = (t: Tu, h: Header): void => {
    t.direct.push(h);
    const r = reads.get(t)!;
    for (const x of headerClosure(h)) r.add(x);
  };
  // Each rare header is included directly by a few TUs, mostly near its home; of two candidates the
  // one with fewer includes so far gets it (which keeps the per-TU counts close together).
  for (const h of rareHeaders) {
    const c = h.level === 1 ? [0, 1, 2, 3][rng.weighted([0.35, 0.3, 0.2, 0.15])]! : [1, 2, 3, 4, 6][rng.weighted([0.3, 0.35, 0.2, 0.1, 0.05])]!;
    const scopes = scopeFor(h);
    const chosen = new Set<Tu>();
    for (let k = 0; k < c * 4 && chosen.size < c; k++) {
      const s = rng.weighted([0.7, 0.25, 0.05]);
      const pool = scopes[s]!.length ? scopes[s]! : scopes.find((x) => x.length) ?? [];
      if (pool.length === 0) break;
      const a = rng.pick(pool);
      const b = rng.pick(pool);
      const t = reads.get(b)!.size < reads.get(a)!.size ? b : a;
      if (chosen.has(t) || t.direct.includes(h) || reads.get(t)!.size + grows(t, h) > MAX_READ) continue;
      chosen.add(t);
      include(t, h);
    }
  }
  // TUs that read too few headers get more from their folder or group.
  const localPools = new Map<string, Header[]>();
  for (const t of tus) {
    if (reads.get(t)!.size >= MIN_READ) continue;
    const key = `${t.folder.path}/${t.lang}`;
    let local = localPools.get(key);
    if (!local) {
      local = rareHeaders.filter((h) => (h.folder === t.folder || h.group === t.folder.group) && (h.lang === 'c' || t.lang === 'cxx'));
      localPools.set(key, local);
    }
    const pool = local.length ? local : rareHeaders.filter((h) => h.lang === 'c');
    for (let k = 0; k < 50 && reads.get(t)!.size < MIN_READ; k++) {
      const h = rng.pick(pool);
      if (t.direct.includes(h) || reads.get(t)!.size + grows(t, h) > MAX_READ) continue;
      include(t, h);
    }
  }
}

function ownHeaderApis(rng: Rng, tus: readonly Tu[]): void {
  // Include order, owners of header APIs, and the TUs that call those APIs.
  for (const t of tus) {
    t.direct.sort((a, b) => includeOrder(a, t) - includeOrder(b, t) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
  for (const t of tus) {
    for (const h of t.direct) {
      if (!h.owner && !t.driver) {
        h.owner = t;
        t.owns.push(h);
      }
    }
  }
  for (const t of tus) for (const h of t.direct) if (h.owner && h.owner !== t && rng.chance(0.5)) t.calls.add(h);
}

/** loader.cc and about 1.5% of the other TUs (arch, core, drivers, fs) include drivers_config.h. */
function pickDriversConfigIncluders(n: number, rng: Rng, tus: readonly Tu[]): void {
  const dcCount = Math.max(1, Math.round(n * 0.015));
  tus[0]!.driversConfig = true; // loader.cc, as in OSv
  const dcPool = tus.filter((t) => ['arch', 'core', 'drivers', 'fs'].includes(t.folder.group.name) && t.index !== 0);
  for (let k = 1; k < dcCount && dcPool.length; k++) {
    const i = rng.int(dcPool.length);
    dcPool[i]!.driversConfig = true;
    dcPool.splice(i, 1);
  }
}

/** Per-folder and per-file flags for the Makefile, and the three TUs that conf_hide_symbols=1 flags. */
function pickFlags(
  n: number,
  rng: Rng,
  folders: readonly Folder[],
  tus: readonly Tu[],
): { folderFlags: { folder: Folder; line: string }[]; fileFlags: { tu: Tu; line: string }[]; hideTus: Tu[] } {
  const subFolders = folders.filter((f) => f.path && !GROUPS.some((g) => g.root === f.path));
  const folderFlags: { folder: Folder; line: string }[] = [];
  const nFolderFlags = Math.max(2, Math.round(subFolders.length * 0.04));
  const flagFolders = new Set<Folder>();
  for (let k = 0; k < nFolderFlags * 3 && flagFolders.size < nFolderFlags; k++) flagFolders.add(rng.pick(subFolders));
  for (const f of [...flagFolders].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const kind = rng.int(3);
    const hasC = f.tus.some((t) => t.lang === 'c');
    const line =
      kind === 0 ? `COMMON += -D${f.path.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}_FOLDER=1`
        : kind === 1 ? `${hasC ? 'CFLAGS' : 'CXXFLAGS'} += -fno-strict-aliasing`
          : 'COMMON += -fwrapv';
    folderFlags.push({ folder: f, line });
  }
  const fileFlags: { tu: Tu; line: string }[] = [];
  const nFileFlags = Math.max(3, Math.round(n / 150));
  const flagTus = new Set<Tu>();
  for (let k = 0; k < nFileFlags * 3 && flagTus.size < nFileFlags; k++) flagTus.add(tus[1 + rng.int(tus.length - 1)]!);
  for (const t of [...flagTus].sort((a, b) => a.index - b.index)) {
    const v = t.lang === 'c' ? 'CFLAGS' : 'CXXFLAGS';
    const kind = rng.int(4);
    const line =
      kind === 0 ? `${v} += -O3`
        : kind === 1 ? `${v} += -fno-strict-aliasing`
          : kind === 2 ? 'COMMON += -DVERSION_MAJOR=0 -DVERSION_MINOR=3'
            : `${v} += -fno-tree-vectorize`;
    fileFlags.push({ tu: t, line });
  }
  const hideTus = [tus[0]!, tus.find((t) => t.index > 0 && t.folder.group.name === 'core')!, tus.find((t) => t.folder.group.name === 'libc')!];
  return { folderFlags, fileFlags, hideTus };
}

/** Split total into parts proportional to weights (largest remainder), each at least 1. */
function splitCounts(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const raw = weights.map((w) => (total * w) / sum);
  const out = raw.map((r) => Math.max(1, Math.floor(r)));
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; left > 0; k++, left--) out[order[k % order.length]![1]]!++;
  while (left < 0) {
    const i = out.indexOf(Math.max(...out));
    out[i]!--;
    left++;
  }
  return out;
}

function remainingIn(slots: readonly number[], fi: number, k: number): number {
  let r = slots[fi]! - k;
  for (let j = fi + 1; j < slots.length; j++) r += slots[j]!;
  return r;
}

function uniqueIn(stems: Set<string>, make: () => string): string {
  for (let k = 0; k < 20; k++) {
    const s = make();
    if (!stems.has(s)) {
      stems.add(s);
      return s;
    }
  }
  const base = make();
  let k = 2;
  while (stems.has(`${base}${k}`)) k++;
  stems.add(`${base}${k}`);
  return `${base}${k}`;
}

function uniqueStem(folder: Folder, make: () => string): string {
  return uniqueIn(folder.stems, make);
}

function tuStem(rng: Rng, g: GroupDef): string {
  const r = rng.next();
  if (r < 0.45) return rng.pick(g.words);
  if (r < 0.75) return `${rng.pick(g.words)}${rng.pick(SUFFIXES)}`;
  return `${rng.pick(GENERIC_WORDS)}${rng.pick(SUFFIXES)}`;
}

function headerStem(rng: Rng, g: GroupDef): string {
  const r = rng.next();
  if (r < 0.35) return rng.pick(g.words);
  if (r < 0.6) return rng.pick(GENERIC_WORDS);
  return `${rng.pick(rng.chance(0.5) ? g.words : GENERIC_WORDS)}${rng.pick(SUFFIXES)}`;
}

function includeOrder(h: Header, t: Tu): number {
  if (h.path.startsWith('include/osv/')) return 1;
  if (h.path.startsWith('include/api/')) return 2;
  if (h.folder && h.folder === t.folder) return 4;
  return 3;
}
