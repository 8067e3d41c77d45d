import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { build, copyExample, OUT, osvd, ranOf, REPO, removeCopies, CHAIN_LINKS } from './helpers.js';

/** The CLI around the engine: status, clean, config files, the store's cap, and every kind of bad input. */
afterAll(removeCopies);

function osvdWithPath(root: string, args: string[], PATH: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin/osvd.js'), ...args, '--root', root], { cwd: root, encoding: 'utf8', env: { ...process.env, PATH } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('status and clean', () => {
  it('status reports knobs, graph size by kind, staleness and the last build', () => {
    const root = copyExample();
    const before = JSON.parse(osvd(root, ['status', '--json']).stdout);
    expect(before.daemon.running).toBe(false);
    expect(before.lastBuild).toBeNull();
    expect(before.dirty.run).toBeGreaterThan(0);
    const b = build(root);
    const after = JSON.parse(osvd(root, ['status', '--json']).stdout);
    expect(after.knobs).toMatchObject({ conf_drivers_profile: 'all', conf_hide_symbols: '0', mode: 'release', arch: 'x64' });
    expect(after.graph.actions).toBe(b.ran.length);
    expect(after.graph.byKind.compile).toBe(ranOf(b, 'compile').length);
    expect(after.dirty).toEqual({ run: 0, restore: 0, pending: 0, upToDate: b.ran.length });
    expect(after.lastBuild).toMatchObject({ ok: true, ran: b.ran.length });
    const switched = JSON.parse(osvd(root, ['status', '--json', '--set', 'conf_drivers_profile=virtio-mmio']).stdout);
    // The header generator must run, and make's own check of the bootfs manifest (a recipe make runs:
    // its command holds every knob); the includers and the link wait on the generator.
    expect(switched.dirty.run).toBe(2);
    expect(switched.dirty.pending).toBeGreaterThan(1);
    const text = osvd(root, ['status']).stdout;
    expect(text).toContain('state: up to date');
  });

  it('clean removes the build folder; the next build restores every output from the store as copies', () => {
    const root = copyExample();
    const first = build(root);
    const c = osvd(root, ['clean', '--json']);
    expect(JSON.parse(c.stdout)).toEqual({ ok: true, removed: [OUT] });
    expect(fs.existsSync(path.join(root, OUT))).toBe(false);
    const again = build(root);
    expect(again.ok).toBe(true);
    expect(ranOf(again, 'compile')).toEqual([]);
    expect(ranOf(again, 'link')).toEqual([]);
    expect(again.restored.length).toBeGreaterThanOrEqual(ranOf(first, 'compile').length);
    const kernel = fs.statSync(path.join(root, OUT, 'loader.elf'));
    expect(kernel.nlink).toBe(1);
    expect(build(root).ran).toEqual([]);
  });

  it('a store capped below its contents evicts, and switching back then recompiles instead of restoring', () => {
    const root = copyExample();
    fs.writeFileSync(path.join(root, 'osv.config.ts'), "import { defineConfig } from 'osvd';\nexport default defineConfig({ store: { maxBytes: 0 } });\n");
    expect(build(root).ok).toBe(true);
    const store = path.join(root, 'build/.osvd/store');
    const blobs = fs.existsSync(store) ? fs.readdirSync(store, { recursive: true }).filter((f) => fs.statSync(path.join(store, String(f))).isFile()) : [];
    expect(blobs).toEqual([]);
    expect(build(root, 'conf_drivers_profile=virtio-mmio').ok).toBe(true);
    const back = build(root, 'conf_drivers_profile=all');
    expect(back.restored).toEqual([]);
    expect(ranOf(back, 'link')).toEqual(CHAIN_LINKS);
  });
});

describe('progress', () => {
  it('in a pipe prints one line per finished action, with --quiet only the summary', () => {
    const root = copyExample();
    const r = osvd(root, ['build']);
    expect(r.code).toBe(0);
    const lines = r.stderr.split('\n').filter((l) => /^\[\d+\/\d+\] /.test(l));
    expect(lines.length).toBe(JSON.parse(osvd(root, ['status', '--json']).stdout).graph.actions);
    expect(lines.at(-1)).toMatch(/^\[(\d+)\/\1\] ran /);
    expect(r.stderr).toMatch(/no daemon runs for this tree: building in this process/);
    expect(r.stdout).toMatch(/osvd: build ok in [\d.]+ s/);
    fs.appendFileSync(path.join(root, 'core/sched.cc'), '\nint osvd_quiet() { return 1; }\n');
    const q = osvd(root, ['build', '--quiet']);
    expect(q.stderr).toBe('');
    expect(q.stdout.trim().split('\n')).toHaveLength(1);
  });
});

