import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyExample, editorErrors, osvd, REPO, removeCopies } from './helpers.js';

/** `osvd init`: a config for the tree whose types resolve in an editor, where a misspelt knob is an error. */
afterAll(removeCopies);

describe('osvd init', () => {
  it("writes an osv.config.ts with the tree's profiles and a tsconfig.json; the config type-checks, a misspelt knob does not", () => {
    const root = copyExample();
    const r = osvd(root, ['init', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ ok: true, config: { written: true }, tsconfig: { written: true, mapsOsvd: true }, types: path.join(REPO, 'dist/osv/config.d.ts') });
    const config = fs.readFileSync(path.join(root, 'osv.config.ts'), 'utf8');
    expect(config).toContain("import { defineConfig } from 'osvd';");
    expect(config).toContain('for x64 all, base, microvm, virtio-mmio, virtio-pci');
    expect(config).toContain("conf_drivers_profile: 'all',");
    // The example's Makefile chooses a filesystem (fs=zfs builds libsolaris.so): zfs, as ./scripts/build.
    expect(config).toContain("fs: 'zfs',");
    // Only the two files are new in the tree.
    expect(fs.readdirSync(root).filter((f) => !fs.existsSync(path.join(REPO, 'examples/mini-osv', f))).sort()).toEqual(['osv.config.ts', 'tsconfig.json']);

    expect(editorErrors(root)).toEqual([]);
    // osvd itself reads the written config.
    expect(JSON.parse(osvd(root, ['status', '--json']).stdout).knobs).toMatchObject({ mode: 'release', arch: 'x64', conf_drivers_profile: 'all', conf_hide_symbols: '0', fs: 'zfs' });

    fs.writeFileSync(path.join(root, 'osv.config.ts'), config.replace('conf_hide_symbols:', 'conf_hide_symbol:'));
    expect(editorErrors(root)).toEqual([expect.stringMatching(/^osv\.config\.ts: Object literal may only specify known properties, but 'conf_hide_symbol' does not exist in type 'KnobSettings'\. Did you mean to write 'conf_hide_symbols'\?$/)]);
    fs.writeFileSync(path.join(root, 'osv.config.ts'), config.replace("mode: 'release'", "mode: 'relase'"));
    expect(editorErrors(root)).toEqual([expect.stringMatching(/^osv\.config\.ts: Type '"relase"' is not assignable to type '"release" \| "debug"/)]);
  });

  it('keeps an existing config (--force rewrites it) and an existing tsconfig.json, saying what to add', () => {
    const root = copyExample();
    fs.writeFileSync(path.join(root, 'osv.config.ts'), "import { defineConfig } from 'osvd';\nexport default defineConfig({ knobs: { conf_drivers_profile: 'base' } });\n");
    fs.writeFileSync(path.join(root, 'tsconfig.json'), '{ "compilerOptions": { "strict": true } }\n');
    const r = osvd(root, ['init']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`osvd: kept ${path.join(root, 'osv.config.ts')} (--force rewrites it)`);
    expect(r.stdout).toContain(`add to its compilerOptions: "paths": { "osvd": [${JSON.stringify(path.join(REPO, 'dist/osv/config.d.ts'))}] }`);
    expect(r.stdout).toContain('knobs: conf_drivers_profile=base');
    expect(fs.readFileSync(path.join(root, 'tsconfig.json'), 'utf8')).toBe('{ "compilerOptions": { "strict": true } }\n');
    expect(osvd(root, ['init', '--force']).stdout).toContain(`osvd: wrote ${path.join(root, 'osv.config.ts')}`);
    expect(fs.readFileSync(path.join(root, 'osv.config.ts'), 'utf8')).toContain("conf_drivers_profile: 'all',");
  });

  it("names the filesystems a tree's Makefile chooses between, zfs first as ./scripts/build", () => {
    const root = copyExample();
    // Only the text is looked at: the example's own `fs` variable is a list of objects.
    fs.appendFileSync(path.join(root, 'Makefile'), '\nifeq ($(fs),zfs)\nendif\nifeq ($(fs),ext)\nendif\n');
    fs.writeFileSync(path.join(root, 'tsconfig.json'), '{}\n');
    expect(osvd(root, ['init']).code).toBe(0);
    const config = fs.readFileSync(path.join(root, 'osv.config.ts'), 'utf8');
    expect(config).toContain("    // zfs builds libsolaris.so, as ./scripts/build does; rofs, virtiofs and ext need no ZFS\n    fs: 'zfs',\n");
  });

  it('outside a tree with a Makefile, says so', () => {
    const root = copyExample();
    fs.rmSync(path.join(root, 'Makefile'));
    const r = osvd(root, ['init']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/no Makefile in/);
    expect(fs.existsSync(path.join(root, 'osv.config.ts'))).toBe(false);
  });
});
