import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ToolMissingError } from '../base/errors.js';
import type { Action } from '../graph/action.js';
import { ImportError } from './errors.js';

/**
 * OSv's kernel configuration, as osvd builds it. OSv keeps Kconfig's `.config` in the build folder and
 * derives from it `gen/config/kernel_conf.mk` (included by the Makefile), `kernel_config.h` and one
 * `kernel_config_<option>.h` per option, plus the default version script from `exported_symbols/`.
 * Make's own rule regenerates `.config` from the defaults whenever a Kconfig or `conf/*.mk` file is newer,
 * which silently drops what the user chose. osvd's action first brings the existing `.config` up to date
 * with `--olddefconfig` (the user's values are kept, new options get their defaults), so that rule finds
 * `.config` newer than its sources and only the derived files are written, each only when it changes.
 * Knobs set through osvd are on make's command line and never depend on `.config` at all.
 */
export const KCONFIG_ACTION = 'osvd-kconfig';

export function hasKconfig(root: string): boolean {
  return fs.existsSync(path.join(root, 'conf', 'Makefile')) && fs.existsSync(path.join(root, 'conf', 'kconfig', 'main'));
}

function filesIn(root: string, folder: string, filter: (name: string) => boolean = () => true): string[] {
  try {
    return fs
      .readdirSync(path.join(root, folder), { withFileTypes: true })
      .filter((d) => d.isFile() && filter(d.name))
      .map((d) => `${folder}/${d.name}`)
      .sort();
  } catch {
    return [];
  }
}

function quote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function kconfigAction(options: {
  root: string;
  outDir: string;
  mode: string;
  arch: string;
  env: Readonly<Record<string, string>>;
}): Action {
  const { root, outDir, mode, arch } = options;
  const genOsv = `${outDir}/gen/include/osv`;
  const conf = `${outDir}/kbuild/kconfig/conf`;
  const kconfigEnv = `mode=${quote(mode)} arch=${quote(arch)} CONFIG_=CONF_ KCONFIG_CONFIG=${outDir}/.config`;
  const inputs = [
    'conf/Makefile',
    'conf/base.mk',
    `conf/${mode}.mk`,
    `conf/${arch}.mk`,
    `conf/profiles/${arch}/kconfig`,
    ...filesIn(root, 'conf/kconfig'),
    'scripts/gen-kernel-config-headers',
    'scripts/generate_version_script.sh',
    ...filesIn(root, 'exported_symbols', (n) => n.endsWith('.symbols')),
    ...filesIn(root, `exported_symbols/${arch}`, (n) => n.endsWith('.symbols')),
    // The user's choices (`make menuconfig` writes them here); --olddefconfig rewrites it unchanged.
    `${outDir}/.config`,
  ].filter((f) => fs.existsSync(path.join(root, f)));
  const headers = filesIn(root, genOsv, (n) => /^kernel_config_.*\.h$/.test(n));
  return {
    id: KCONFIG_ACTION,
    kind: 'generate',
    commands: [
      `if [ -f ${outDir}/.config ] && [ -x ${conf} ]; then ${kconfigEnv} ${conf} -s conf/kconfig/main --olddefconfig; fi`,
      `make -s --no-print-directory -f conf/Makefile -j1 mode=${quote(mode)} arch=${quote(arch)} config`,
    ],
    cwd: '.',
    env: options.env,
    keyEnv: {},
    inputs,
    orderAfter: [],
    // Kconfig and conf/Makefile write more than can be named before they run (a header per option, on a
    // first build none exists yet): the builder learns the rest from what they wrote.
    outputsOpen: true,
    // What the configuration step wrote when make bootstrapped it (the list of options comes from Kconfig).
    outputs: [
      `${outDir}/gen/config/kernel_conf.mk`,
      ...[`${genOsv}/kernel_config.h`, ...headers, `${outDir}/default_version_script`].filter((f) => fs.existsSync(path.join(root, f))),
    ],
  };
}

/**
 * A build folder whose Kconfig step never ran has no `gen/config/kernel_conf.mk`, which OSv's Makefile
 * includes. Its fallback runs `make -f conf/Makefile config` in a `$(shell)`, which make 4.3 gives no
 * command-line variables: it configures the default mode (release), and the include fails for
 * mode=debug. OSv's scripts/build runs the step itself, with the build's mode and arch, before make;
 * osvd does the same before it imports. Afterwards the Kconfig action keeps the folder's configuration.
 */
export async function configureBuildFolder(options: { root: string; outDir: string; mode: string; arch: string; env: Readonly<Record<string, string>> }): Promise<void> {
  const { root, outDir, mode, arch } = options;
  if (!hasKconfig(root) || fs.existsSync(path.join(root, outDir, 'gen/config/kernel_conf.mk'))) return;
  const args = ['-s', '--no-print-directory', '-f', 'conf/Makefile', '-j1', `mode=${mode}`, `arch=${arch}`, 'config'];
  const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn('make', args, { cwd: root, env: { ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => chunks.push(b));
    child.stderr.on('data', (b: Buffer) => chunks.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new ToolMissingError('make', { cause: e }) : e));
    child.on('close', (c) => resolve({ code: c, output: Buffer.concat(chunks).toString('utf8') }));
  });
  if (code !== 0) {
    const tail = output.trim().split('\n').slice(-6).join('\n') || 'it failed without a message';
    throw new ImportError(`the Kconfig step for ${outDir} failed (make ${args.join(' ')}):\n${tail}`, { file: path.join(root, 'conf/Makefile') });
  }
}

/**
 * With hidden symbols the kernel links with `$(out)/version_script`, which OSv's Makefile copies from
 * `conf_version_script` (or the default script) while make reads the Makefile. osvd makes that copy an
 * action, so a changed script relinks and switching scripts back restores the earlier kernel.
 */
export function versionScriptAction(options: { outDir: string; source: string; env: Readonly<Record<string, string>> }): Action {
  const out = `${options.outDir}/version_script`;
  return {
    id: out,
    kind: 'generate',
    commands: [`cmp -s ${quote(options.source)} ${quote(out)} || cp ${quote(options.source)} ${quote(out)}`],
    cwd: '.',
    env: options.env,
    keyEnv: {},
    inputs: [options.source],
    orderAfter: [],
    outputs: [out],
    outputsOpen: false,
  };
}
