import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
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
    expect(ranOf(r)).toEqual([SCRIPT, KERNEL].sort());
    expect(ranOf(r, 'generate')).toEqual([SCRIPT]);
    expect(exportedSymbols(root)).toEqual(['free', 'malloc', 'osv_cpu_count', 'osv_version', 'printf', 'snprintf', 'strlen']);
  });

  it('a new symbol set relinks only', () => {
    fs.writeFileSync(hello(), fs.readFileSync(hello(), 'utf8').replace('free(greeting);', 'free(greeting);\n    puts("bye");'));
    buildApp(root);
    const r = build(root, 'conf_hide_symbols=1', `app=${APP}`);
    expect(ranOf(r)).toEqual([SCRIPT, KERNEL].sort());
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
    expect(ranOf(extra)).toEqual([SCRIPT, KERNEL].sort());
    expect(exportedSymbols(root)).toContain('osv_uptime_ns');
    expect(exportedSymbols(root)).not.toContain('not_exported_anywhere');
    const back = build(root, 'conf_hide_symbols=1');
    expect(ranOf(back)).toEqual([]);
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
