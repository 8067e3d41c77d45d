import fs from 'node:fs';
import path from 'node:path';
import { KnobError } from './errors.js';
import type { TreeFacts } from './tree.js';

/**
 * The knobs of an OSv kernel build, in effect: every knob, its value as make's command line gets it.
 * Names follow OSv's own make variables; `app` and `app_extra_symbols` are osvd's: an app-specific
 * kernel whose version script osvd derives itself. A type rather than an interface so that it passes
 * where any map of strings does (hashing, the build's context, reports).
 */
export type Knobs = {
  readonly mode: 'release' | 'debug';
  readonly arch: 'x64' | 'aarch64';
  readonly conf_drivers_profile: string;
  readonly conf_hide_symbols: '0' | '1';
  readonly conf_version_script: string;
  readonly app: string;
  readonly app_extra_symbols: string;
  readonly fs: string;
  readonly conf_zfs: string;
};

export type KnobName = keyof Knobs;

export type KnobValue = string | number | boolean;

/**
 * Knobs as osv.config.ts sets them (`defineConfig({ knobs: {...} })`): a misspelt name does not
 * compile. The values are checked against the tree when the config is loaded.
 */
export type KnobSettings = {
  mode?: 'release' | 'debug';
  arch?: 'x64' | 'aarch64';
  conf_drivers_profile?: string;
  /** The older name of conf_drivers_profile. */
  drivers_profile?: string;
  conf_hide_symbols?: 0 | 1 | '0' | '1' | boolean;
  conf_version_script?: string;
  app?: string;
  app_extra_symbols?: string;
  fs?: string;
  conf_zfs?: string;
};

/** Whether the kernel hides every symbol not in its version script. */
export function hidesSymbols(knobs: Pick<Knobs, 'conf_hide_symbols'>): boolean {
  return knobs.conf_hide_symbols === '1';
}

export interface KnobSpec {
  readonly name: KnobName;
  readonly doc: string;
  readonly default: string;
  readonly aliases?: readonly string[];
  /** Passed to make on its command line (false for osvd's own knobs). */
  readonly toMake: boolean;
  check?(value: string, knobs: Knobs, tree: TreeFacts): string | undefined;
}

