/**
 * The command line of the synthetic tree generator (generate.ts) and its build.ninja (ninja.ts):
 *
 *   node dist/bench/synth/cli.js --tus 1200 --out /tmp/tree [--seed 1] [--extra-files N] [--force] [--ninja stub|real [--profile P]]
 *
 * prints the tree's summary as JSON. Kept apart so that generate.ts and ninja.ts do not import each other.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateTree } from './generate.js';
import { writeNinja } from './ninja.js';

function argOf(argv: readonly string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
}

function main(argv: readonly string[]): void {
  const tus = Number(argOf(argv, '--tus') ?? '1200');
  const out = argOf(argv, '--out');
  if (!out || !Number.isFinite(tus)) {
    process.stderr.write('usage: cli.js --tus N --out DIR [--seed S] [--extra-files N] [--force] [--ninja stub|real [--profile P]]\n');
    process.exit(2);
  }
  if (argv.includes('--force')) fs.rmSync(out, { recursive: true, force: true });
  const seedArg = argOf(argv, '--seed');
  const extraArg = argOf(argv, '--extra-files');
  const started = performance.now();
  const info = generateTree(out, { tus, seed: seedArg === undefined ? undefined : Number(seedArg), extraFiles: extraArg === undefined ? undefined : Number(extraArg) });
  const ms = performance.now() - started;
  const ninja = argOf(argv, '--ninja');
  if (ninja === 'stub' || ninja === 'real') {
    writeNinja(out, info, { compiler: ninja, profile: argOf(argv, '--profile') ?? 'all' });
  }
  const summary = {
    ...info,
    driversConfigIncluders: info.driversConfigIncluders.length,
    objectsByProfile: Object.fromEntries(Object.entries(info.objectsByProfile).map(([k, v]) => [k, v.length])),
    generateMs: Math.round(ms),
  };
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
