import fs from 'node:fs';
import { KNOBS } from './knobs.js';
import type { TreeFacts } from './tree.js';

/**
 * The osv.config.ts `osvd init` writes for a tree: OSv's defaults as knobs, with the tree's own drivers
 * profiles and filesystems named beside them, so the user edits values rather than looks them up.
 */
export function initialConfig(tree: TreeFacts): string {
  const makefile = readText(tree.makefile);
  const x64 = tree.profilesFor('x64');
  const aarch64 = tree.profilesFor('aarch64');
  const profile = x64.includes('all') ? 'all' : x64[0];
  // The filesystems this Makefile chooses between (`ifeq ($(fs),zfs)`), as ./scripts/build takes them.
  const filesystems = [...new Set([...makefile.matchAll(/ifeq\s*\(\s*\$\(fs\)\s*,\s*([\w-]+)\s*\)/g)].map((m) => m[1]!))].sort();
  const lines = [
    "// osvd's configuration of this tree, written by `osvd init` (osvd --help lists every knob).",
    "import { defineConfig } from 'osvd';",
    '',
    'export default defineConfig({',
    '  knobs: {',
    "    mode: 'release', // or 'debug'",
    "    arch: 'x64', // or 'aarch64'",
  ];
  if (profile) {
    lines.push(`    // ${doc('conf_drivers_profile')}: for x64 ${x64.join(', ')}${aarch64.length ? `; for aarch64 ${aarch64.join(', ')}` : ''}`);
    lines.push(`    conf_drivers_profile: '${profile}',`);
  }
  lines.push(`    conf_hide_symbols: 0, // ${doc('conf_hide_symbols')}`);
  if (filesystems.length) {
    const zfs = filesystems.includes('zfs');
    lines.push(zfs ? '    // zfs builds libsolaris.so, as ./scripts/build does; rofs, virtiofs and ext need no ZFS' : `    // the filesystem: ${filesystems.join(', ')}`);
    lines.push(`    fs: '${zfs ? 'zfs' : filesystems[0]}',`);
  }
  lines.push('  },', '  // jobs: 2, // parallel jobs (default: the number of cores)', '});', '');
  return lines.join('\n');
}

function doc(name: string): string {
  return KNOBS.find((k) => k.name === name)?.doc ?? name;
}

function readText(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