export const KNOBS: readonly KnobSpec[] = [
  {
    name: 'mode',
    doc: 'release or debug; selects the build folder build/<mode>.<arch>',
    default: 'release',
    toMake: true,
    check: (v) => (['release', 'debug'].includes(v) ? undefined : `unknown mode '${v}'; valid: release, debug`),
  },
  {
    name: 'arch',
    doc: 'x64 or aarch64',
    default: 'x64',
    toMake: true,
    check: (v) => (['x64', 'aarch64'].includes(v) ? undefined : `unknown arch '${v}'; valid: x64, aarch64`),
  },
  {
    name: 'conf_drivers_profile',
    doc: 'the drivers profile, conf/profiles/<arch>/<name>.mk',
    default: 'all',
    aliases: ['drivers_profile'],
    toMake: true,
    check: (v, knobs, tree) => {
      const profiles = tree.profilesFor(knobs.arch);
      if (profiles.length === 0) return `the tree has no conf/profiles/${knobs.arch}/ folder`;
      return profiles.includes(v) ? undefined : `unknown drivers profile '${v}'; valid for ${knobs.arch}: ${profiles.join(', ')}`;
    },
  },
  {
    name: 'conf_hide_symbols',
    doc: '1 hides every symbol not in the version script (and links with --gc-sections)',
    default: '0',
    toMake: true,
    check: (v) => (v === '0' || v === '1' ? undefined : `must be 0 or 1, not '${v}'`),
  },
  {
    name: 'conf_version_script',
    doc: 'the version script of an app-specific kernel (with conf_hide_symbols=1)',
    default: '',
    toMake: true,
    check: (v, knobs, tree) => {
      if (v === '') return undefined;
      if (knobs.app) return 'set either conf_version_script or app, not both';
      return fs.existsSync(path.resolve(tree.root, v)) ? undefined : `no such file: ${v}`;
    },
  },
  {
    name: 'app',
    doc: "comma-separated ELF files of an app, or one OSv manifest (its host files that are ELF files): osvd derives the kernel's version script from their undefined symbols",
    default: '',
    toMake: false,
    check: (v, knobs, tree) => {
      if (v === '') return undefined;
      if (!hidesSymbols(knobs)) return 'an app-specific kernel needs conf_hide_symbols=1';
      const missing = splitList(v).filter((f) => !fs.existsSync(path.resolve(tree.root, f)));
      return missing.length ? `no such file: ${missing.join(', ')}` : undefined;
    },
  },
  {
    name: 'app_extra_symbols',
    doc: 'comma-separated symbols the app looks up with dlsym, added to its version script',
    default: '',
    toMake: false,
  },
  {
    name: 'fs',
    doc: "OSv's fs= as scripts/build takes it (and its default, zfs): zfs builds libsolaris.so and zfs_builder; rofs, virtiofs, ramfs and ext choose the bootfs manifest that goes with them",
    default: 'zfs',
    toMake: true,
    check: (v, knobs, tree) => {
      if (!FS_VALUES.includes(v)) return `unknown fs '${v}'; valid: ${FS_VALUES.join(', ')}`;
      if (!tree.isOsvKernel) return undefined;
      const out = `build/${knobs.mode}.${knobs.arch}`;
      // These two put files into the kernel's bootfs that OSv's scripts/build makes beside the kernel.
      if (v === 'ramfs' && !fs.existsSync(path.join(tree.root, out, 'usr.manifest'))) {
        return `fs=ramfs puts the image's files into the kernel: it needs ${out}/usr.manifest, which OSv's scripts/build writes (scripts/module.py) before it builds the kernel`;
      }
      if (v === 'ext' && fs.existsSync(path.join(tree.root, 'bootfs_ext.manifest.skel')) && !fs.existsSync(path.join(tree.root, out, 'modules/libext/libext.so'))) {
        return `fs=ext puts ${out}/modules/libext/libext.so and lwext4's library into the kernel: OSv's scripts/build makes them with scripts/module.py (modules/libext, modules/lwext4) before it builds the kernel`;
      }
      return undefined;
    },
  },
  { name: 'conf_zfs', doc: 'bsd or openzfs', default: '', toMake: true },
];

