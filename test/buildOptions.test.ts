import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendTo, build, copyExample, KERNEL_CHAIN, OUT, osvd, osvdEnv, ranOf, REPO, removeCopies, startDaemon, status, stopDaemons, type BuildJson } from './helpers.js';

/** make's and ninja's habits on `osvd build`: targets, -n, -j, -k, -v, exit codes, and what commands print. */
afterAll(() => {
  stopDaemons();
  removeCopies();
});

const SCHED = `${OUT}/core/sched.o`;
const KERNEL = `${OUT}/loader.elf`;
/** A warning -Werror does not turn into an error (the example tree builds with -Werror). */
const UNUSED = '\n#pragma GCC diagnostic warning "-Wunused-function"\nstatic int osvd_unused_fn(void) { return 1; }\n';
/** gcc quotes the name with ‘’ or '' depending on the locale. */
const UNUSED_RE = 'warning: .osvd_unused_fn. defined but not used \\[-Wunused-function\\]';

type Report = Omit<BuildJson, 'ran'> & { stopped: boolean; jobs: { limit: number; peak: number }; ran: (BuildJson['ran'][number] & { printed?: string })[] };

function buildJson(root: string, args: string[], env: Record<string, string> = {}): Report & { code: number | null; stderr: string } {
  const r = osvdEnv(root, ['build', '--json', ...args], { OSVD_LOG: '', ...env });
  return { ...(JSON.parse(r.stdout) as Report), code: r.code, stderr: r.stderr };
}

/** osvd run from a folder inside the tree (targets relative to it). */
function osvdIn(root: string, dir: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/osvd.js'), ...args, '--root', root], { cwd: path.join(root, dir), encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('usage errors', () => {
  it('-j that is not a whole number above 0, an unknown option, a bad -k: exit 2 with a message, at once', () => {
    const root = copyExample();
    for (const j of ['abc', '0', '-3', '2.5']) {
      const r = osvd(root, ['build', '-j', j]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`osvd: option '-j, --jobs <n>' argument '${j}' is invalid. it must be a whole number above 0.`);
    }
    expect(osvd(root, ['build', '-k', 'x']).code).toBe(2);
    const unknown = osvd(root, ['build', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("osvd: unknown option '--bogus'");
    expect(osvd(root, ['bogus']).code).toBe(2);
    expect(JSON.parse(osvd(root, ['build', '-j', '0', '--json']).stdout)).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    // Nothing was built or even imported.
    expect(fs.existsSync(path.join(root, 'build'))).toBe(false);
    expect(osvd(root, ['build', '--help']).stdout).toMatch(/stops starting actions at the first failure[\s\S]*-k N goes on until N actions have failed/);
  });
});

describe('targets and dry runs', () => {
  it('a source or an output builds that and what it needs, nothing else; an unknown target is a usage error', () => {
    const root = copyExample();
    const one = buildJson(root, ['core/sched.cc']);
    expect(one.ok).toBe(true);
    expect(ranOf(one, 'compile')).toEqual([SCHED]);
    expect(ranOf(one, 'link')).toEqual([]);
    expect(fs.existsSync(path.join(root, SCHED))).toBe(true);
    expect(fs.existsSync(path.join(root, `${OUT}/core/mutex.o`))).toBe(false);
    // Relative to the current folder, and to the build folder.
    const fromCore = osvdIn(root, 'core', ['build', 'mutex.cc', '--json']);
    expect(ranOf(JSON.parse(fromCore.stdout) as BuildJson, 'compile')).toEqual([`${OUT}/core/mutex.o`]);
    const byOut = buildJson(root, ['core/mempool.o']);
    expect(ranOf(byOut, 'compile')).toEqual([`${OUT}/core/mempool.o`]);
    // loader.elf needs the libraries bootfs.bin packs (bootfs.o is linked into it) and the host tool that
    // generates libc's ctype tables, not what is made from it.
    const kernel = buildJson(root, [KERNEL]);
    expect(kernel.ok).toBe(true);
    expect(ranOf(kernel, 'link')).toEqual([`${OUT}/gen-ctype-data`, `${OUT}/libenviron.so`, `${OUT}/libsolaris.so`, `${OUT}/libvdso.so`, KERNEL]);
    expect(ranOf(kernel, 'compile')).not.toContain(SCHED);
    for (const later of KERNEL_CHAIN.slice(1)) expect(fs.existsSync(path.join(root, later))).toBe(false);
    const unknown = osvd(root, ['build', 'no/such.o']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/TARGET: 'no\/such\.o' is neither an output nor a source/);
  });

  it('-n says what would run, be restored or may run, and why; nothing runs and nothing is recorded', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    const builds = status(root).builds;
    appendTo(root, 'core/sched.cc', '\nint osvd_dry() { return 3; }\n');
    const objectBefore = fs.statSync(path.join(root, SCHED)).mtimeMs;
    const dry = JSON.parse(osvd(root, ['build', '-n', '--json']).stdout);
    const actions = JSON.parse(osvd(root, ['status', '--json']).stdout).graph.actions as number;
    expect(dry).toMatchObject({ ok: true, dryRun: true, restore: [], upToDate: actions - 1 - KERNEL_CHAIN.length });
    expect(dry.run.map((e: { output: string }) => e.output)).toEqual([SCHED]);
    expect(dry.run[0].reason).toBe('input modified: core/sched.cc');
    expect(dry.pending.map((e: { output: string }) => e.output)).toEqual(KERNEL_CHAIN);
    const text = osvd(root, ['build', '--dry-run', '-v']).stdout;
    expect(text).toContain(`would run      compile  ${SCHED}  (input modified: core/sched.cc)`);
    expect(text).toMatch(/\n {4}g\+\+ .* -c -o build\/release\.x64\/core\/sched\.o core\/sched\.cc\n/);
    expect(text).toMatch(/1 would run, 0 would be restored, 5 may run, \d+ up to date; nothing was run or recorded/);
    expect(fs.statSync(path.join(root, SCHED)).mtimeMs).toBe(objectBefore);
    expect(status(root)).toMatchObject({ builds, dirty: { run: 1 } });
    // After clean, what the store holds would be restored.
    osvd(root, ['clean']);
    const restorable = JSON.parse(osvd(root, ['build', '-n', '--json']).stdout);
    expect(restorable.run.map((e: { output: string }) => e.output)).toEqual([SCHED]);
    expect(restorable.restore.length).toBeGreaterThan(10);
    expect(fs.existsSync(path.join(root, OUT))).toBe(false);
  });
});

