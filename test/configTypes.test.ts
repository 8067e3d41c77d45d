import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * Type-check files as a user's editor checks osv.config.ts (`osvd` is osv/config.ts) and as tsc checks
 * osvd's own code: the errors of each file, by name.
 */
function typeErrors(files: Record<string, string>): Record<string, string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-types-'));
  try {
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
    const program = ts.createProgram(
      Object.keys(files).map((name) => path.join(dir, name)),
      {
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        moduleResolution: ts.ModuleResolutionKind.Bundler,
        paths: { osvd: [path.join(REPO, 'osv/config.ts')] },
        types: ['node'],
        typeRoots: [path.join(REPO, 'node_modules/@types')],
      },
    );
    const errors: Record<string, string[]> = Object.fromEntries(Object.keys(files).map((name) => [name, []]));
    for (const d of ts.getPreEmitDiagnostics(program)) {
      const name = d.file ? path.relative(dir, d.file.fileName) : '(no file)';
      (errors[name] ??= []).push(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    }
    return errors;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('typed knobs', () => {
  it("a misspelt knob is a compile error naming it, in a user's config and inside osvd; the forms users write compile", () => {
    const knobs = JSON.stringify(path.join(REPO, 'osv/knobs.js'));
    const errors = typeErrors({
      'good.ts': [
        "import { defineConfig } from 'osvd';",
        "const profile: string = 'virtio-mmio';",
        'export const a = defineConfig({ knobs: { mode: "release", arch: "x64", conf_drivers_profile: "all", conf_hide_symbols: 0 } });',
        'export const b = defineConfig({ knobs: { conf_drivers_profile: "virtio-pci", conf_hide_symbols: 1 }, store: { maxBytes: 2 * 1024 ** 3 } });',
        'export const c = defineConfig({ knobs: { conf_drivers_profile: profile, conf_hide_symbols: false }, jobs: 2 });',
        "export const e = defineConfig({ cache: { url: 'http://cache.lan:9090', mode: 'readwrite', timeoutMs: 2000 } });",
        'export const d = defineConfig({ knobs: { drivers_profile: "all", conf_hide_symbols: "1", app: "a.so,b.so", app_extra_symbols: "f", fs: "zfs", conf_zfs: "bsd", conf_version_script: "" } });',
        `import { hidesSymbols, type Knobs } from ${knobs};`,
        'export const hidden = (k: Knobs): boolean => hidesSymbols(k) && k.mode === "debug";',
        '',
      ].join('\n'),
      'misspelt.ts': "import { defineConfig } from 'osvd';\nexport default defineConfig({ knobs: { conf_hide_symbol: 1 } });\n",
      'cache.ts': "import { defineConfig } from 'osvd';\nexport default defineConfig({ cache: { url: 'http://cache.lan', mode: 'write' } });\n",
      'inside.ts': [
        `import type { Knobs } from ${knobs};`,
        'export const a = (k: Knobs): boolean => k.conf_hide_symbol === "1";',
        'export const b = (k: Knobs): boolean => k.mode === "relase";',
        '',
      ].join('\n'),
    });
    expect(errors).toEqual({
      'good.ts': [],
      'misspelt.ts': [expect.stringContaining("'conf_hide_symbol' does not exist in type 'KnobSettings'")],
      'cache.ts': [expect.stringContaining(`Type '"write"' is not assignable to type '"read" | "readwrite"'`)],
      'inside.ts': [
        expect.stringContaining("Property 'conf_hide_symbol' does not exist on type 'Knobs'"),
        expect.stringContaining(`This comparison appears to be unintentional because the types '"release" | "debug"' and '"relase"' have no overlap`),
      ],
    });
  });
});
