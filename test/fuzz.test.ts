import { spawnSync } from 'node:child_process';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseDepfile } from '../graph/depfile.js';
import { OsvdError } from '../base/errors.js';
import { BuildGraph } from '../graph/graph.js';
import { validateConfig } from '../osv/config.js';
import { parseSets, resolveKnobs } from '../osv/knobs.js';
import { actionsFrom } from '../osv/makeActions.js';
import { DryRunParser, MAKE_MESSAGE, parseDatabase, parseEnv0, parseTrace, splitDryRun } from '../osv/makeOutput.js';
import { envReadBy, fileLikeWords, recipeFacts } from '../osv/recipes.js';
import { shellWords } from '../osv/shellWords.js';
import { readTree } from '../osv/tree.js';
import { prng } from '../bench/prng.js';
import { EXAMPLE, OUT } from './helpers.js';

/**
 * The parsers meet text osvd does not control: make's output, depfiles a crash cut short, configs
 * being edited. Random and mutated inputs, from a seeded generator (a failure names its seed and
 * case, so it replays), must give a result or a typed OsvdError: never another exception, never a hang.
 */
const SEED = 0x05d0_f022;

/** Characters that mean something to one of the parsers, with some plain ones and a few odd ones. */
const ALPHABET = [...':\\\n\t $#\'"|;&<>(){}=%@*?[]`,.-/_+!~^\r\0', 'a', 'b', 'x', '1', '0', 'é', '\u2028', '\ufffd', 'o', '.o', '.d', '.h', 'build/', '#  ', '\n# ', '\n\t', '\\\n', ': ', '$$', '${', '$(', 'make', 'g++ -c', '-MD'];