describe('failures', () => {
  it('stop at the first failure by default (running jobs finish); -k N and --keep-going go on; the command that failed is named', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    appendTo(root, 'core/mutex.cc', '\nint osvd_broken_a = ;\n');
    appendTo(root, 'core/sched.cc', '\nint osvd_broken_b = ;\n');
    appendTo(root, 'core/mempool.cc', '\nint osvd_fine() { return 1; }\n');
    const stop = buildJson(root, ['-j', '1']);
    expect(stop.code).toBe(1);
    expect(stop.failed).toHaveLength(1);
    expect(stop.stopped).toBe(true);
    const text = osvd(root, ['build', '-j', '1']);
    expect(text.code).toBe(1);
    expect(text.stdout).toMatch(/osvd: stopped after 1 failure \(-k N or --keep-going to go on\)/);
    // The failure names its output, then the command, then what the compiler said.
    expect(text.stderr).toMatch(/\nFAILED: build\/release\.x64\/core\/(mutex|sched)\.o \(exit 1\)\ng\+\+ [^\n]* -c -o build\/release\.x64\/core\/(mutex|sched)\.o core\/(mutex|sched)\.cc\ncore\/(mutex|sched)\.cc:\d+:\d+: error: /);

    const all = buildJson(root, ['--keep-going']);
    expect(all.code).toBe(1);
    expect(all.stopped).toBe(false);
    expect(all.failed.map((f) => f.output).sort()).toEqual([`${OUT}/core/mutex.o`, SCHED]);
    expect(all.skipped).toContain(KERNEL);
    const two = buildJson(root, ['-k', '2', '-j', '1']);
    expect(two.failed).toHaveLength(2);
    const zero = buildJson(root, ['-k', '0']);
    expect(zero.failed).toHaveLength(2);
  });
});

