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
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { prng } from '../prng.js';
import {
  ASM_DEFS_H, DEBUG_H, DRIVERS, ENTRY_S, EXPORT_H, INTRINSICS_HH,
  LOADER_LD, PROFILES, SHARED_WITH_EXAMPLE, SPINLOCK_H, STUB_CC, SWITCH_S, TYPES_H, driversOf, type Driver,
} from './scripts.js';

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
const DRIVERS_CONFIG = 'osv/drivers_config.h';

// ---------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------

/** mulberry32 (../prng.ts): small, fast, good enough for shaping a tree. */
class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = prng(seed ^ 0x9e3779b9);
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }
  /** An index drawn with the given weights. */
  weighted(weights: readonly number[]): number {
    const total = weights.reduce((a, b) => a + b, 0);
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      x -= weights[i]!;
      if (x < 0) return i;
    }
    return weights.length - 1;
  }
}

// ---------------------------------------------------------------------------------------------
// Shape of the tree
// ---------------------------------------------------------------------------------------------

interface GroupDef {
  name: string;
  /** Folder for TUs at the group's top, or null when all of them are in subfolders. */
  root: string | null;
  base: string;
  /** Make variable listing the group's objects. */
  variable: string;
  weight: number;
  /** Share of C++ TUs. */
  cxx: number;
  subs: readonly string[];
  words: readonly string[];
}

