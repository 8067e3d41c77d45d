import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binWithout, build, copyExample, make, OUT, osvdEnv, ranOf, removeCopies } from './helpers.js';

/**
 * App-specific kernels: the `app` knob makes osvd derive the kernel's version script from the app's
 * undefined dynamic symbols. The script is an action with early cutoff: an app rebuilt with the same
 * imports rewrites the same script and the kernel is not relinked.
 */
const KERNEL = `${OUT}/loader.elf`;
const SCRIPT = `${OUT}/app_version_script`;
/** The kernel's link chain: what a new version script reruns after the script itself. */
const CHAIN = [KERNEL, `${OUT}/loader-stripped.elf`, `${OUT}/loader-stripped.elf.lz.o`, `${OUT}/lzloader.elf`, `${OUT}/vmlinuz.bin`];
/** The iconv choice follows the script (OSv's Makefile greps it for iconv): the stubs for these apps. */
const STUBS = `${OUT}/libc/iconv_stubs.o`;

/** What a build ran besides the link chain and the cheap generators that follow the version script. */
function ranBeyondChain(r: { ran: { output: string; kind: string }[] }): string[] {
  const cheap = [`${OUT}/version_script`, `${OUT}/bootfs_manifest.last`, `${OUT}/osv.syms`];
  return ranOf(r).filter((o) => !CHAIN.includes(o) && !cheap.includes(o));
}
const APP = 'apps/hello/hello.so';

function exportedSymbols(root: string): string[] {
  const r = spawnSync('nm', ['-D', '--defined-only', path.join(root, KERNEL)], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(/\s+/).at(-1)!)
    .sort();
}

function buildApp(root: string): void {
  const r = make(root, ['-C', 'apps/hello']);
  expect(r.code, r.stderr).toBe(0);
}

afterAll(removeCopies);