describe('what commands print', () => {
  it('a warning of a compile that succeeds reaches the terminal after its line, the JSON, why, the log and the report, without colours in a pipe', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    appendTo(root, 'libc/string.c', UNUSED);
    const r = osvd(root, ['build']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`\\] ran compile build/release\\.x64/libc/string\\.o \\d+ ms\\nlibc/string\\.c:\\d+:\\d+: ${UNUSED_RE}\\n`));
    expect(r.stderr).not.toContain('\x1b');
    const why = osvd(root, ['why', 'libc/string.c']);
    expect(why.stdout).toMatch(new RegExp(`its commands printed:\\n  \\| libc/string\\.c:\\d+:\\d+: ${UNUSED_RE}`));
    expect(JSON.parse(osvd(root, ['why', 'libc/string.c', '--json']).stdout).lastRun.printed).toMatch(new RegExp(UNUSED_RE));
    expect(osvd(root, ['logs']).stdout).toMatch(new RegExp(UNUSED_RE));
    // osvd report lists it under the action that printed it, and no other.
    const page = path.join(root, 'report.html');
    expect(osvd(root, ['report', '-o', page]).code).toBe(0);
    const html = fs.readFileSync(page, 'utf8');
    expect([...html.matchAll(/<details class="warning" data-id="([^"]+)">/g)].map((m) => m[1])).toEqual([`${OUT}/libc/string.o`]);
    expect(html).toMatch(new RegExp(`data-id="${OUT}/libc/string\\.o"><summary>[^<]*<span class="dim">\\(1 warning\\)</span></summary><pre>libc/string\\.c:\\d+:\\d+: warning: \\S*osvd_unused_fn\\S* defined but not used`));

    appendTo(root, 'libc/string.c', '\nint osvd_json() { return 2; }\n');
    const json = buildJson(root, []);
    expect(json.ran.find((e) => e.output === `${OUT}/libc/string.o`)!.printed).toMatch(new RegExp(UNUSED_RE));
    // A quiet compile has nothing printed.
    expect(json.ran.filter((e) => e.printed !== undefined).map((e) => e.output)).toEqual([`${OUT}/libc/string.o`]);
  });

  it('colours go to a terminal that shows them, never into the key, the record, the JSON or a pipe', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    appendTo(root, 'libc/string.c', UNUSED);
    const coloured = osvdEnv(root, ['build'], { CLICOLOR_FORCE: '1', OSVD_LOG: '' });
    expect(coloured.stderr).toContain('\x1b[01;35m\x1b[Kwarning: \x1b[m\x1b[K');
    const why = JSON.parse(osvd(root, ['why', 'libc/string.c', '--json']).stdout);
    expect(why.lastRun.printed).toMatch(new RegExp(UNUSED_RE));
    expect(JSON.stringify(why)).not.toMatch(/diagnostics-color|\\u001b/);
    // The same key without colours: nothing runs.
    expect(build(root).ran).toEqual([]);
    appendTo(root, 'libc/string.c', '\nint osvd_plain() { return 2; }\n');
    const json = buildJson(root, [], { CLICOLOR_FORCE: '1' });
    expect(JSON.stringify(json)).not.toContain('\\u001b');
    expect(JSON.stringify(json)).toContain('-Wunused-function');
  });

  it("ld's missing .note.GNU-stack warning on the kernel link is shown and kept", () => {
    const root = copyExample();
    // As OSv's link: without -z noexecstack, an assembler file without the note makes ld warn.
    const makefile = path.join(root, 'Makefile');
    fs.writeFileSync(makefile, fs.readFileSync(makefile, 'utf8').replaceAll(' -z noexecstack', ''));
    const switchS = path.join(root, 'arch/x64/switch.S');
    fs.writeFileSync(switchS, fs.readFileSync(switchS, 'utf8').replace(/^.*\.note\.GNU-stack.*$/m, ''));
    const r = osvd(root, ['build']);
    expect(r.code).toBe(0);
    // ld names the first object without the note (the example's bootfs.o has none either).
    expect(r.stderr).toMatch(/\] ran link build\/release\.x64\/loader\.elf \d+ ms\n(ld: )?[^\n]*(bootfs|switch)\.o: missing \.note\.GNU-stack section implies executable stack/);
    expect(osvd(root, ['why', KERNEL]).stdout).toMatch(/its commands printed:\n {2}\| [^\n]*missing \.note\.GNU-stack section/);
  });

  it('-v prints each command before it runs', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    appendTo(root, 'core/sched.cc', '\nint osvd_verbose() { return 4; }\n');
    const r = osvd(root, ['build', '-v']);
    expect(r.stderr).toMatch(/\nmkdir -p build\/release\.x64\/core\/\ng\+\+ [^\n]* -c -o build\/release\.x64\/core\/sched\.o core\/sched\.cc\n\[\d+\/\d+\] ran compile build\/release\.x64\/core\/sched\.o/);
  });
});

