import { describe, expect, it } from 'vitest';
import { prng } from '../bench/prng.js';
import { parseDepfile, parseDepfileByChar } from '../graph/depfile.js';
import { buildPathVariables, lateVariables, refersTo } from '../osv/lateExpansion.js';
import { DryRunParser, parseDatabase, parseDryRun, parseEnv0, parseTrace, splitDryRun } from '../osv/makeOutput.js';
import { recipeWrites } from '../osv/recipeWrites.js';
import { envReadBy, fileLikeWords, recipeFacts } from '../osv/recipes.js';
import { shellWords } from '../osv/shellWords.js';

describe('depfile parser', () => {
  it('reads gcc -MD -MP output with continuations and phony header rules', () => {
    const text = 'build/a.o: a.c include/x.h \\\n include/y\\ z.h /usr/include/stdc-predef.h\ninclude/x.h:\ninclude/y\\ z.h:\n';
    expect(parseDepfile(text)).toEqual(['a.c', 'include/x.h', 'include/y z.h', '/usr/include/stdc-predef.h']);
  });
  it('rejects text without a rule', () => {
    expect(() => parseDepfile('garbage without colon')).toThrow(/no "target:" rule/);
  });
  it('reads what gcc writes by lines as the character-by-character reading does, on 20,000 texts made of its pieces', () => {
    // Pieces gcc writes and pieces that need the slow reading ($, tabs, CRs, escapes), so that both
    // readings are compared, and the fast one is taken on most texts.
    const pieces = ['a.o', 'b/c.h', '/usr/include/x.h', ':', ': ', ' ', '  ', ' \\\n', '\n', 'x:y', '::', 'h.h:\n', 'd', '.'];
    const rare = ['$$', '$', '\t', '\r\n', '\\ ', '\\', '\\#', '\\:'];
    const random = prng(20261203);
    const pick = (list: readonly string[]): string => list[Math.floor(random() * list.length)]!;
    const outcome = (f: () => string[]): string[] | string => {
      try {
        return f();
      } catch (err) {
        return `error: ${(err as Error).message}`;
      }
    };
    let plain = 0;
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      const n = Math.floor(random() * 24);
      for (let k = 0; k < n; k++) text += random() < 0.04 ? pick(rare) : pick(pieces);
      const byChar = outcome(() => parseDepfileByChar(text, 'x.d'));
      expect(outcome(() => parseDepfile(text, 'x.d')), JSON.stringify(text)).toEqual(byChar);
      if (!/[$\t\r]|(?:^|[^ ])\\|\\(?!\n)/.test(text)) plain++;
    }
    // Most texts took the line-by-line reading.
    expect(plain).toBeGreaterThan(10_000);
  });
});