const GENERIC_WORDS = [
  'alloc', 'buf', 'cache', 'chan', 'clock', 'cond', 'cpu', 'ctx', 'dev', 'dir', 'dma', 'entry', 'event', 'fd',
  'file', 'frame', 'hash', 'heap', 'init', 'inode', 'io', 'irq', 'kobj', 'lock', 'log', 'map', 'mem', 'mount',
  'mutex', 'node', 'page', 'pipe', 'poll', 'pool', 'port', 'proc', 'queue', 'rand', 'ring', 'rwlock', 'sem',
  'shm', 'sock', 'stack', 'stat', 'sync', 'table', 'task', 'thread', 'timer', 'tls', 'trace', 'tree', 'tty',
  'uio', 'vnode', 'wait', 'work', 'xfer', 'bitmap', 'bio', 'callout', 'cred', 'epoll', 'futex', 'kmem', 'ldt',
  'link', 'msg', 'notify', 'object', 'option', 'perf', 'prio', 'quota', 'ref', 'region', 'sbuf', 'seq', 'slab',
  'state', 'symbol', 'tag', 'token', 'unit', 'vec', 'vm', 'zone',
];
const SUFFIXES = ['_ops', '_util', '_core', '_map', '_list', '_impl', '_io', '_tab', '_ctl', '_wq', '_rt', '_hw', '_cfg'];
const MUSL_WORDS = [
  'strlen', 'strcpy', 'strncpy', 'strchr', 'strrchr', 'strstr', 'strtok', 'memcpy', 'memmove', 'memset', 'memcmp',
  'memchr', 'wcslen', 'wcscpy', 'vfprintf', 'vfscanf', 'snprintf', 'sscanf', 'fopen', 'fclose', 'fread', 'fwrite',
  'fseek', 'ftell', 'fgets', 'fputs', 'getc', 'putc', 'ungetc', 'setvbuf', 'atoi', 'atol', 'strtol', 'strtod',
  'qsort', 'bsearch', 'abs', 'div', 'getenv', 'setenv', 'sin', 'cos', 'tan', 'exp', 'log', 'pow', 'sqrt', 'floor',
  'ceil', 'fmod', 'frexp', 'ldexp', 'modf', 'round', 'trunc', 'hypot', 'atan2', 'mktime', 'gmtime', 'localtime',
  'strftime', 'clock_gettime', 'nanosleep', 'socket', 'bind', 'connect', 'accept', 'listen', 'send', 'recv',
  'getaddrinfo', 'inet_pton', 'inet_ntop', 'htons', 'setlocale', 'iconv', 'wctype', 'mbrtowc', 'wcrtomb', 'rand',
  'random', 'regcomp', 'regexec', 'tsearch', 'hsearch', 'pselect', 'sigaction', 'raise', 'pthread_create',
  'pthread_join', 'sem_wait', 'read', 'write', 'close', 'dup', 'access', 'chdir', 'getcwd', 'lseek', 'readdir',
  'opendir', 'crypt', 'fenv', 'cexp', 'csqrt', 'mmap', 'munmap', 'mprotect', 'getpwnam', 'execve', 'posix_spawn',
  'sched_yield', 'stat', 'fstat', 'mkstemp', 'tcgetattr', 'aio_read', 'sysconf', 'atexit', 'fcntl', 'open', 'setjmp',
];
const GROUPS: readonly GroupDef[] = [
  {
    name: 'arch', root: 'arch/x64', base: 'arch/x64', variable: 'arch-objects', weight: 0.04, cxx: 0.85,
    subs: ['cpu', 'mmu', 'intr', 'smp', 'boot', 'fpu', 'hyper', 'tsc', 'paging', 'power'],
    words: ['apic', 'cpuid', 'msr', 'gdt', 'idt', 'tss', 'pvclock', 'kvmclock', 'xsave', 'ioapic', 'smp', 'setup', 'exceptions', 'mmu', 'dump'],
  },
  {
    name: 'core', root: 'core', base: 'core', variable: 'core', weight: 0.12, cxx: 0.95,
    subs: ['sched', 'mm', 'locking', 'time', 'elf', 'tracing', 'netcore', 'syscalls', 'power', 'runtime', 'boot', 'app', 'shmem', 'ipc', 'rcu'],
    words: ['sched', 'mutex', 'semaphore', 'mempool', 'mmu', 'timekeeping', 'debug', 'runtime', 'elf', 'commands', 'osv_api', 'rcu', 'percpu', 'trace', 'condvar', 'waitqueue', 'epoll', 'poll', 'select', 'pagecache', 'app', 'options', 'async', 'clock', 'power', 'shutdown', 'chart', 'lfmutex', 'spinlock', 'net_channel'],
  },
  {
    name: 'drivers', root: 'drivers', base: 'drivers', variable: 'drivers', weight: 0.07, cxx: 0.95,
    subs: ['virtio', 'pcibus', 'acpica', 'block', 'netdev', 'console', 'storage', 'bus', 'clocksrc', 'xenbus', 'hyperv', 'vmware'],
    words: ['console', 'device', 'driver', 'clock', 'random', 'zero', 'null', 'isa_serial', 'kbd', 'rtc', 'mmio', 'interrupt', 'line_discipline', 'clockevent', 'vga_console'],
  },
  {
    name: 'fs', root: 'fs', base: 'fs', variable: 'fs_objs', weight: 0.07, cxx: 0.6,
    subs: ['vfs', 'ramfs', 'devfs', 'procfs', 'sysfs', 'rofs', 'nfs', 'virtiofs', 'zfs', 'pseudofs', 'ext'],
    words: ['vfs_mount', 'vfs_vnode', 'vfs_lookup', 'vfs_syscalls', 'vfs_fops', 'vfs_bio', 'ramfs_vnops', 'devfs_vnops', 'procfs_vnops', 'sysfs_vnops', 'rofs_cache', 'nfs_vfsops', 'fs_init', 'file_cache', 'dentry'],
  },
  {
    name: 'libc', root: 'libc', base: 'libc', variable: 'libc', weight: 0.14, cxx: 0.25,
    subs: ['string', 'stdio', 'pthread', 'time', 'network', 'locale', 'misc', 'process', 'signal', 'mman', 'unistd', 'aio', 'ipcs', 'prng', 'stdlib', 'termios'],
    words: ['malloc', 'printf', 'string', 'ctype', 'errno', 'stdlib', 'pthread', 'signal', 'mman', 'time', 'timerfd', 'eventfd', 'pipe', 'sem', 'random', 'getopt', 'user', 'resource', 'sysinfo', 'eventfd', 'af_local', 'dlfcn', 'cxa_thread', 'vdso'],
  },
  {
    name: 'musl', root: null, base: 'musl/src', variable: 'musl', weight: 0.38, cxx: 0,
    subs: ['string', 'stdio', 'stdlib', 'math', 'time', 'network', 'locale', 'ctype', 'env', 'errno', 'malloc', 'misc', 'multibyte', 'prng', 'regex', 'search', 'select', 'signal', 'thread', 'unistd', 'complex', 'crypt', 'dirent', 'fenv', 'internal', 'ipc', 'legacy', 'linux', 'mman', 'passwd', 'process', 'sched', 'stat', 'temp', 'termios', 'aio', 'conf', 'exit', 'fcntl', 'setjmp'],
    words: MUSL_WORDS,
  },
  {
    name: 'bsd', root: null, base: 'bsd', variable: 'bsd', weight: 0.18, cxx: 0.05,
    subs: [
      'sys/kern', 'sys/net', 'sys/netinet', 'sys/netinet6', 'sys/dev/xen', 'sys/cddl/compat/opensolaris', 'sys/cddl/contrib/opensolaris/uts/common/fs/zfs',
      'sys/vm', 'sys/crypto', 'sys/libkern', 'porting', 'sys/compat/linux', 'sys/dev/hyperv', 'sys/xen', 'sys/x64', 'sys/netinet/cc', 'sys/dev/random',
      'sys/cddl/contrib/opensolaris/common/nvpair', 'sys/cddl/contrib/opensolaris/uts/common/os', 'lib/libz',
    ],
    words: ['uipc_socket', 'uipc_mbuf', 'uipc_syscalls', 'kern_mbuf', 'subr_taskqueue', 'if_ethersubr', 'tcp_input', 'tcp_output', 'tcp_subr', 'tcp_timer', 'udp_usrreq', 'ip_input', 'ip_output', 'in_pcb', 'route', 'radix', 'if_loop', 'arc', 'dmu', 'spa', 'zio', 'zap', 'dsl_pool', 'txg', 'vdev', 'zfs_vnops', 'nvpair', 'inflate', 'deflate', 'crc32', 'md5', 'sha2', 'rijndael', 'netisr', 'bpf', 'kern_time', 'subr_bufring', 'in_cksum'],
  },
];

