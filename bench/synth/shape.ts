/**
 * The shape of a synthetic tree: the seeded randomness that draws it, the groups of folders it has
 * (arch, core, drivers, fs, libc, musl, bsd) with the words their files are named after, and the
 * folders, translation units and headers that generateTree (generate.ts) fills in. Nothing here
 * writes a file.
 */
import { prng } from '../prng.js';
import type { Driver } from './scripts.js';

// ---------------------------------------------------------------------------------------------
// Deterministic randomness
// ---------------------------------------------------------------------------------------------

/** mulberry32 (../prng.ts): small, fast, good enough for shaping a tree. */
export class Rng {
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

export interface GroupDef {
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

export const GENERIC_WORDS = [
  'alloc', 'buf', 'cache', 'chan', 'clock', 'cond', 'cpu', 'ctx', 'dev', 'dir', 'dma', 'entry', 'event', 'fd',
  'file', 'frame', 'hash', 'heap', 'init', 'inode', 'io', 'irq', 'kobj', 'lock', 'log', 'map', 'mem', 'mount',
  'mutex', 'node', 'page', 'pipe', 'poll', 'pool', 'port', 'proc', 'queue', 'rand', 'ring', 'rwlock', 'sem',
  'shm', 'sock', 'stack', 'stat', 'sync', 'table', 'task', 'thread', 'timer', 'tls', 'trace', 'tree', 'tty',
  'uio', 'vnode', 'wait', 'work', 'xfer', 'bitmap', 'bio', 'callout', 'cred', 'epoll', 'futex', 'kmem', 'ldt',
  'link', 'msg', 'notify', 'object', 'option', 'perf', 'prio', 'quota', 'ref', 'region', 'sbuf', 'seq', 'slab',
  'state', 'symbol', 'tag', 'token', 'unit', 'vec', 'vm', 'zone',
];
export const SUFFIXES = ['_ops', '_util', '_core', '_map', '_list', '_impl', '_io', '_tab', '_ctl', '_wq', '_rt', '_hw', '_cfg'];
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
export const GROUPS: readonly GroupDef[] = [
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

export const API_SUBS = ['sys', 'bits', 'net', 'netinet', 'arpa', 'linux', 'asm', 'scsi', 'xen', 'machine'];
export const OSV_SUBS = ['mm', 'sched', 'net', 'vfs', 'virtio', 'sync', 'trace', 'elf', 'app', 'power', 'time', 'bus', 'mem', 'rt', 'boot'];
/** Round-robin order in which drivers get TUs, so that small trees still differ between profiles. */
export const DRIVER_ORDER: readonly Driver[] = [
  'virtio', 'virtio_pci', 'virtio_mmio', 'pci', 'virtio_blk', 'virtio_net', 'acpi', 'virtio_fs', 'virtio_scsi',
  'scsi', 'hpet', 'pvpanic', 'ahci', 'ide', 'vga',
];

export interface Folder {
  path: string;
  group: GroupDef;
  tus: Tu[];
  stems: Set<string>;
  cxxShare: number;
}

export interface Tu {
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

export interface Header {
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