describe('app-specific kernel', () => {
  let root: string;
  const hello = (): string => path.join(root, 'apps/hello/hello.c');
  beforeAll(() => {
    root = copyExample();
    buildApp(root);
    expect(build(root, 'conf_hide_symbols=1').ok).toBe(true);
  });

  it("relinks only, with exactly the app's imported symbols exported", () => {
    const r = build(root, 'conf_hide_symbols=1', `app=${APP}`);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    expect(ranBeyondChain(r)).toEqual([SCRIPT, STUBS].sort());
    expect(ranOf(r, 'link')).toEqual(expect.arrayContaining([KERNEL, `${OUT}/lzloader.elf`]));
    expect(exportedSymbols(root)).toEqual(['free', 'malloc', 'osv_cpu_count', 'osv_version', 'printf', 'snprintf', 'strlen']);
  });

  it('a new symbol set relinks only', () => {
    fs.writeFileSync(hello(), fs.readFileSync(hello(), 'utf8').replace('free(greeting);', 'free(greeting);\n    puts("bye");'));
    buildApp(root);
    const r = build(root, 'conf_hide_symbols=1', `app=${APP}`);
    expect(ranBeyondChain(r)).toEqual([SCRIPT]);
    expect(ranOf(r)).toContain(KERNEL);
    expect(exportedSymbols(root)).toContain('puts');
  });

  it('an app rebuilt with the same imported symbols runs nothing in the kernel', () => {
    const before = fs.statSync(path.join(root, KERNEL)).mtimeMs;
    fs.writeFileSync(hello(), fs.readFileSync(hello(), 'utf8').replace('"world"', '"mini-osv"'));
    buildApp(root);
    const r = build(root, 'conf_hide_symbols=1', `app=${APP}`);
    expect(r.ok).toBe(true);
    expect(ranOf(r)).toEqual([SCRIPT]);
    expect(ranOf(r, 'compile')).toEqual([]);
    expect(ranOf(r, 'link')).toEqual([]);
    expect(fs.statSync(path.join(root, KERNEL)).mtimeMs).toBe(before);
  });

  it('extra dlsym names join the script, and dropping the app restores the default kernel from the store', () => {
    const extra = build(root, 'conf_hide_symbols=1', `app=${APP}`, 'app_extra_symbols=osv_uptime_ns,not_exported_anywhere');
    expect(ranBeyondChain(extra)).toEqual([SCRIPT]);
    expect(ranOf(extra)).toContain(KERNEL);
    expect(exportedSymbols(root)).toContain('osv_uptime_ns');
    expect(exportedSymbols(root)).not.toContain('not_exported_anywhere');
    const back = build(root, 'conf_hide_symbols=1');
    expect(ranBeyondChain(back)).toEqual([]);
    expect(ranOf(back, 'compile')).toEqual([]);
    expect(back.restored.map((e) => e.output)).toContain(KERNEL);
  });

  it('an OSv manifest names the app: its ELF files give the same script, and a rebuilt app reruns only the script', () => {
    expect(build(root, 'conf_hide_symbols=1', `app=${APP}`).ok).toBe(true);
    const direct = fs.readFileSync(path.join(root, SCRIPT), 'utf8');
    const manifest = 'apps/hello/hello.manifest';
    // Host paths are relative to the manifest's folder; files that are not ELF (the Makefile) are skipped.
    fs.writeFileSync(path.join(root, manifest), '[manifest]\n# the app\n/hello.so: hello.so\n/etc/Makefile: Makefile\n');
    const r = build(root, 'conf_hide_symbols=1', `app=${manifest}`);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    expect(ranOf(r)).toEqual([SCRIPT]);
    expect(fs.readFileSync(path.join(root, SCRIPT), 'utf8')).toBe(direct);
    expect(fs.readFileSync(path.join(root, `${SCRIPT}.d`), 'utf8')).toMatch(/apps\/hello\/hello\.so/);
    fs.writeFileSync(hello(), fs.readFileSync(hello(), 'utf8').replace('"mini-osv"', '"manifest"'));
    buildApp(root);
    const again = build(root, 'conf_hide_symbols=1', `app=${manifest}`);
    expect(ranOf(again)).toEqual([SCRIPT]);
    fs.appendFileSync(path.join(root, manifest), '/hello2.so: hello.so\n');
    expect(ranOf(build(root, 'conf_hide_symbols=1', `app=${manifest}`))).toEqual([SCRIPT]);
  });

  it('refuses an app without hidden symbols, and a missing ELF file, naming the knob', () => {
    const r = build(root, `app=${APP}`);
    expect(r.code).toBe(2);
    expect(JSON.stringify(r)).toMatch(/conf_hide_symbols=1/);
    const missing = build(root, 'conf_hide_symbols=1', 'app=apps/nope.so');
    expect(missing.code).toBe(2);
    expect(JSON.stringify(missing)).toMatch(/apps\/nope\.so/);
  });

  it('without objdump, fails the version script naming objdump instead of writing an empty one', () => {
    fs.rmSync(path.join(root, SCRIPT), { force: true });
    const r = osvdEnv(root, ['build', '--json', '--set', 'conf_hide_symbols=1', '--set', `app=${APP}`, '--set', 'app_extra_symbols=osvd_no_objdump'], { PATH: binWithout(/^(x86_64-linux-gnu-)?objdump$/) });
    expect(r.code).toBe(1);
    const result = JSON.parse(r.stdout);
    expect(result.failed).toHaveLength(1);
    expect(result.failed[0]).toMatchObject({ output: SCRIPT, exitCode: 127 });
    expect(result.failed[0].message).toMatch(/objdump: not found[\s\S]*'objdump'[\s\S]*binutils/);
    expect(fs.existsSync(path.join(root, SCRIPT))).toBe(false);
    expect(result.skipped).toContain(KERNEL);
  });
});

