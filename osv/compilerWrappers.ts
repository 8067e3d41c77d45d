import path from 'node:path';

/**
 * Compiler wrappers users put in front of the compiler (`CXX='ccache g++'` in makeVars, `distcc`,
 * `sccache`, `icecc`): the action stays a compile of the compiler after them, compile_commands.json
 * names that compiler, and the variables the wrappers read reach them.
 */

export const WRAPPERS: ReadonlySet<string> = new Set(['ccache', 'distcc', 'sccache', 'icecc']);

/** The variables the wrappers read: passed from osvd's environment to make and the commands. */
export const WRAPPER_ENV = /^(?:CCACHE|DISTCC|SCCACHE|ICECC)_/;

/**
 * The few of them that change what a compile writes, and so are part of a wrapped compile's key:
 * ccache's base_dir rewrites absolute paths into relative ones on the compiler's command line (they
 * end up in the debug info), its compiler setting replaces the compiler, compiling the preprocessed
 * output (run_second_cpp off) changes debug columns, and icecc's version and compilers choose the
 * compiler. The rest choose where a compile runs or is cached (hosts, cache folders, sizes, logs),
 * and the tools promise the compiler's own output: keying them would rebuild everything for nothing.
 */
const KEYED = ['CCACHE_BASEDIR', 'CCACHE_COMPILER', 'CCACHE_RUN_SECOND_CPP', 'CCACHE_CPP2', 'CCACHE_NOCPP2', 'ICECC_VERSION', 'ICECC_CC', 'ICECC_CXX'];

/** Files a wrapper can be given without a compiler name (distcc's "implicit" mode runs `cc`). */
const SOURCE = /\.(?:c|cc|cp|cpp|cxx|c\+\+|C|S|s|sx|i|ii|m|mm)$/;

/** The compiler behind leading wrappers: `ccache g++ -c x.cc` -> g++ with wrappers [ccache]. */
export function unwrapCompiler(call: { program: string; args: readonly string[] }): { program: string; args: readonly string[]; wrappers: string[] } {
  let { program, args } = call;
  const wrappers: string[] = [];
  while (WRAPPERS.has(path.basename(program))) {
    wrappers.push(path.basename(program));
    const next = args[0];
    if (next === undefined || next.startsWith('-') || SOURCE.test(next)) {
      program = 'cc';
      break;
    }
    program = next;
    args = args.slice(1);
  }
  return { program, args, wrappers };
}

/**
 * `-MF <depfile>` for a compile with -MD or -MMD but no -MF, to run it through distcc or icecc: they
 * preprocess here without -o, and gcc then names the depfile after the source, in the working
 * folder (core/mmu.cc writes ./mmu.d instead of build/.../core/mmu.d, and arch/x64/mmu.cc the same
 * name). With the name given, gcc writes the same file it writes without a launcher.
 */
export function explicitDepfile(args: readonly string[], depfile: string | undefined): string[] {
  if (depfile === undefined || !args.some((a) => a === '-MD' || a === '-MMD')) return [];
  return args.some((a) => a.startsWith('-MF')) ? [] : ['-MF', depfile];
}

/** A compile command as compile_commands.json should show it: starting with the compiler, not a wrapper. */
export function withoutWrappers(command: string): string {
  const lead = /^\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*/.exec(command)![0];
  let rest = command.slice(lead.length);
  let stripped = false;
  for (;;) {
    const m = /^(\S*?)([^\s/]+)\s+/.exec(rest);
    if (!m || !WRAPPERS.has(m[2]!)) break;
    rest = rest.slice(m[0].length);
    stripped = true;
  }
  if (stripped && (rest.startsWith('-') || SOURCE.test(rest.split(/\s/)[0]!))) rest = `cc ${rest}`;
  return lead.trimStart() + rest;
}

/** The wrapper variables present in an environment that a wrapped compile's key covers (empty object when none). */
export function keyedWrapperEnv(env: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const k of KEYED) if (env[k] !== undefined) out[k] = env[k]!;
  return Object.freeze(out);
}

/** The wrapper variables of osvd's own environment, passed on to the build. */
export function wrapperEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && WRAPPER_ENV.test(k)) out[k] = v;
  return out;
}