describe('make dry-run parser', () => {
  const stdout = [
    'Building into build/release.x64',
    "Makefile:15: target 'perhaps-modify-x' does not exist",
    'sh scripts/gen x64 build/release.x64/gen/x.h',
    "Makefile:9: update target 'build/release.x64/a.o' due to: a.c",
    'mkdir -p build/release.x64/',
    'gcc -MD -MT build/release.x64/a.o -MP -c -o build/release.x64/a.o a.c \\',
    '  -DFOO=1',
    '# GNU Make 4.3',
    '# Built for x86_64-pc-linux-gnu',
    '# Copyright (C) 1988-2020 Free Software Foundation, Inc.',
    '',
    '# Make data base, printed on Fri Nov 27 01:00:00 2026',
    'MAKEFILE_LIST :=  Makefile conf/profiles/x64/all.mk build/release.x64/a.d',
    '.DEFAULT_GOAL := all',
    '# Files',
    '',
    '# Not a target:',
    '.c.o:',
    '#  Builtin rule',
    '',
    'build/release.x64/a.o: a.c include/x.h | generated-headers',
    '#  Implicit rule search has been done.',
    '\tgcc -c -o $@ $<',
    '',
    'generated-headers: perhaps-modify-x',
    '#  Phony target (prerequisite of .PHONY).',
    '',
    'perhaps-modify-x:',
    '#  Phony target (prerequisite of .PHONY).',
    '',
    '# files hash-table stats:',
  ].join('\n');

  it('splits the trace from the database and joins continued recipe lines', () => {
    const { trace, database } = splitDryRun(stdout);
    const targets = parseTrace(trace);
    expect(targets.map((t) => t.target)).toEqual(['perhaps-modify-x', 'build/release.x64/a.o']);
    expect(targets[1]!.recipe).toEqual(['mkdir -p build/release.x64/', 'gcc -MD -MT build/release.x64/a.o -MP -c -o build/release.x64/a.o a.c \\\n  -DFOO=1']);
    const db = parseDatabase(database);
    expect(db.makefiles).toEqual(['Makefile', 'conf/profiles/x64/all.mk', 'build/release.x64/a.d']);
    expect(db.defaultGoal).toBe('all');
    expect(db.rules.get('build/release.x64/a.o')).toMatchObject({ prereqs: ['a.c', 'include/x.h'], orderOnly: ['generated-headers'], phony: false });
    expect(db.rules.get('generated-headers')?.phony).toBe(true);
    expect(db.rules.has('.c.o')).toBe(false);
  });

  it('parses the output streamed in chunks cut anywhere (mid-line, mid-marker, mid-character) as it parses the whole text', () => {
    // A non-ASCII recipe line, so that a cut can fall inside a UTF-8 sequence.
    const text = stdout.replace('-DFOO=1', "-DNAME='\u00e9t\u00e9 \u2028'") + '\n';
    const whole = parseDryRun(text);
    const { trace, database } = splitDryRun(text);
    expect(whole).toEqual({ traced: parseTrace(trace), db: parseDatabase(database) });
    expect(whole.traced[1]!.recipe[1]).toContain('\u00e9t\u00e9');
    const bytes = Buffer.from(text, 'utf8');
    const streamed = (cuts: readonly number[]): ReturnType<DryRunParser['end']> => {
      const parser = new DryRunParser();
      let at = 0;
      for (const cut of [...cuts, bytes.length]) {
        parser.push(bytes.subarray(at, cut));
        at = cut;
      }
      return parser.end();
    };
    const marker = bytes.indexOf('# Make data base');
    expect(marker).toBeGreaterThan(0);
    // Every place for one cut, then three cuts around the marker, then one byte at a time.
    for (let cut = 0; cut <= bytes.length; cut++) expect(streamed([cut])).toEqual(whole);
    for (let a = marker - 3; a < marker + 30; a++) expect(streamed([a, a + 1, a + 7])).toEqual(whole);
    expect(streamed(Array.from({ length: bytes.length }, (_, i) => i))).toEqual(whole);
    // Without the final newline, the last line still counts.
    const cut = parseDryRun(text.slice(0, -1));
    const parser = new DryRunParser();
    parser.push(bytes.subarray(0, 100));
    parser.push(bytes.subarray(100, bytes.length - 1));
    expect(parser.end()).toEqual(cut);
  });

  it("tells each recipe line as it reads it, a continued command's first line only, none of make's messages or the database's", () => {
    const seen: string[] = [];
    const parser = new DryRunParser((line) => seen.push(line));
    const bytes = Buffer.from(stdout + '\n', 'utf8');
    for (let at = 0; at < bytes.length; at += 7) parser.push(bytes.subarray(at, at + 7));
    parser.end();
    expect(seen).toEqual(['sh scripts/gen x64 build/release.x64/gen/x.h', 'mkdir -p build/release.x64/', 'gcc -MD -MT build/release.x64/a.o -MP -c -o build/release.x64/a.o a.c \\']);
  });

  it('parses env -0 output', () => {
    expect(parseEnv0('A=1\0B=x=y\0\0')).toEqual({ A: '1', B: 'x=y' });
  });
});