const API_SUBS = ['sys', 'bits', 'net', 'netinet', 'arpa', 'linux', 'asm', 'scsi', 'xen', 'machine'];
const OSV_SUBS = ['mm', 'sched', 'net', 'vfs', 'virtio', 'sync', 'trace', 'elf', 'app', 'power', 'time', 'bus', 'mem', 'rt', 'boot'];
/** Round-robin order in which drivers get TUs, so that small trees still differ between profiles. */
const DRIVER_ORDER: readonly Driver[] = [
  'virtio', 'virtio_pci', 'virtio_mmio', 'pci', 'virtio_blk', 'virtio_net', 'acpi', 'virtio_fs', 'virtio_scsi',
  'scsi', 'hpet', 'pvpanic', 'ahci', 'ide', 'vga',
];

interface Folder {
  path: string;
  group: GroupDef;
  tus: Tu[];
  stems: Set<string>;
  cxxShare: number;
}

interface Tu {
  index: number;
  path: string;
  folder: Folder;
  lang: 'c' | 'cxx';
  sym: string;
  driver?: Driver;
  popular: Header[];
  direct: Header[];
  owns: Header[];
  driversConfig: boolean;
  exported: boolean;
  /** Call the api of these (directly included, owned elsewhere) headers. */
  calls: Set<Header>;
}

interface Header {
  path: string;
  lang: 'c' | 'cxx';
  level: number;
  sym: string;
  group: GroupDef;
  /** The folder it belongs to, for folder-local headers. */
  folder?: Folder;
  includes: Header[];
  owner?: Tu;
  popularMix?: string;
}

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

  // --- Translation units, folders and languages --------------------------------------------
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

  // --- Headers ------------------------------------------------------------------------------
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
  const intrinsicsPath = 'compiler/include/intrinsics.hh';
  headerPaths.add(intrinsicsPath);
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

  // Include order, owners of header APIs, the drivers config header.
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

  const dcCount = Math.max(1, Math.round(n * 0.015));
  tus[0]!.driversConfig = true; // loader.cc, as in OSv
  const dcPool = tus.filter((t) => ['arch', 'core', 'drivers', 'fs'].includes(t.folder.group.name) && t.index !== 0);
  for (let k = 1; k < dcCount && dcPool.length; k++) {
    const i = rng.int(dcPool.length);
    dcPool[i]!.driversConfig = true;
    dcPool.splice(i, 1);
  }

  // --- Flags -----------------------------------------------------------------------------------
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

  // --- Writing ---------------------------------------------------------------------------------
  const w = new Writer(root);
  w.write('scripts/stub-cc', STUB_CC, 0o755);
  for (const p of SHARED_WITH_EXAMPLE) {
    const from = path.join(EXAMPLE_TREE, p);
    w.write(p, fs.readFileSync(from, 'utf8'), fs.statSync(from).mode & 0o777);
  }
  w.write('arch/x64/loader.ld', LOADER_LD);
  w.write(intrinsicsPath, INTRINSICS_HH);
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
    const seen = new Set<string>([intrinsicsPath]);
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
    cxxTus: cxxTus.length,
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

