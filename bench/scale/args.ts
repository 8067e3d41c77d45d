/** The scale benchmark's command line (see bench/scale.ts). */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Args {
  sizes: number[];
  real: number;
  jobs: number;
  work: string;
  keep: boolean;
  requests: number;
  headerShare: number;
  full: boolean;
  /** Above this many TUs, make's cold build is not run: make's tree gets a copy of ninja's build. */
  makeColdMax: number;
  /** Sizes at which only the daemon is measured, on a tree that is not built (see the README). */
  daemonOnly: number[];
  /** With --daemon-only: keep the tree's build (a tree an earlier --keep run built), so the daemon holds last runs. */
  built: boolean;
}

export function parseArgs(argv: readonly string[]): Args {
  const val = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const full = argv.includes('--full');
  const work = val('--work');
  return {
    full,
    sizes: (val('--sizes') ?? (full ? '1000,10000,50000' : '1000')).split(',').map(Number).filter((n) => n > 0),
    real: Number(val('--real') ?? (full ? 200 : 40)),
    jobs: Number(val('--jobs') ?? os.availableParallelism()),
    work: work ? path.resolve(work) : fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-bench-scale-')),
    keep: argv.includes('--keep') || work !== undefined,
    requests: Number(val('--requests') ?? 1000),
    headerShare: Number(val('--header-share') ?? 0.05),
    makeColdMax: Number(val('--make-cold-max') ?? 10_000),
    daemonOnly: (val('--daemon-only') ?? '').split(',').map(Number).filter((n) => n > 0),
    built: argv.includes('--built'),
  };
}