export function splitList(v: string): string[] {
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

const BY_NAME = new Map<string, KnobSpec>();
for (const k of KNOBS) {
  BY_NAME.set(k.name, k);
  for (const a of k.aliases ?? []) BY_NAME.set(a, k);
}

/** Where a knob value came from, for error messages. */
export interface KnobSource {
  readonly values: Readonly<Record<string, KnobValue>>;
  /** e.g. "osv.config.ts: knobs" or "--set". */
  readonly origin: { file?: string; field: (name: string) => string };
}

/** Defaults, then each source in order (config, then --set); validated against the tree. */
export function resolveKnobs(sources: readonly KnobSource[], tree: TreeFacts): Knobs {
  const knobs: Record<string, string> = {};
  for (const k of KNOBS) knobs[k.name] = k.default;
  const origins = new Map<string, KnobSource['origin']>();
  for (const source of sources) {
    for (const [name, raw] of Object.entries(source.values)) {
      const spec = BY_NAME.get(name);
      if (!spec) {
        throw new KnobError(`unknown knob '${name}'`, {
          file: source.origin.file,
          field: source.origin.field(name),
          hint: `${closest(name)}known knobs: ${KNOBS.map((k) => k.name).join(', ')} (and drivers_profile)`,
        });
      }
      const value = typeof raw === 'boolean' ? (raw ? '1' : '0') : String(raw);
      const unsafe = unsafeCharacters(value);
      if (unsafe) {
        throw new KnobError(`value '${value}' of knob '${name}' holds ${unsafe}, which osvd does not pass on to make and its shell`, {
          file: source.origin.file,
          field: source.origin.field(name),
          hint: 'knob values are names, numbers, paths or comma-separated lists: letters, digits and . , _ - + / : @ % =',
        });
      }
      knobs[spec.name] = value;
      origins.set(spec.name, source.origin);
    }
  }
  // Checked in order, so a check sees the knobs checked before it as valid (the drivers profile sees a valid arch).
  const checked = knobs as Knobs;
  for (const spec of KNOBS) {
    const problem = spec.check?.(checked[spec.name], checked, tree);
    if (problem) {
      const origin = origins.get(spec.name);
      throw new KnobError(problem, { file: origin?.file, field: origin ? origin.field(spec.name) : `${spec.name} (default)` });
    }
  }
  return checked;
}

/**
 * Knob values reach make's command line, and from there the Makefile's recipes, which a shell runs
 * unquoted: anything a shell or make would interpret (`;`, `$`, quotes, spaces, ...) is refused.
 */
const SAFE_VALUE = /^[A-Za-z0-9_.,:+\/@%=-]*$/;

function unsafeCharacters(value: string): string | undefined {
  if (SAFE_VALUE.test(value)) return undefined;
  const bad = [...new Set([...value].filter((c) => !SAFE_VALUE.test(c)))];
  return bad.map((c) => (c === ' ' ? 'a space' : /[\x00-\x1f\x7f]/.test(c) ? 'a control character' : `'${c}'`)).join(', ');
}

/** Parse `--set KEY=VALUE` arguments. */
export function parseSets(sets: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new KnobError(`'--set ${s}' is not KEY=VALUE`, { field: '--set' });
    out[s.slice(0, eq).trim()] = s.slice(eq + 1).trim();
  }
  return out;
}

/** The make command-line assignments for these knobs, under the names the tree uses. */
export function makeAssignments(knobs: Knobs, tree: TreeFacts, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const spec of KNOBS) {
    const value = knobs[spec.name];
    if (!spec.toMake) continue;
    if (value === '' && spec.default === '') continue;
    const name = spec.name === 'conf_drivers_profile' ? tree.profileVariable : spec.name;
    vars[name] = value;
  }
  // The bootfs manifest goes with the filesystem, as OSv's scripts/build chooses it (the Makefile's
  // default manifest carries libsolaris.so, which only fs=zfs builds).
  const manifest = tree.isOsvKernel ? BOOTFS_MANIFESTS[knobs.fs]?.replace('$(out)', `build/${knobs.mode}.${knobs.arch}`) : undefined;
  if (manifest && extra.bootfs_manifest === undefined) vars.bootfs_manifest = manifest;
  return { ...vars, ...extra };
}

/** The fs values of OSv's scripts/build. */
const FS_VALUES = ['zfs', 'rofs', 'ramfs', 'virtiofs', 'ext', 'rofs_with_zfs', 'rofs_with_ext'];

/** As scripts/build picks it; ramfs embeds the image's own manifest (scripts/build: `$OUT/usr.manifest`). */
const BOOTFS_MANIFESTS: Readonly<Record<string, string>> = {
  ramfs: '$(out)/usr.manifest',
  ext: 'bootfs_ext.manifest.skel',
  rofs: 'bootfs_empty.manifest.skel',
  rofs_with_zfs: 'bootfs_empty.manifest.skel',
  rofs_with_ext: 'bootfs_empty.manifest.skel',
  virtiofs: 'bootfs_empty.manifest.skel',
};

function closest(name: string): string {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of BY_NAME.keys()) {
    const d = editDistance(name, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best && bestDistance <= Math.max(1, Math.floor(name.length / 3)) ? `did you mean '${best}'? ` : '';
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