class Fuzzer {
  private readonly random: () => number;
  constructor(seed: number) {
    this.random = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.random() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  noise(max: number): string {
    let s = '';
    const n = this.int(max);
    for (let i = 0; i < n; i++) s += this.pick(ALPHABET);
    return s;
  }
  /** A sample with a few random edits: slices dropped, doubled or moved, noise inserted, cut short. */
  mutate(sample: string): string {
    let s = sample;
    const edits = 1 + this.int(6);
    for (let e = 0; e < edits; e++) {
      const i = this.int(s.length + 1);
      const j = Math.min(s.length, i + this.int(200));
      switch (this.int(6)) {
        case 0:
          s = s.slice(0, i) + s.slice(j);
          break;
        case 1:
          s = s.slice(0, j) + s.slice(i, j) + s.slice(j);
          break;
        case 2:
          s = s.slice(0, i) + this.noise(12) + s.slice(i);
          break;
        case 3:
          s = s.slice(0, i);
          break;
        case 4: {
          const k = this.int(s.length + 1);
          s = s.slice(0, i) + s.slice(k, k + (j - i)) + s.slice(j);
          break;
        }
        default:
          s = s.slice(0, i) + this.pick(ALPHABET) + s.slice(i + 1);
      }
    }
    return s;
  }
  /** Either pure noise or a mutated sample. */
  input(samples: readonly string[], noiseMax = 300): string {
    return this.random() < 0.25 ? this.noise(noiseMax) : this.mutate(this.pick(samples));
  }
}

/** Run `fn` on `cases` inputs; return the cases that threw something other than an OsvdError. */
function fuzz(name: string, cases: number, make: (f: Fuzzer) => unknown, fn: (input: never) => unknown): string[] {
  const f = new Fuzzer(SEED ^ hashName(name));
  const bad: string[] = [];
  for (let c = 0; c < cases; c++) {
    const input = make(f);
    try {
      fn(input as never);
    } catch (err) {
      if (!(err instanceof OsvdError)) bad.push(`${name} case ${c}: ${(err as Error)?.stack?.split('\n').slice(0, 3).join(' | ') ?? String(err)}\n  input: ${JSON.stringify(input).slice(0, 300)}`);
    }
    if (bad.length >= 5) break;
  }
  return bad;
}

function hashName(s: string): number {
  let h = 0;
  for (const c of s) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return h;
}

const DEPFILES = [
  'build/release.x64/core/sched.o: core/sched.cc include/osv/sched.hh \\\n include/osv/types.h /usr/include/stdc-predef.h\ninclude/osv/sched.hh:\ninclude/osv/types.h:\n',
  'out/a\\ b.o: a\\ b.c x$$y.h c:\\\\win\\\\path.h\n\nx$$y.h:\n',
  'a.o b.o: c.h\r\nc.h:\r\n',
];

describe('fuzzing the parsers', () => {
  const dryRun = spawnSync('make', ['-p', '-n', '-B', '--trace', 'V=1'], { cwd: EXAMPLE, encoding: 'utf8', maxBuffer: 1 << 26 }).stdout;
  const { trace, database } = splitDryRun(dryRun);
  // Windows of make's real output keep each case small (a few KB), so thousands of cases stay fast.
  const windows = (text: string, f: Fuzzer): string => {
    const start = f.int(Math.max(1, text.length - 6000));
    return text.slice(start, start + 1000 + f.int(5000));
  };

  it('depfiles: a list of paths or a DepfileError', () => {
    expect(fuzz('depfile', 3000, (f) => f.input(DEPFILES), (t: string) => parseDepfile(t, 'x.d'))).toEqual([]);
  });

  it("make's dry run, trace and database, and the actions built from them", () => {
    expect(dryRun.length).toBeGreaterThan(10_000);
    const tree = { root: EXAMPLE, outDir: OUT };
    const bad = fuzz(
      'make',
      600,
      (f) => (f.int(3) === 0 ? f.mutate(windows(dryRun, f)) : `${f.mutate(windows(trace, f))}\n# GNU Make 4.3\n\n# Make data base\n${f.mutate(windows(database, f))}`),
      (text: string) => {
        const split = splitDryRun(text);
        const traced = parseTrace(split.trace);
        const db = parseDatabase(split.database);
        // The streaming parser, fed in chunks cut at places that depend on the case, gives the same.
        const bytes = Buffer.from(text, 'utf8');
        const streaming = new DryRunParser();
        const step = 1 + (bytes.length % 251);
        for (let at = 0; at < bytes.length; at += step) streaming.push(bytes.subarray(at, at + step));
        const streamed = streaming.end();
        if (!isDeepStrictEqual(streamed, { traced, db })) throw new Error('streamed parse differs from the whole-text parse');
        const actions = actionsFrom(tree, traced, db, { PATH: '/usr/bin' }, {});
        new BuildGraph(actions, () => []);
      },
    );
    expect(bad).toEqual([]);
    expect(fuzz('env0', 1000, (f) => f.input(['A=1\0B=x=y\0\0', 'PATH=/bin\0conf_x=1\0'], 100), (t: string) => parseEnv0(t))).toEqual([]);
  });

  it("make's own messages between recipe lines are never taken for commands", () => {
    // make prints these on stdout in a dry run: after the recipe of the target it traced last (a goal
    // already made as a prerequisite of another goal is "up to date" even under -B), and around sub-makes.
    const messages = [
      "make: 'build/release.x64/libsolaris.so' is up to date.",
      "make: Nothing to be done for 'links'.",
      "make[1]: Entering directory '/home/u/osv'",
      "make[1]: Leaving directory '/home/u/my osv'",
      "make[12]: 'x' is up to date.",
      "/usr/bin/make: Nothing to be done for 'all'.",
      "gmake[2]: Entering directory '/tmp'",
    ];
    const lines = [
      'g++ -MD -MT build/release.x64/a.o -MP -c -o build/release.x64/a.o a.cc',
      'dd if=build/release.x64/vmlinuz-boot.bin of=build/release.x64/vmlinuz.bin > /dev/null 2>&1',
      "echo 'make: not a message, an argument'",
      'if [ -f x ]; then \
  make -C apps/hello; \
fi',
      'makedir: not make either',
      'cmake: neither',
    ];
    const f = new Fuzzer(SEED ^ hashName('make messages'));
    const bad: string[] = [];
    for (let c = 0; c < 2000 && bad.length < 5; c++) {
      const expected: { target: string; recipe: string[] }[] = [];
      const out: string[] = [];
      const message = (): void => {
        while (f.int(3) === 0) out.push(f.pick(messages));
      };
      message();
      for (let t = f.int(6); t > 0; t--) {
        const target = `build/release.x64/t${c}-${t}${f.pick(['', '.o', '.so', ' with space'])}`;
        out.push(f.pick([`Makefile:${1 + f.int(3000)}: update target '${target}' due to: a b`, `Makefile:${1 + f.int(3000)}: target '${target}' does not exist`]));
        const recipe: string[] = [];
        for (let l = f.int(4); l > 0; l--) {
          const line = f.pick(lines);
          recipe.push(line);
          out.push(line);
          message();
        }
        expected.push({ target, recipe });
      }
      const text = out.join('\n') + (f.int(2) ? '\n' : '');
      const parsed = parseTrace(text);
      const streaming = new DryRunParser();
      streaming.push(Buffer.from(text));
      if (!isDeepStrictEqual(parsed, expected) || !isDeepStrictEqual(streaming.end().traced, expected)) bad.push(`case ${c}: ${JSON.stringify(text).slice(0, 400)}`);
    }
    expect(bad).toEqual([]);
    for (const m of messages) expect(MAKE_MESSAGE.test(m), m).toBe(true);
    for (const l of lines) expect(MAKE_MESSAGE.test(l), l).toBe(false);
  });

  it('shell words, recipe facts and the environment a command reads', () => {
    const commands = [
      `g++ -MD -MT build/release.x64/a.o -MP -c -o build/release.x64/a.o a.cc -DX='"y z"' -Wl,--version-script=out/vs`,
      `sh scripts/gen x64 build/release.x64/gen/x.h && echo "$conf_a" > f; cat *.symbols | sort -u > o`,
      `for n in $names; do eval "v=\\\${conf_$n:-0}"; done | awk '{ print ENVIRON["conf_"$0] }' 2>&1 >/dev/null`,
    ];
    const exported = { conf_a: '1', conf_b: '0', other: 'x' };
    const bad = fuzz(
      'recipes',
      2000,
      (f) => [f.input(commands), f.input(commands)],
      (cmds: string[]) => {
        for (const c of cmds) shellWords(c);
        recipeFacts(cmds, ['build/release.x64/a.o']);
        fileLikeWords(cmds);
        envReadBy(cmds, exported, (w) => (w.length % 2 ? cmds[0] : undefined));
      },
    );
    expect(bad).toEqual([]);
  });

  it('config objects, --set pairs and knob values: a result or a ConfigError/KnobError', () => {
    const tree = readTree(EXAMPLE);
    const values: unknown[] = [null, undefined, 0, -1, 1.5, NaN, '', 'all', 'x;y', [], [1], {}, { a: 1 }, true, 2 ** 53, '\0', Symbol.for('x')];
    const keys = ['root', 'knobs', 'makeVars', 'targets', 'jobs', 'stateDir', 'store', 'exportedSymbols', 'daemon', 'maxBytes', 'autoBuild', 'quietMs', 'ignore', 'pollMs', 'conf_drivers_profile', 'conf_hide_symbols', 'mode', 'arch', 'app', '__proto__', 'constructor', 'x'];
    const randomValue = (f: Fuzzer, depth: number): unknown => {
      if (depth > 0 && f.int(3) === 0) {
        const o: Record<string, unknown> = {};
        for (let i = f.int(4); i > 0; i--) o[f.pick(keys)] = randomValue(f, depth - 1);
        return f.int(4) === 0 ? Object.values(o) : o;
      }
      return f.int(3) === 0 ? f.noise(20) : f.pick(values);
    };
    expect(fuzz('config', 3000, (f) => randomValue(f, 3), (v: unknown) => validateConfig(v, 'osv.config.ts'))).toEqual([]);
    const bad = fuzz(
      'knobs',
      2000,
      (f) => [f.int(2) ? `${f.pick(keys)}=${f.noise(12)}` : f.noise(20), `${f.pick(keys)}=${f.pick(['all', 'virtio-mmio', '1', '0', 'debug', f.noise(8)])}`],
      (sets: string[]) => resolveKnobs([{ values: parseSets(sets), origin: { field: (n) => `--set ${n}` } }], tree),
    );
    expect(bad).toEqual([]);
  });
});
