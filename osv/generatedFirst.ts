import type { Action } from '../graph/action.js';

/**
 * Headers the build generates under `$(out)/gen/` must exist before the first compile that includes
 * them, when no depfile says so yet. OSv's Makefile orders most compiles after them (`| generated-headers`)
 * but not all: `tools/cpiod/options.o` names only its source. make still builds it after them, because
 * its depth-first order reaches the kernel's objects, and their generated headers, first. osvd's
 * scheduler keeps no such order, and a cold mode=debug build compiled options.o before
 * `gen/include/bits/alltypes.h` existed. So each compile is ordered after every generator of such a
 * header that make's dry run printed before it: make prints a recipe after those of its prerequisites,
 * so none of them can wait for the compile. Order edges are not part of any key.
 */
export function generatedHeadersFirst(actions: readonly Action[], outDir: string): Action[] {
  const genFolder = `${outDir}/gen/`;
  const generators: string[] = [];
  return actions.map((a) => {
    let ordered = a;
    if (a.kind === 'compile' && generators.length > 0) {
      const more = generators.filter((g) => g !== a.id && !a.orderAfter.includes(g));
      if (more.length > 0) ordered = { ...a, orderAfter: [...a.orderAfter, ...more].sort() };
    }
    if (a.outputs.some((o) => o.startsWith(genFolder) && /\.(h|hh|hpp|inc)$/.test(o))) generators.push(a.id);
    return ordered;
  });
}