/** An app in a folder of its own, outside the tree (as apps usually live in their own repos). */
function outsideApp(root: string, name: string, body: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-app-'));
  outside.push(dir);
  fs.writeFileSync(path.join(dir, `${name}.c`), `#include <stdio.h>\n#include <string.h>\ntypedef void *iconv_t;\niconv_t iconv_open(const char *, const char *);\nint iconv_close(iconv_t);\n\nint main(void)\n{\n${body}\n    return 0;\n}\n`);
  const include = spawnSync('gcc', ['-print-file-name=include'], { encoding: 'utf8' }).stdout.trim();
  const elf = path.join(dir, `${name}.so`);
  const r = spawnSync('gcc', ['-O2', '-fPIC', '-ffreestanding', '-fno-builtin', '-nostdinc', '-isystem', path.join(root, 'include/api'), '-I', path.join(root, 'include'), '-isystem', include, '-shared', '-nostdlib', '-o', elf, path.join(dir, `${name}.c`)], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return elf;
}
const outside: string[] = [];

/** Whether the kernel links libc/iconv.o (its static `identity`), not the stubs. */
function linksIconv(root: string): boolean {
  const r = spawnSync('nm', [path.join(root, KERNEL)], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return /\sidentity$/m.test(r.stdout);
}
afterAll(() => {
  for (const d of outside.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('an app outside the tree', () => {
  let root: string;
  beforeAll(() => {
    root = copyExample();
    expect(build(root, 'conf_hide_symbols=1').ok).toBe(true);
  });

  it('is recorded: a second build with the same knobs runs nothing', () => {
    const elf = outsideApp(root, 'hello', '    printf("%s\\n", "hello");\n    puts("bye");');
    const first = build(root, 'conf_hide_symbols=1', `app=${elf}`);
    expect(first.ok, JSON.stringify(first.failed)).toBe(true);
    expect(ranBeyondChain(first)).toEqual([SCRIPT, STUBS].sort());
    expect(exportedSymbols(root)).toEqual(['printf', 'puts']);
    expect(fs.readFileSync(path.join(root, `${SCRIPT}.d`), 'utf8')).toBe(`${SCRIPT}: ${elf} \n`);
    expect(build(root, 'conf_hide_symbols=1', `app=${elf}`).ran).toEqual([]);
  });

  it("links the iconv objects its version script asks for on the first build, and the next build runs nothing", () => {
    const withIconv = outsideApp(root, 'conv', '    iconv_t cd = iconv_open("UTF-8", "LATIN1");\n    iconv_close(cd);');
    const first = build(root, 'conf_hide_symbols=1', `app=${withIconv}`);
    expect(first.ok, JSON.stringify(first.failed)).toBe(true);
    // iconv.o itself was compiled by the first build (the default script exports everything).
    expect(ranOf(first, 'compile')).toEqual([]);
    expect(ranOf(first)).toContain(KERNEL);
    expect(linksIconv(root)).toBe(true);
    expect(exportedSymbols(root)).toEqual(['iconv_close', 'iconv_open']);
    expect(build(root, 'conf_hide_symbols=1', `app=${withIconv}`).ran).toEqual([]);
    // An app without iconv: the stubs, on the first build too.
    const plain = outsideApp(root, 'plain', '    puts("plain");');
    const other = build(root, 'conf_hide_symbols=1', `app=${plain}`);
    expect(ranOf(other, 'compile')).toEqual([]);
    expect(linksIconv(root)).toBe(false);
    expect(build(root, 'conf_hide_symbols=1', `app=${plain}`).ran).toEqual([]);
    // Back to the iconv app: restored, nothing compiled.
    const back = build(root, 'conf_hide_symbols=1', `app=${withIconv}`);
    expect(ranOf(back, 'compile')).toEqual([]);
    expect(linksIconv(root)).toBe(true);
    expect(exportedSymbols(root)).toEqual(['iconv_close', 'iconv_open']);
  });
});