describe('configuration', () => {
  it('reads knobs from osv.config.ts; --set wins; the old name drivers_profile is accepted', () => {
    const root = copyExample();
    fs.writeFileSync(
      path.join(root, 'osv.config.ts'),
      "import { defineConfig } from 'osvd';\nconst profile: string = 'virtio-mmio';\nexport default defineConfig({ knobs: { conf_drivers_profile: profile, conf_hide_symbols: false }, jobs: 2 });\n",
    );
    expect(JSON.parse(osvd(root, ['status', '--json']).stdout).knobs.conf_drivers_profile).toBe('virtio-mmio');
    expect(JSON.parse(osvd(root, ['status', '--json', '--set', 'drivers_profile=base']).stdout).knobs.conf_drivers_profile).toBe('base');
  });

  it('names the file and field of a bad config, a syntax error, an unknown knob and an unknown profile', () => {
    const root = copyExample();
    const cfg = path.join(root, 'osv.config.ts');
    const error = (): { code: number | null; message: string } => {
      const r = osvd(root, ['status']);
      return { code: r.code, message: r.stderr };
    };
    fs.writeFileSync(cfg, 'export default { jobz: 2 };\n');
    expect(error()).toMatchObject({ code: 2, message: expect.stringMatching(/osv\.config\.ts: jobz: unknown field 'jobz'/) });
    fs.writeFileSync(cfg, 'export default { jobs: -1 };\n');
    expect(error().message).toMatch(/osv\.config\.ts: jobs: 'jobs' must be a whole number/);
    fs.writeFileSync(cfg, 'export default { knobs: { conf_drivers_profile: "all" ;\n');
    expect(error().message).toMatch(/osv\.config\.ts: syntax error: line 1/);
    fs.writeFileSync(cfg, 'export default { knobs: { conf_hide_symbol: 1 } };\n');
    expect(error().message).toMatch(/osv\.config\.ts: knobs\.conf_hide_symbol: unknown knob 'conf_hide_symbol'[\s\S]*did you mean 'conf_hide_symbols'/);
    fs.writeFileSync(cfg, 'export default { knobs: { conf_drivers_profile: "nope" } };\n');
    expect(error().message).toMatch(/knobs\.conf_drivers_profile: unknown drivers profile 'nope'; valid for x64: all, base, microvm, virtio-mmio, virtio-pci/);
    fs.rmSync(cfg);
    const r = build(root, 'conf_hide_symbols=2');
    expect(r.code).toBe(2);
    expect((r as unknown as { error: { field: string; message: string } }).error).toMatchObject({ field: '--set conf_hide_symbols', message: "must be 0 or 1, not '2'" });
  });
});

describe('bad trees and missing tools', () => {
  it('a tree without a Makefile, and a Makefile that make rejects, say so', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-empty-'));
    const r = osvd(empty, ['build']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no Makefile in/);
    fs.rmSync(empty, { recursive: true });

    const root = copyExample();
    fs.appendFileSync(path.join(root, 'Makefile'), '\n$(error this tree is broken on purpose)\n');
    const bad = osvd(root, ['build']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/make rejected the build[\s\S]*this tree is broken on purpose/);
  });

  it('make missing, and g++ missing, are said plainly', () => {
    const root = copyExample();
    const noMake = osvdWithPath(root, ['build'], '/nonexistent');
    expect(noMake.code).toBe(2);
    expect(noMake.stderr).toMatch(/cannot run 'make'/);

    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-bin-'));
    for (const dir of ['/usr/bin', '/bin']) {
      for (const name of fs.readdirSync(dir)) {
        if (/^(g\+\+|gcc|c\+\+|cc|x86_64-linux-gnu-(g\+\+|gcc|c\+\+))(-\d+)?$/.test(name)) continue;
        if (!fs.existsSync(path.join(bin, name))) fs.symlinkSync(path.join(dir, name), path.join(bin, name));
      }
    }
    const noCompiler = osvdWithPath(root, ['build', '--json'], bin);
    fs.rmSync(bin, { recursive: true });
    expect(noCompiler.code).toBe(1);
    const result = JSON.parse(noCompiler.stdout);
    expect(result.ok).toBe(false);
    expect(result.failed[0].message).toMatch(/(gcc|g\+\+): not found[\s\S]*the compiler '(gcc|g\+\+)' was not found: is it installed/);
  });

  it('a corrupt database is moved aside with a warning and the build goes on', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    const db = path.join(root, 'build/.osvd/state.db');
    for (const f of [db, `${db}-wal`, `${db}-shm`]) fs.rmSync(f, { force: true });
    fs.writeFileSync(db, 'this is not a database'.repeat(100));
    const r = osvd(root, ['build', '--json']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/warning: the state database was unusable[\s\S]*moved to .*state\.db\.broken-/);
    expect(JSON.parse(r.stdout).ok).toBe(true);
    expect(fs.readdirSync(path.join(root, 'build/.osvd')).some((f) => f.startsWith('state.db.broken-'))).toBe(true);
    expect(build(root).ran).toEqual([]);
  });

  it('why on a path that is not in the graph names it', () => {
    const root = copyExample();
    const r = osvd(root, ['why', 'no/such/file.o']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/'no\/such\/file\.o' is neither an output nor a source/);
  });

  it('the import is cached, and redone when a makefile it read changes', () => {
    const root = copyExample();
    const first = JSON.parse(osvd(root, ['build', '--json']).stdout);
    expect(first.import.cached).toBe(false);
    expect(JSON.parse(osvd(root, ['build', '--json']).stdout).import.cached).toBe(true);
    fs.appendFileSync(path.join(root, 'conf/profiles/x64/virtio-pci.mk'), '\n# a comment\n');
    const third = JSON.parse(osvd(root, ['build', '--json']).stdout);
    expect(third.import.cached).toBe(false);
    expect(third.ran).toEqual([]);
  });
});