describe('on a terminal', () => {
  it('one status line rewritten in place, what a command printed below it in colour', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    appendTo(root, 'libc/string.c', UNUSED);
    // script(1) runs osvd on a pseudo-terminal, as a shell in a terminal window would.
    const cmd = `${process.execPath} ${path.join(REPO, 'bin/osvd.js')} build --root ${root}`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: root, encoding: 'utf8', env: { ...process.env, TERM: 'xterm', OSVD_LOG: '' } });
    expect(r.status).toBe(0);
    const out = r.stdout.replace(/\r\n/g, '\n');
    // Status lines overwrite each other (carriage return, clear to the end of the line), never one line each.
    expect(out).toMatch(/\r\[\d+\/\d+( ETA \d+ s)?\] compile build\/release\.x64\/libc\/string\.o\x1b\[K\n/);
    expect(out).not.toMatch(/^\[\d+\/\d+\] ran /m);
    // gcc was asked for colours: the warning comes coloured, right below its status line.
    expect(out).toMatch(/string\.o\x1b\[K\n\x1b\[01m\x1b\[Klibc\/string\.c:\d+:\d+:\x1b\[m\x1b\[K \x1b\[01;35m\x1b\[Kwarning: /);
    expect(out).toMatch(/osvd: build ok in /);
  });
});

describe('through the daemon', () => {
  it('counts from the start, honours -j, -k, -n, -v and targets, and prints what commands printed', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    startDaemon(root);
    appendTo(root, 'core/sched.cc', '\nint osvd_daemon_a() { return 5; }\n');
    appendTo(root, 'libc/string.c', UNUSED);
    const dry = JSON.parse(osvd(root, ['build', '-n', '--json']).stdout);
    expect(dry).toMatchObject({ via: 'daemon', dryRun: true });
    expect(dry.run.map((e: { output: string }) => e.output).sort()).toEqual([SCHED, `${OUT}/libc/string.o`].sort());
    const r = osvd(root, ['build', '-j', '1', '-v']);
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => /^\[/.test(l));
    // Two compiles and the kernel's chain: the counts are right from the first line, and reach the total.
    const total = 2 + KERNEL_CHAIN.length;
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^\\[1/${total}\\] ran compile build/release\\.x64/(core/sched|libc/string)\\.o \\d+ ms$`)),
      expect.stringMatching(new RegExp(`^\\[2/${total}\\] ran compile build/release\\.x64/(core/sched|libc/string)\\.o \\d+ ms$`)),
      ...KERNEL_CHAIN.map((o, i) => expect.stringMatching(new RegExp(`^\\[${3 + i}/${total}\\] ran \\w+ ${o.replaceAll('.', '\\.')} \\d+ ms$`))),
    ]);
    expect(r.stderr).toMatch(new RegExp(UNUSED_RE));
    expect(r.stderr).toMatch(/\ng\+\+ [^\n]* -c -o build\/release\.x64\/core\/sched\.o core\/sched\.cc\n/);
    expect(r.stdout).toMatch(/\(daemon\)/);

    appendTo(root, 'core/mutex.cc', '\nint osvd_daemon_b() { return 6; }\n');
    appendTo(root, 'core/mempool.cc', '\nint osvd_daemon_c() { return 6; }\n');
    appendTo(root, 'core/sched.cc', '\nint osvd_daemon_d() { return 6; }\n');
    const one = buildJson(root, ['-j', '1', 'core/mutex.cc']);
    expect(one.jobs).toEqual({ limit: 1, peak: 1 });
    expect(ranOf(one)).toEqual([`${OUT}/core/mutex.o`]);
    const two = buildJson(root, ['-j', '2']);
    expect(two.jobs).toEqual({ limit: 2, peak: 2 });
    expect(ranOf(two, 'compile')).toEqual([`${OUT}/core/mempool.o`, SCHED]);

    appendTo(root, 'core/mutex.cc', '\nint osvd_broken_a = ;\n');
    appendTo(root, 'core/sched.cc', '\nint osvd_broken_b = ;\n');
    const stop = buildJson(root, ['-j', '1']);
    expect(stop).toMatchObject({ ok: false, stopped: true });
    expect(stop.failed).toHaveLength(1);
    expect(buildJson(root, ['--keep-going']).failed).toHaveLength(2);
  });
});