describe('recipes', () => {
  it('splits shell words with quotes and operators', () => {
    expect(shellWords(`a 'b c' "d\\"e" f>g; h`)).toEqual(['a', 'b c', 'd"e', 'f', '>', 'g', ';', 'h']);
  });
  it('classifies compiles with their depfile, links and generators', () => {
    expect(recipeFacts(['mkdir -p out/', 'g++ -MD -MT out/a.o -MP -c -o out/a.o a.cc'], ['out/a.o'])).toEqual({ kind: 'compile', depfile: 'out/a.d' });
    expect(recipeFacts(['gcc -MD -MF out/x.dep -c -o out/a.o a.c'], ['out/a.o'])).toEqual({ kind: 'compile', depfile: 'out/x.dep' });
    expect(recipeFacts(['ld -o out/loader.elf out/a.o'], ['out/loader.elf']).kind).toBe('link');
    expect(recipeFacts(['g++ -shared -o out/lib.so out/a.o'], ['out/lib.so']).kind).toBe('link');
    expect(recipeFacts(['sh scripts/gen x64 out/gen/x.h'], ['out/gen/x.h']).kind).toBe('generate');
    expect(recipeFacts(['ln -nsf release.x64 build/last'], ['build/last']).kind).toBe('other');
    // Compiled and linked in one command, or compiled then linked: gcc writes the -MD depfile beside the output.
    expect(recipeFacts(['gcc -MD -MT out/libenviron.so -MP -shared -o out/libenviron.so a.c b.c'], ['out/libenviron.so'])).toEqual({ kind: 'link', depfile: 'out/libenviron.d' });
    expect(recipeFacts(['g++ -MD -MT out/libvdso.so -MP -c -o out/libvdso.o v.cc', 'ld -shared -o out/libvdso.so out/libvdso.o'], ['out/libvdso.so'])).toEqual({ kind: 'link', depfile: 'out/libvdso.d' });
    // Linking objects alone with -MD in CFLAGS (OSv's zpool.so) writes no depfile.
    expect(recipeFacts(['gcc -MD -MT out/zpool.so -MP -o out/zpool.so out/a.o out/b.o -Lout -lzfs'], ['out/zpool.so'])).toEqual({ kind: 'link', depfile: undefined });
    expect(recipeWrites(['gcc -MD -MT out/zpool.so -MP -o out/zpool.so out/a.o -Lout -lzfs'])).toEqual({ files: ['out/zpool.so'], open: false, noDereference: [] });
    // Plain assembler is not preprocessed: -MD writes no depfile, even with -MF (OSv's setjmp.s); `.S`, or `-x assembler-with-cpp`, is.
    const s = 'g++ -std=gnu++14 -MD -MT out/setjmp.o -MP -g -include compiler/include/intrinsics.hh -D__ASSEMBLY__ -c -o out/setjmp.o musl/setjmp.s';
    expect(recipeFacts(['mkdir -p out/', s], ['out/setjmp.o'])).toEqual({ kind: 'compile', depfile: undefined });
    expect(recipeWrites(['mkdir -p out/', s])).toEqual({ files: ['out/setjmp.o'], open: false, noDereference: [] });
    expect(recipeWrites(['gcc -MD -MF out/e.dep -c -o out/e.o e.s'])).toEqual({ files: ['out/e.o'], open: false, noDereference: [] });
    expect(recipeWrites(['gcc -MD -c -o out/e.o e.S'])).toEqual({ files: ['out/e.o', 'out/e.d'], open: false, noDereference: [] });
    expect(recipeWrites(['gcc -MD -x assembler-with-cpp -c -o out/e.o e.s'])).toEqual({ files: ['out/e.o', 'out/e.d'], open: false, noDereference: [] });
  });
  it('says which files a recipe writes, and whether it may write others', () => {
    expect(recipeWrites(['mkdir -p out/a', 'g++ -MD -MT out/a/x.o -MP -c -o out/a/x.o x.cc'])).toEqual({ files: ['out/a/x.o', 'out/a/x.d'], open: false, noDereference: [] });
    expect(recipeWrites(['ld -o out/k.elf a.o', 'nm -D out/k.elf > out/osv.syms 2>&1', 'echo x >> out/log'])).toEqual({ files: ['out/k.elf', 'out/osv.syms', 'out/log'], open: false, noDereference: [] });
    expect(recipeWrites(['(echo "{"; cat a b | LC_ALL=C sort -u; echo "};") > out/vs'])).toEqual({ files: ['out/vs'], open: false, noDereference: [] });
    expect(recipeWrites(['dd if=out/a of=out/b > /dev/null 2>&1', 'strip out/k -o out/k-stripped', 'ln -nsf release.x64 build/last'])).toEqual({ files: ['out/b', 'out/k-stripped', 'build/last'], open: false, noDereference: ['build/last'] });
    // ln -n and -T write the destination itself even when it is a link to a folder; a plain ln or cp write into that folder.
    expect(recipeWrites(['ln -s -n a out/l', 'cp -T x out/d', 'mv --no-target-directory y out/e', 'ln --no-dereference b out/m']).noDereference).toEqual(['out/l', 'out/d', 'out/e', 'out/m']);
    expect(recipeWrites(['ln -sf a out/l', 'cp -n x out/d', 'install -m 644 y out/e']).noDereference).toEqual([]);
    expect(recipeWrites(["if [ '$x' != 'y' ]; then echo -n y > out/last ; fi"])).toEqual({ files: ['out/last'], open: false, noDereference: [] });
    // Scripts, `cd`, tools writing beside their input, copies into a folder, sed -i: open.
    for (const open of [['bash scripts/gen-syscalls out/gen/'], ['cd out; objcopy -I binary a a.o'], ['out/lz out/k'], ['cp a b out/'], ["sed -i 's/a/b/' out/x"], ['make -B -o a out/x'], ['python3 gen.py > out/x']]) {
      expect(recipeWrites(open).open, open[0]).toBe(true);
    }
  });
  it('finds file-like words, also after = and ,', () => {
    expect(fileLikeWords(['g++ -Wl,--version-script=out/vs -o out/x a.o'])).toEqual(expect.arrayContaining(['out/vs', 'out/x', 'a.o']));
  });
  it('knows which exported variables a command or script reads', () => {
    const exported = { conf_a: '1', conf_b: '0', other: 'x' };
    expect(envReadBy(['echo $conf_a > f'], exported, () => undefined)).toEqual({ conf_a: '1' });
    expect(envReadBy(['cat a b | sort > f'], exported, () => undefined)).toEqual({});
    expect(envReadBy(['sh gen'], exported, (w) => (w === 'gen' ? 'awk \'{ print ENVIRON["conf_"$0] }\'' : undefined))).toEqual({ conf_a: '1', conf_b: '0' });
    expect(envReadBy(['sh gen'], exported, (w) => (w === 'gen' ? 'echo "$conf_b"' : undefined))).toEqual({ conf_b: '0' });
    const evalScript = 'for n in $names; do eval "v=\\${conf_$n:-0}"; done';
    expect(envReadBy(['sh gen'], exported, (w) => (w === 'gen' ? evalScript : undefined))).toEqual({ conf_a: '1', conf_b: '0' });
    expect(envReadBy(['sh gen'], exported, (w) => (w === 'gen' ? 'printenv' : undefined))).toEqual(exported);
  });
});

