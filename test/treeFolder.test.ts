import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { copyExample, OUT, REPO, removeCopies, startDaemon, stopDaemons, type BuildJson, type RunResult, type StatusJson } from './helpers.js';

/**
 * A command run in a folder of the tree (core/, drivers/) works on the tree, as git finds its
 * repository: the nearest folder up with osv.config.ts or a Makefile. Paths it names stay relative to
 * where it runs.
 */
const OSVD = path.join(REPO, 'bin', 'osvd.js');
const scratch: string[] = [];
afterEach(() => stopDaemons());
afterAll(() => {
  removeCopies();
  for (const d of scratch) fs.rmSync(d, { recursive: true, force: true });
});

/** osvd run in `cwd`, with no --root. */
function osvdIn(cwd: string, args: string[]): RunResult {
  const r = spawnSync(process.execPath, [OSVD, ...args], { cwd, encoding: 'utf8', env: { ...process.env, OSVD_LOG: '' }, timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const lastJson = <T>(r: RunResult): T => JSON.parse(r.stdout.trim().split('\n').at(-1)!) as T;
const ran = (r: BuildJson): string[] => r.ran.map((e) => e.output).sort();

describe('the tree found from one of its folders', () => {
  it('from core/: a target named from there, the whole build, then the daemon and a build through it', () => {
    const root = copyExample();
    const core = path.join(root, 'core');
    const one = osvdIn(core, ['build', '--json', 'mmu.cc']);
    expect(one.code, one.stderr).toBe(0);
    const first = lastJson<BuildJson & { via: string }>(one);
    expect(first.via).toBe('one-shot');
    expect(ran(first).filter((o) => o.endsWith('.o'))).toEqual([`${OUT}/core/mmu.o`]);
    expect(fs.existsSync(path.join(root, OUT, 'core/mmu.o'))).toBe(true);

    const all = lastJson<BuildJson>(osvdIn(core, ['build', '--json']));
    expect(all.ok).toBe(true);
    expect(fs.existsSync(path.join(root, OUT, 'loader.elf'))).toBe(true);
    expect(fs.existsSync(path.join(core, 'build'))).toBe(false);

    // osvd init from there writes the config at the top, where the next commands find it.
    const init = osvdIn(core, ['init', '--json']);
    expect(init.code, init.stderr).toBe(0);
    expect(lastJson<{ root: string; config: { file: string; written: boolean } }>(init)).toMatchObject({ root, config: { file: path.join(root, 'osv.config.ts'), written: true } });
    expect(fs.existsSync(path.join(core, 'osv.config.ts'))).toBe(false);

    const pid = startDaemon(root);
    const st = lastJson<StatusJson>(osvdIn(core, ['status', '--json']));
    expect(st.daemon).toMatchObject({ running: true, pid });
    fs.appendFileSync(path.join(core, 'mmu.cc'), '\n// edited\n');
    const through = lastJson<BuildJson & { via: string }>(osvdIn(path.join(root, 'drivers'), ['build', '--json']));
    expect(through).toMatchObject({ ok: true, via: 'daemon' });
    expect(ran(through).filter((o) => o.endsWith('.o'))).toEqual([`${OUT}/core/mmu.o`]);
  });

  it('the nearest wins: a tree inside a folder with a config is its own; with no tree above, the error names the current folder', () => {
    const outer = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-outer-'));
    scratch.push(outer);
    // A config that fails to load if it is ever read.
    fs.writeFileSync(path.join(outer, 'osv.config.ts'), "import { defineConfig } from 'osvd';\nexport default defineConfig({ not_a_field: 1 });\n");
    const inner = path.join(outer, 'osv');
    fs.cpSync(copyExample(), inner, { recursive: true });
    const r = osvdIn(path.join(inner, 'core'), ['build', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(lastJson<BuildJson>(r).ok).toBe(true);
    expect(fs.existsSync(path.join(inner, OUT, 'loader.elf'))).toBe(true);
    expect(fs.existsSync(path.join(outer, 'build'))).toBe(false);
    // From the outer folder itself its own config is read, and refused.
    const refused = osvdIn(outer, ['status']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("unknown field 'not_a_field'");

    const lone = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-lone-')), 'a', 'b');
    scratch.push(path.dirname(path.dirname(lone)));
    fs.mkdirSync(lone, { recursive: true });
    const none = osvdIn(lone, ['build']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain(`${path.join(lone, 'Makefile')}: no Makefile in ${lone}`);
  });
});
