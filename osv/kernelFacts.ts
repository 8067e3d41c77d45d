import type { Action } from '../graph/action.js';

/** What `osvd status` says about the kernel the knobs describe: its drivers and how many objects it links. */
export interface KernelFacts {
  /** The kernel's link output (build/<mode>.<arch>/loader.elf). */
  readonly kernel: string | null;
  /** Objects linked into it. */
  readonly objects: number;
  /** Drivers the profile enables (make exports conf_drivers_<name>=1 to recipes). */
  readonly drivers: readonly string[];
}

export function kernelFacts(actions: Iterable<Action>, outDir: string): KernelFacts {
  let kernel: Action | undefined;
  const drivers = new Set<string>();
  let envSeen = false;
  for (const a of actions) {
    if (a.id === `${outDir}/loader.elf`) kernel = a;
    if (!envSeen) {
      envSeen = true;
      for (const [k, v] of Object.entries(a.env)) if (k.startsWith('conf_drivers_') && v === '1') drivers.add(k.slice('conf_drivers_'.length));
    }
  }
  return {
    kernel: kernel?.id ?? null,
    objects: kernel ? kernel.inputs.filter((i) => i.endsWith('.o')).length : 0,
    drivers: [...drivers].sort(),
  };
}
