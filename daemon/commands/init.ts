import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { OsvdError } from '../../base/errors.js';
import { CONFIG_TYPES, packageRoot } from '../../base/packageFiles.js';
import { CONFIG_FILE } from '../../osv/config.js';
import { initialConfig } from '../../osv/initConfig.js';
import { openProjectBase } from '../../osv/project.js';
import { readTree } from '../../osv/tree.js';
import { treeFolder } from '../../osv/treeFolder.js';
import { printJson } from '../say.js';
import type { CommonOptions } from './common.js';

/** The types `import ... from 'osvd'` resolves to: this osvd's own (dist/osv/config.d.ts). */
const TYPES = path.join(packageRoot(), CONFIG_TYPES);

/**
 * `osvd init`: an osv.config.ts for the tree, and a tsconfig.json beside it that points `osvd` at this
 * osvd's types, so that an editor type-checks the config (a misspelt knob is an error). Nothing else
 * in the tree changes: no package, no node_modules, no git settings. An existing file is kept
 * (--force rewrites the config).
 */
export function initCommand(program: Command): void {
  program
    .command('init')
    .description('write an osv.config.ts for this tree, and a tsconfig.json that lets an editor type-check it')
    .option('--root <dir>', 'the OSv tree (default: the current folder, or the nearest folder above with a Makefile)')
    .option('--force', 'rewrite an existing osv.config.ts')
    .option('--json', 'print one JSON object')
    .action(async (opts: Pick<CommonOptions, 'root' | 'json'> & { force?: boolean }) => {
      // From a folder of the tree (core/), the tree's top, as every other command finds it.
      const root = path.resolve(opts.root ?? treeFolder(process.cwd()));
      const tree = readTree(root);
      const configFile = path.join(root, CONFIG_FILE);
      const writeConfig = opts.force || !fs.existsSync(configFile);
      if (writeConfig) fs.writeFileSync(configFile, initialConfig(tree));
      // The config must load, and its knobs be valid for this tree, before we say it is written.
      const base = await openProjectBase({ cwd: root, root });
      if (!fs.existsSync(TYPES)) throw new OsvdError('INIT_TYPES', `this osvd has no type declarations at ${TYPES}`, { hint: 'rebuild osvd (npm run build in its folder)' });
      const tsconfig = path.join(root, 'tsconfig.json');
      const writeTsconfig = !fs.existsSync(tsconfig);
      if (writeTsconfig) fs.writeFileSync(tsconfig, tsconfigText(TYPES));
      const mapsOsvd = writeTsconfig || fs.readFileSync(tsconfig, 'utf8').includes(TYPES);
      if (opts.json) {
        printJson({ ok: true, root, config: { file: configFile, written: writeConfig }, tsconfig: { file: tsconfig, written: writeTsconfig, mapsOsvd }, types: TYPES });
        return;
      }
      const lines = [
        `${writeConfig ? 'wrote' : 'kept'} ${configFile}${writeConfig ? '' : ' (--force rewrites it)'}`,
        writeTsconfig
          ? `wrote ${tsconfig}: 'osvd' resolves to ${TYPES} for editors (this machine's path: keep the file out of commits)`
          : mapsOsvd
            ? `kept ${tsconfig} (it maps 'osvd' already)`
            : `kept ${tsconfig}; for editors to resolve 'osvd', add to its compilerOptions: "paths": { "osvd": [${JSON.stringify(TYPES)}] }`,
        `knobs: ${Object.entries(base.config.knobs ?? {}).map(([k, v]) => `${k}=${v}`).join(' ') || "OSv's defaults"}`,
      ];
      process.stdout.write(lines.map((l) => `osvd: ${l}`).join('\n') + '\n');
    });
}

/** A tsconfig.json for osv.config.ts alone (so it changes nothing for the tree's other files). */
function tsconfigText(types: string): string {
  return `{
  // Written by \`osvd init\`: lets an editor type-check osv.config.ts against this machine's osvd.
  "compilerOptions": {
    "strict": true,
    "noEmit": true,
    "target": "ES2022",
    "module": "ESNext",
    "moduleResolution": "Bundler",
    "skipLibCheck": true,
    "types": [],
    "paths": { "osvd": [${JSON.stringify(types)}] }
  },
  "files": ["${CONFIG_FILE}"]
}
`;
}