/** Sources of a group's always-built objects, in Makefile order (arch: the assembler files first). */
function groupSources(tus: readonly Tu[], g: GroupDef): string[] {
  const srcs = tus.filter((t) => t.folder.group === g && t.folder.path !== '' && !t.driver).map((t) => t.path);
  return g.name === 'arch' ? ['arch/x64/entry.S', 'arch/x64/switch.S', ...srcs] : srcs;
}

/** The sources linked into loader.elf with the given drivers, in the order the Makefile links them. */
function linkOrder(tus: readonly Tu[], on: ReadonlySet<Driver>): string[] {
  const out: string[] = [];
  for (const g of GROUPS) {
    out.push(...groupSources(tus, g));
    if (g.name === 'arch') out.push(tus[0]!.path);
    if (g.name === 'drivers') for (const d of DRIVERS) if (on.has(d)) out.push(...tus.filter((t) => t.driver === d).map((t) => t.path));
  }
  return out;
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

// ---------------------------------------------------------------------------------------------
// File contents
// ---------------------------------------------------------------------------------------------

/** How `from` (a file at fromPath) includes header h. */
function includeLine(h: Header, fromPath: string): string {
  const fromDir = path.posix.dirname(fromPath);
  const hDir = path.posix.dirname(h.path);
  if (h.folder && hDir === (fromDir === '.' ? '.' : fromDir) && !h.path.startsWith('include/')) return `#include "${path.posix.basename(h.path)}"`;
  if (h.path.startsWith('include/api/')) return `#include <${h.path.slice('include/api/'.length)}>`;
  if (h.path.startsWith('include/')) return `#include <${h.path.slice('include/'.length)}>`;
  return `#include <${h.path}>`;
}

function includeOrder(h: Header, t: Tu): number {
  if (h.path.startsWith('include/osv/')) return 1;
  if (h.path.startsWith('include/api/')) return 2;
  if (h.folder && h.folder === t.folder) return 4;
  return 3;
}

/** An expression using header h's inline function on x. */
function mixCall(h: Header, x: string): string {
  if (h.popularMix) return `${h.popularMix}(${x})`;
  return h.lang === 'c' ? `${h.sym}_mix(${x})` : `${h.sym}::mix<long>(${x})`;
}

function headerText(h: Header, rng: Rng): string {
  const guard = `SYNTH_${h.path.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`;
  const k = rng.range(3, 997);
  const lines: string[] = [
    `/* ${h.path}: synthetic ${h.lang === 'c' ? 'C' : 'C++'} header (level ${h.level}) of the ${h.group.name} code. */`,
    `#ifndef ${guard}`,
    `#define ${guard}`,
    '',
    ...h.includes.map((g) => includeLine(g, h.path)),
    '',
  ];
  const inner = h.includes.filter((g) => g.popularMix || g.level > 0);
  const mixes = inner.map((g) => ` + ${mixCall(g, 'x')}`).join('');
  const api = h.owner ? `${h.sym}_api` : undefined;
  if (h.lang === 'c') {
    lines.push(
      `#define ${h.sym.toUpperCase()}_MAGIC ${k}L`,
      '',
      `struct ${h.sym}_s {`,
      '    u32 flags;',
      '    u64 value;',
      '};',
      '',
      `static inline long ${h.sym}_mix(long x)`,
      '{',
      `    return (x ^ ${h.sym.toUpperCase()}_MAGIC) * ${rng.range(2, 9)}${mixes};`,
      '}',
      '',
    );
    if (api) lines.push('__BEGIN_DECLS', `long ${api}(long x);`, '__END_DECLS', '');
  } else {
    lines.push(
      `namespace ${h.sym} {`,
      '',
      `constexpr long magic = ${k};`,
      '',
      'struct state {',
      '    long value;',
      '    long get() const { return value * magic; }',
      '};',
      '',
      'template <typename T>',
      'inline T mix(T x)',
      '{',
      `    return state{x}.get() + ${rng.range(1, 99)}${mixes};`,
      '}',
      '',
      `} // namespace ${h.sym}`,
      '',
    );
    if (api) lines.push(`long ${api}(long x);`, '');
  }
  lines.push(`#endif /* ${guard} */`, '');
  return lines.join('\n');
}

function tuText(t: Tu, seed: number, rng: Rng): string {
  const cxx = t.lang === 'cxx';
  const lines: string[] = [
    `/* ${t.path}: synthetic ${cxx ? 'C++' : 'C'} translation unit of the ${t.folder.group.name} code${t.driver ? ` (driver ${t.driver})` : ''}; tree seed ${seed}. */`,
  ];
  for (const h of t.popular) lines.push(`#include <${h.path.slice('include/'.length)}>`);
  for (const h of t.direct) lines.push(includeLine(h, t.path));
  if (t.driversConfig) lines.push(`#include <${DRIVERS_CONFIG}>`);
  lines.push('');

  const k1 = rng.range(2, 31);
  const k2 = rng.range(1, 1000);
  if (cxx) {
    lines.push('namespace {', '', `struct ${t.sym}_state {`, '    long v;', `    long step(long x) const { return v * x + ${k2}; }`, '};', '', '} // namespace', '');
  } else {
    lines.push(`static long ${t.sym}_step(long x)`, '{', `    return x * ${k1} + ${k2};`, '}', '');
  }
  const uses = [...t.popular.filter((h) => h.popularMix), ...t.direct];
  const nf = rng.range(2, 4);
  for (let f = 0; f < nf; f++) {
    const mine = uses.filter((_, i) => i % nf === f);
    const exportIt = f === 0 && t.exported;
    const sig = `long ${t.sym}_f${f}(long x)`;
    lines.push(exportIt ? `${cxx ? 'extern "C" ' : ''}OSV_API ${sig}` : sig, '{');
    if (cxx) lines.push(`    ${t.sym}_state s{${k1}};`, '    long acc = s.step(x);');
    else lines.push(`    long acc = ${t.sym}_step(x);`);
    for (const h of mine) lines.push(`    acc += ${mixCall(h, 'acc')};`);
    for (const h of [...t.calls].filter((_, i) => i % nf === f)) lines.push(`    acc += ${h.sym}_api(acc);`);
    if (f > 0) lines.push(`    acc ^= ${t.sym}_f${f - 1}(x);`);
    lines.push('    return acc;', '}', '');
  }
  for (const h of t.owns) {
    lines.push(`long ${h.sym}_api(long x)`, '{', `    return ${mixCall(h, 'x')} + ${rng.range(1, 50)};`, '}', '');
  }
  if (t.driversConfig) {
    lines.push(`long ${t.sym}_drivers(void)`, '{', '    long n = 0;');
    DRIVERS.forEach((d, i) => {
      if (i % 3 === t.index % 3) lines.push(`#if CONF_drivers_${d}`, `    n += ${i + 1};`, '#endif');
    });
    lines.push('    return n;', '}', '');
  }
  return lines.filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n');
}

/**
 * Objects per line of the link's response file: at most about 95 characters a path, so a line stays
 * well under Linux's 128 KiB for one argument.
 */
const RSP_CHUNK = 1000;

function makefileText(
  n: number,
  seed: number,
  tus: readonly Tu[],
  folderFlags: readonly { folder: Folder; line: string }[],
  fileFlags: readonly { tu: Tu; line: string }[],
  hideTus: readonly Tu[],
): string {
  const mk = (p: string): string => p.replace(/^arch\/x64\//, 'arch/$(arch)/');
  const obj = (p: string): string => mk(p.replace(/\.(c|cc|S)$/, '.o'));
  const list = (name: string, objs: readonly string[], op = '='): string =>
    objs.length === 0 ? `${name} ${op}\n` : `${name} ${op} \\\n${objs.map((o, i) => `\t${o}${i < objs.length - 1 ? ' \\' : ''}`).join('\n')}\n`;

  const groupVars: string[] = [];
  for (const g of GROUPS) {
    const objs = groupSources(tus, g).map(obj);
    groupVars.push(list(g.variable, objs));
  }
  const driverBlocks = DRIVERS.map((d) => {
    const objs = tus.filter((t) => t.driver === d).map((t) => obj(t.path));
    if (objs.length === 0) return '';
    return `ifeq ($(conf_drivers_${d}),1)\n${list('drivers', objs, '+=')}endif\n`;
  }).join('');

  // One line per RSP_CHUNK objects, for as many objects as any configuration links (every TU and the two .S files).
  const rspLines: string[] = [];
  for (let first = 1; first <= tus.length + 2; first += RSP_CHUNK) {
    rspLines.push(`\t$(call rsp-chunk,${first},${first + RSP_CHUNK - 1},${first === 1 ? '>' : '>>'})`);
  }

  return String.raw`# Synthetic OSv-shaped kernel tree: ${n} C/C++ translation units, seed ${seed}.
# Generated by osvd's bench/synth/generate.ts; built the way examples/mini-osv
# and OSv are.  See README.md for the knobs.
#
#   make [mode=release|debug] [arch=x64] [conf_drivers_profile=<profile>]
#        [conf_drivers_<name>=0|1] [conf_hide_symbols=0|1]
#        [conf_version_script=<file>] [COMPILER=real|stub] [V=1]

.SUFFIXES:
.SECONDARY:
.DELETE_ON_ERROR:

mode=release
arch ?= x64
out = build/$(mode).$(arch)

ifeq (,$(wildcard conf/$(mode).mk))
$(error unsupported mode $(mode))
endif
include conf/$(mode).mk

ifeq (,$(wildcard conf/profiles/$(arch)/base.mk))
$(error unsupported arch $(arch))
endif

# Drivers.  drivers_profile is the older name of conf_drivers_profile.
ifdef drivers_profile
conf_drivers_profile = $(drivers_profile)
endif
conf_drivers_profile?=all
ifeq (,$(wildcard conf/profiles/$(arch)/$(conf_drivers_profile).mk))
$(error unsupported drivers profile $(conf_drivers_profile))
endif
include conf/profiles/$(arch)/$(conf_drivers_profile).mk
include conf/profiles/$(arch)/base.mk

conf_hide_symbols?=0
conf_version_script?=

all: $(out)/loader.elf links
.PHONY: all links clean

# Recipe helpers: "make V=1" prints the commands themselves.
quiet = $(if $V, $1, @echo " $2"; $1)
very-quiet = $(if $V, $1, @$1)
makedir = $(call very-quiet, mkdir -p $(dir $@))

$(out)/%: | $(out)

$(out):
	$(call very-quiet, mkdir -p $(out))

# Compilers.  COMPILER=stub runs scripts/stub-cc instead of gcc, g++ and ld:
# it takes the same command lines, writes gcc's depfile and a checksum in
# place of each object, so the build graph can be exercised at full scale.
COMPILER ?= real
STUB = sh scripts/stub-cc
ifeq ($(COMPILER),stub)
CC = $(STUB)
CXX = $(STUB)
LD = $(STUB)
else ifeq ($(COMPILER),real)
CC = gcc
CXX = g++
LD = ld
else
$(error unsupported COMPILER $(COMPILER): use real or stub)
endif

# ---------------------------------------------------------------------------
# Compiler flags
# ---------------------------------------------------------------------------

autodepend = -MD -MT $@ -MP

# Only the compiler's own freestanding headers are outside the tree.
gcc-base-include := $(shell $(CC) -print-file-name=include)

includes = -I include -I arch/$(arch) -I . -isystem include/api \
	-isystem $(out)/gen/include -isystem $(gcc-base-include)

source-dialects = -D_KERNEL_SOURCE=1
kernel-defines = -D__SYNTH_OSV__=1 -DARCH_$(arch)=1

ifeq ($(arch),x64)
arch-cflags = -march=x86-64 -mno-red-zone
endif

ifeq ($(conf_hide_symbols),1)
gc-sections-flags = -ffunction-sections -fdata-sections
c-visibility = -fvisibility=hidden
cxx-visibility = -fvisibility=hidden -fvisibility-inlines-hidden
else
gc-sections-flags =
c-visibility =
cxx-visibility =
endif

COMMON = $(autodepend) $(conf-opt) -g -Wall -Werror -fPIC -ffreestanding -fno-builtin \
	-fno-stack-protector -fno-omit-frame-pointer -fno-common -nostdinc $(arch-cflags) \
	$(includes) -include compiler/include/intrinsics.hh \
	$(kernel-defines) $(conf-defines) $(source-dialects) $(gc-sections-flags)

CFLAGS = -std=gnu11 $(COMMON) $(c-visibility)
CXXFLAGS = -std=gnu++17 $(COMMON) -fno-exceptions -fno-rtti -fno-threadsafe-statics \
	$(cxx-visibility)
ASFLAGS = $(autodepend) -g -D__ASSEMBLY__ -nostdinc -I include -I arch/$(arch) \
	$(gc-sections-flags)

# Per-folder settings.
$(out)/arch/$(arch)/%.o: COMMON += -DARCH_CODE
$(out)/drivers/%.o: COMMON += -DDRIVER_CODE
$(out)/fs/%.o: COMMON += -DFS_CODE
$(out)/libc/%.o: source-dialects =
$(out)/libc/%.o: c-visibility =
$(out)/libc/%.o: CFLAGS += -fno-tree-loop-distribute-patterns
$(out)/musl/src/%.o: source-dialects = -D_GNU_SOURCE=1
$(out)/musl/src/%.o: c-visibility =
$(out)/musl/src/%.o: CFLAGS += -fno-tree-loop-distribute-patterns
$(out)/bsd/%.o: source-dialects = -D_BSD_SOURCE=1
$(out)/bsd/%.o: COMMON += -DBSD_CODE
${folderFlags.map((f) => `$(out)/${mk(f.folder.path)}/%.o: ${f.line}`).join('\n')}

# Per-file settings.
${fileFlags.map((f) => `$(out)/${obj(f.tu.path)}: ${f.line}`).join('\n')}

ifeq ($(conf_hide_symbols),1)
${hideTus.map((t) => `$(out)/${obj(t.path)}: COMMON += -DHIDE_SYMBOLS=1`).join('\n')}
endif

# ---------------------------------------------------------------------------
# Compilation
# ---------------------------------------------------------------------------

$(out)/%.o: %.cc | generated-headers
	$(makedir)
	$(call quiet, $(CXX) $(CXXFLAGS) -c -o $@ $<, CXX $*.cc)

$(out)/%.o: %.c | generated-headers
	$(makedir)
	$(call quiet, $(CC) $(CFLAGS) -c -o $@ $<, CC $*.c)

$(out)/%.o: %.S
	$(makedir)
	$(call quiet, $(CC) $(ASFLAGS) -c -o $@ $<, AS $*.S)

# The drivers configuration header is rewritten only when its contents
# change, so switching profiles rebuilds only the files that include it.
generated-headers: perhaps-modify-drivers-config-h
perhaps-modify-drivers-config-h:
	$(call quiet, sh scripts/gen-drivers-config-header $(arch) $(out)/gen/include/osv/drivers_config.h, GEN gen/include/osv/drivers_config.h)
.PHONY: generated-headers perhaps-modify-drivers-config-h

# ---------------------------------------------------------------------------
# Objects
# ---------------------------------------------------------------------------

${groupVars.join('\n')}
${driverBlocks}
objects = $(addprefix $(out)/, $(arch-objects) loader.o $(core) $(drivers) $(fs_objs) $(libc) $(musl) $(bsd))

# ---------------------------------------------------------------------------
# Exported symbols
# ---------------------------------------------------------------------------

exported-symbols = $(sort $(wildcard exported_symbols/*.symbols))

$(out)/all.symbols: $(exported-symbols) | $(out)
	$(call quiet, cat $^ | LC_ALL=C sort -u > $@, GEN all.symbols)

$(out)/version_script: $(exported-symbols) | $(out)
	$(call quiet, (echo "{ global:"; cat $^ | LC_ALL=C sort -u | sed -e 's/^/    /' -e 's/$$/;/'; echo "  local: *; };") > $@, GEN version_script)

ifeq ($(conf_hide_symbols),1)
ifeq ($(conf_version_script),)
loader-version-script = $(out)/version_script
else
loader-version-script = $(conf_version_script)
endif
loader-hide-flags = --version-script=$(loader-version-script) --gc-sections
else
loader-version-script =
loader-hide-flags =
endif

# ---------------------------------------------------------------------------
# Linking
# ---------------------------------------------------------------------------

# The link reads its objects from a response file, $@.rsp: with every object
# on its command line, the command outgrows Linux's limits (128 KiB for one
# argument, as in "sh -c '...'", 2 MiB for all) at about 25,000 objects.
# The file is written by plain recipe lines of ${RSP_CHUNK} objects each (a line
# is skipped when the list is shorter), so make, a tool that runs make's
# printed commands, and ninja all run the same link.
link-objects = $(filter %.o,$^)
rsp-chunk = $(if $(word $1,$(link-objects)),$(call very-quiet, echo $(wordlist $1,$2,$(link-objects)) $3 $@.rsp))

$(out)/loader.elf: $(objects) arch/$(arch)/loader.ld $(loader-version-script)
	$(makedir)
	$(if $V,,@echo " LD loader.elf")
${rspLines.join('\n')}
	$(call very-quiet, $(LD) -o $@ -shared -nostdlib --no-undefined -z noexecstack --hash-style=both -T arch/$(arch)/loader.ld @$@.rsp $(loader-hide-flags))

links: | $(out)
	$(call very-quiet, ln -nsf $(notdir $(out)) build/last)

clean:
	$(call quiet, rm -rf $(out), CLEAN $(out))

include $(shell test -d $(out) && find $(out) -name '*.d')
`;
}

function treeReadme(n: number, seed: number): string {
  return `# Synthetic OSv-shaped tree

Generated by osvd's \`bench/synth/generate.ts\` (${n} C/C++ translation units, seed ${seed}).
Nothing here is meant to run: it only has to compile and link, quickly.

    make -j2                                   # real gcc/g++/ld
    make -j2 COMPILER=stub                     # scripts/stub-cc instead (checksums, real depfiles)
    make conf_drivers_profile=virtio-mmio      # other drivers (all, base, virtio-mmio, virtio-pci)
    make conf_hide_symbols=1                   # hidden symbols, version script, --gc-sections
    make V=1                                   # print the commands

\`synth-tree.json\` describes the tree (counts, objects per profile, drivers config includers).
`;
}

const DOC_WORDS = ['the', 'kernel', 'build', 'driver', 'thread', 'memory', 'page', 'file', 'system', 'network', 'device', 'boot', 'image', 'module', 'test', 'run', 'option', 'value', 'default', 'profile', 'cpu', 'trace', 'symbol', 'export', 'header', 'compile', 'link', 'object'];

function writeExtraFiles(w: Writer, rng: Rng, count: number, tus: readonly Tu[]): void {
  const kinds = [
    { dir: 'documentation', exts: ['md', 'txt'], weight: 0.22 },
    { dir: 'tests', exts: ['cc', 'c', 'py', 'sh'], weight: 0.25 },
    { dir: 'scripts/tools', exts: ['py', 'sh', 'txt'], weight: 0.1 },
    { dir: 'modules', exts: ['py', 'md', 'json', 'manifest'], weight: 0.2 },
    { dir: 'apps', exts: ['c', 'cc', 'md', 'manifest', 'sh'], weight: 0.13 },
    { dir: 'static/etc', exts: ['conf', 'txt'], weight: 0.05 },
    { dir: 'licenses', exts: ['txt'], weight: 0.05 },
  ];
  const perDir = new Map<string, number>();
  const bucketOf = (kind: (typeof kinds)[number]): string => {
    const used = perDir.get(kind.dir) ?? 0;
    perDir.set(kind.dir, used + 1);
    const bucket = Math.floor(used / 60);
    if (kind.dir === 'licenses' || kind.dir === 'static/etc') return bucket === 0 ? kind.dir : `${kind.dir}/${bucket}`;
    return `${kind.dir}/${GENERIC_WORDS[bucket % GENERIC_WORDS.length]}${bucket >= GENERIC_WORDS.length ? String(Math.floor(bucket / GENERIC_WORDS.length) + 1) : ''}`;
  };
  for (let i = 0; i < count; i++) {
    const kind = kinds[rng.weighted(kinds.map((k) => k.weight))]!;
    const dir = bucketOf(kind);
    const ext = rng.pick(kind.exts);
    const stem = `${kind.dir === 'tests' ? 'tst-' : ''}${rng.pick(GENERIC_WORDS)}-${i}`;
    const words: string[] = [];
    const len = rng.range(20, 120);
    for (let k = 0; k < len; k++) words.push(rng.pick(DOC_WORDS));
    const ref = tus[rng.int(tus.length)]!.path;
    let text: string;
    if (ext === 'c' || ext === 'cc') text = `/* ${dir}/${stem}.${ext}: not part of the kernel build (${ref}). */\nint main(void) { return ${i % 7}; }\n`;
    else if (ext === 'py') text = `# ${words.slice(0, 8).join(' ')}\n\ndef run():\n    return ${JSON.stringify(words.slice(8, 16).join(' '))}\n`;
    else if (ext === 'sh') text = `#!/bin/sh\n# ${words.slice(0, 10).join(' ')}\necho ${JSON.stringify(ref)}\n`;
    else if (ext === 'json') text = `${JSON.stringify({ name: stem, source: ref, words: words.slice(0, 12) })}\n`;
    else text = `${stem}\n\n${words.join(' ')}.\n\nSee ${ref}.\n`;
    w.write(`${dir}/${stem}.${ext}`, text);
  }
}

class Writer {
  count = 0;
  private readonly dirs = new Set<string>();
  constructor(private readonly root: string) {}
  write(rel: string, text: string, mode = 0o644): void {
    const abs = path.join(this.root, rel);
    const d = path.dirname(abs);
    if (!this.dirs.has(d)) {
      fs.mkdirSync(d, { recursive: true });
      this.dirs.add(d);
    }
    fs.writeFileSync(abs, text, { mode });
    this.count++;
  }
}