describe('make database: values a dry run cannot know', () => {
  // As `make -p` prints them: global recursive variables, then the files with their
  // target-specific variables and unexpanded recipes.
  const database = [
    '# Make data base, printed on Fri Nov 27 01:00:00 2026',
    '# makefile (from \'Makefile\', line 3)',
    'out = build/$(mode).$(arch)',
    '# makefile (from \'Makefile\', line 9)',
    'kernel_size = $(shell stat --printf %s $(out)/loader-stripped.elf)',
    '# makefile (from \'Makefile\', line 10)',
    'boot_flags = -DSIZE=$(kernel_size)',
    '# makefile (from \'Makefile\', line 11)',
    'CXX_INCLUDES = $(shell $(CXX) -E -xc++ - -v </dev/null)',
    '# makefile (from \'Makefile\', line 12)',
    'options_file = $(out)/options.ld',
    '# Files',
    '',
    'build/release.x64/boot32.o: ASFLAGS += $(boot_flags)',
    'build/release.x64/boot32.o: boot32.S build/release.x64/loader-stripped.elf',
    '#  Implicit rule search has been done.',
    '\t$(CC) $(ASFLAGS) -c -o $@ $<',
    '',
    'build/release.x64/a.o: a.c',
    '\t$(CC) $(CXX_INCLUDES) -c -o $@ $<',
    '',
    'build/release.x64/options.ld: stage1',
    "\t@if [ '$(shell cat $(options_file))' != 'X' ]; then echo X > $@; fi",
    '',
    '# files hash-table stats:',
  ].join('\n');
  const db = parseDatabase(database);

  it('keeps recursive variables and each target\'s unexpanded text', () => {
    expect(db.recursiveVars.get('kernel_size')).toContain('$(shell stat');
    expect(db.ruleText.get('build/release.x64/boot32.o')).toContain('ASFLAGS += $(boot_flags)');
    expect(db.ruleText.get('build/release.x64/a.o')).toContain('$(CXX_INCLUDES)');
  });

  it('finds variables whose $(shell ...) reads the build folder, and those built on them, but not CXX_INCLUDES', () => {
    const inBuild = buildPathVariables(db);
    expect([...inBuild].sort()).toEqual(['boot_flags', 'kernel_size', 'options_file', 'out']);
    const late = lateVariables(db, inBuild);
    expect([...late].sort()).toEqual(['boot_flags', 'kernel_size']);
    expect(refersTo(db.ruleText.get('build/release.x64/boot32.o')!, late)).toBe(true);
    expect(refersTo(db.ruleText.get('build/release.x64/a.o')!, late)).toBe(false);
    expect(refersTo('${kernel_size}', late)).toBe(true);
    expect(refersTo('$(kernel_sizes)', late)).toBe(false);
  });
});
