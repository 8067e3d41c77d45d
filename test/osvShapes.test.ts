import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, copyExample, kernelObjects, make, osvd, OUT, ranOf, removeCopies, status } from './helpers.js';

/**
 * The constructs of OSv's real Makefile that the example tree does not have, in a tree written here:
 * a costly `$(shell ...)` variable (CXX_INCLUDES), a recipe that reads a build output while make
 * expands it (`kernel_size`, the stripped kernel's size in vmlinuz-boot32.o), the Kconfig step that
 * writes kernel_conf.mk and the kernel_config_*.h headers, and compile_commands.json.
 */
const MAKEFILE = `
# As OSv's: every file is secondary, and the kernel link waits for a phony stage1 through a file.
.SECONDARY:
mode = release
arch = x64
out = build/$(mode).$(arch)
CC = gcc
conf_drivers_profile ?= all
include conf/profiles/$(arch)/$(conf_drivers_profile).mk

ifeq (,$(wildcard $(out)/gen/config/kernel_conf.mk))
    $(shell make -f conf/Makefile config >/dev/null)
endif
include $(out)/gen/config/kernel_conf.mk

# Costly on every expansion, as OSv's is: it runs a command each time (and counts the runs).
CXX_INCLUDES = $(shell echo run >> expansions.log; echo -DCXXI=1)
kernel_size = $(shell stat --printf %s $(out)/loader-stripped.elf)

objects = $(out)/a.o $(out)/b.o $(out)/c.o $(out)/d.o $(out)/e.o

$(out)/%.o: %.c $(out)/gen/include/osv/kernel_config_hide_symbols.h
\tmkdir -p $(dir $@)
\t$(CC) -MD -MT $@ -MP -I$(out)/gen/include $(CXX_INCLUDES) -O2 -c -o $@ $<

# gcc does not preprocess .s: -MD writes no depfile.
$(out)/%.o: %.s
	mkdir -p $(dir $@)
	$(CC) -MD -MT $@ -MP -c -o $@ $<

stage1: $(objects)
.PHONY: stage1

$(out)/loader_options.ld: stage1
\techo 'OPTIONS = 1;' > $@

$(out)/loader.elf: $(objects) $(out)/loader_options.ld
\tld -r -o $@ $(filter %.o,$^)
\tcp $@ $(out)/osv.syms

$(out)/loader-stripped.elf: $(out)/loader.elf
\tstrip $< -o $@

$(out)/boot32.o: ASFLAGS += -DOSV_KERNEL_SIZE=$(kernel_size)
$(out)/boot32.o: boot32.S $(out)/loader-stripped.elf
\t$(CC) $(ASFLAGS) -c -o $@ boot32.S

$(out)/lzloader.elf: $(out)/loader-stripped.elf
\tcp $< $@

$(out)/vmlinuz.bin: $(out)/boot32.o $(out)/loader-stripped.elf
\tcat $^ > $@
`;

const CONF_MAKEFILE = `
mode = release
arch = x64
out = build/$(mode).$(arch)
config:
\tmkdir -p $(out)/gen/config $(out)/gen/include/osv
\ttest -f $(out)/.config || cp conf/kconfig/main $(out)/.config
\tsed 's/^/conf_/' $(out)/.config > $(out)/gen/config/kernel_conf.mk
\twhile IFS== read -r k v; do f=$(out)/gen/include/osv/kernel_config_$$k.h; printf '#define CONF_%s %s\\n' $$k $$v > $$f.tmp; cmp -s $$f.tmp $$f && rm $$f.tmp || mv $$f.tmp $$f; done < $(out)/.config
`;

function writeTree(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-shapes-'));
  const put = (rel: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  put('Makefile', MAKEFILE);
  put('conf/Makefile', CONF_MAKEFILE);
  put('conf/kconfig/main', 'hide_symbols=0\nlogger_debug=0\n');
  put('conf/profiles/x64/all.mk', 'export conf_drivers_virtio?=1\n');
  put('conf/profiles/x64/base.mk', 'export conf_drivers_virtio?=0\n');
  put('a.c', '#include <osv/kernel_config_logger_debug.h>\nint a(void) { return CONF_logger_debug + CXXI; }\n');
  put('b.c', 'int b(void) { return 2; }\n');
  put('c.c', 'int c(void) { return 3; }\n');
  put('d.c', 'static char big[64] = "d"; char *d(void) { return big; }\n');
  put('e.s', '.text\n.globl e\ne: ret\n');
  put('boot32.S', '.data\n.globl kernel_size\nkernel_size: .long OSV_KERNEL_SIZE\n');
  return root;
}

const trees: string[] = [];
afterAll(() => {
  removeCopies();
  for (const t of trees.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});

/** A tree of writeTree() whose Makefile has `from` replaced by `to`. */
function treeWithMakefile(from: string, to: string): string {
  const root = writeTree();
  trees.push(root);
  const makefile = path.join(root, 'Makefile');
  const before = fs.readFileSync(makefile, 'utf8');
  const after = before.replace(from, to);
  expect(after).not.toBe(before);
  fs.writeFileSync(makefile, after);
  return root;
}

describe('a recipe that runs make itself', () => {
  it('a make without goals builds its own default goal: the environment osvd runs recipes with carries no rule of osvd', () => {
    // osvd reads the environment make gives recipes from a make run with a rule of its own (--eval),
    // which make passes on in MAKEFLAGS; a sub-make without goals took that rule as its default goal.
    const root = treeWithMakefile("$(out)/loader_options.ld: stage1\n\techo 'OPTIONS = 1;' > $@", '$(out)/loader_options.ld: stage1\n\tmake -s -C options OUT=$(CURDIR)/$@');
    fs.mkdirSync(path.join(root, 'options'));
    fs.writeFileSync(path.join(root, 'options/Makefile'), "options:\n\techo 'OPTIONS = 1;' > $(OUT)\n");
    const r = build(root);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    expect(ranOf(r)).toContain(`${OUT}/loader_options.ld`);
    expect(fs.readFileSync(path.join(root, OUT, 'loader_options.ld'), 'utf8')).toBe('OPTIONS = 1;\n');
  });
});

describe('a recipe make must expand late, with a depfile', () => {
  it('has the same command whether or not its depfile existed when the build was imported: a new import runs nothing', () => {
    // boot32.o reads the stripped kernel's size when make expands its recipe (OSv's vmlinuz-boot32.o),
    // so osvd runs it through make; with -MD its depfile names its source, a prerequisite of its rule too.
    const root = treeWithMakefile('\t$(CC) $(ASFLAGS) -c -o $@ boot32.S', '\t$(CC) -MD -MT $@ -MP $(ASFLAGS) -c -o $@ boot32.S');
    // Imported on a tree without depfiles, then built.
    const cold = build(root);
    expect(cold.ok, JSON.stringify(cold.failed)).toBe(true);
    expect(ranOf(cold)).toContain(`${OUT}/boot32.o`);
    expect(fs.existsSync(path.join(root, OUT, 'boot32.d'))).toBe(true);
    // A comment in the Makefile: imported again, now with every depfile there; nothing to do.
    fs.appendFileSync(path.join(root, 'Makefile'), '# edited\n');
    const again = build(root);
    expect(again.ok).toBe(true);
    expect(again.import?.cached).toBe(false);
    expect(ranOf(again)).toEqual([]);
  });
});

describe('OSv Makefile constructs', () => {
  let root: string;
  const file = (rel: string): Buffer => fs.readFileSync(path.join(root, rel));
  beforeAll(() => {
    root = writeTree();
    trees.push(root);
  });

  it('expands CXX_INCLUDES once per import, and builds the kernel chain as make does, byte for byte', () => {
    const r = build(root);
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    // The environment run expands it once; the dry run gets the value and runs nothing.
    expect(fs.readFileSync(path.join(root, 'expansions.log'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(ranOf(r)).toEqual(expect.arrayContaining([`${OUT}/boot32.o`, `${OUT}/vmlinuz.bin`, `${OUT}/lzloader.elf`, `${OUT}/a.o`]));
    const mine = new Map(['boot32.o', 'vmlinuz.bin', 'a.o', 'loader.elf'].map((f) => [f, file(`${OUT}/${f}`)]));
    // make, in the same folder, from scratch: the same bytes.
    fs.rmSync(path.join(root, 'build'), { recursive: true });
    const m = make(root, [`${OUT}/vmlinuz.bin`, `${OUT}/lzloader.elf`]);
    expect(m.code, m.stderr).toBe(0);
    for (const [f, bytes] of mine) expect(file(`${OUT}/${f}`).equals(bytes), f).toBe(true);
  });

  it('a recipe that reads a build output when make expands it sees the output of this build', () => {
    expect(build(root).ok).toBe(true);
    // Nothing left to do, the .s file included (it has no depfile).
    expect(ranOf(build(root))).toEqual([]);
    const size = (): number => fs.statSync(path.join(root, OUT, 'loader-stripped.elf')).size;
    const embedded = (): number => {
      const out = path.join(root, 'data.bin');
      const r = spawnSync('objcopy', ['-O', 'binary', '-j', '.data', path.join(root, OUT, 'boot32.o'), out], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return fs.readFileSync(out).readUInt32LE(0);
    };
    expect(embedded()).toBe(size());
    // Imported again while osv.syms (which the link writes) exists: it must not become an input.
    fs.appendFileSync(path.join(root, 'Makefile'), '# edited\n');
    fs.writeFileSync(path.join(root, 'd.c'), 'static char big[4096] = "d"; char *d(void) { return big; }\n');
    const r = build(root);
    expect(r.ok).toBe(true);
    expect(ranOf(r, 'compile')).toEqual([`${OUT}/boot32.o`, `${OUT}/d.o`]);
    expect(embedded()).toBe(size());
    expect(ranOf(build(root))).toEqual([]);
  });

  it('make, running that recipe for a knob that changes only its command, remakes nothing else', () => {
    // The profile reaches no object here, but it is on make's command line, so boot32.o runs again
    // while the kernel stays as it was (older than boot32.o). Under `.SECONDARY:` make looked through
    // loader-stripped.elf (named by -o) to loader.elf, the phony stage1, and remade every object.
    const objects = ['a.o', 'b.o', 'c.o', 'd.o', 'e.o'].map((o) => path.join(root, OUT, o));
    const written = (): number[] => objects.map((o) => fs.statSync(o).mtimeMs);
    const before = written();
    const r = build(root, 'conf_drivers_profile=base');
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    expect(ranOf(r, 'compile')).toEqual([`${OUT}/boot32.o`]);
    expect(written()).toEqual(before);
    expect(ranOf(build(root, 'conf_drivers_profile=base'))).toEqual([]);
  });

  it('the Kconfig step is an action: a changed option recompiles only its includers', () => {
    const first = build(root);
    expect(ranOf(first)).toEqual([]);
    fs.writeFileSync(path.join(root, 'conf/kconfig/main'), 'hide_symbols=0\nlogger_debug=0\n# a comment\n');
    // The user's .config is kept: a Kconfig edit alone changes no header.
    const same = build(root);
    expect(ranOf(same)).toEqual([`${OUT}/gen/config/kernel_conf.mk`]);
    // A choice made in .config (what `make menuconfig` writes) reaches the headers.
    fs.writeFileSync(path.join(root, OUT, '.config'), 'hide_symbols=0\nlogger_debug=1\n');
    const changed = build(root);
    // a.o reads the header; boot32.o embeds the size of the kernel a.o is linked into.
    expect(ranOf(changed, 'compile')).toEqual([`${OUT}/a.o`, `${OUT}/boot32.o`]);
    expect(file(`${OUT}/gen/include/osv/kernel_config_logger_debug.h`).toString()).toContain('CONF_logger_debug 1');
  });

  it("mode=debug on a tree never configured for it: osvd runs the Kconfig step first, as OSv's scripts/build does", () => {
    // The Makefile's own fallback runs conf/Makefile in a $(shell) that make 4.3 gives no command-line
    // variables: it configures release, and the include of debug's kernel_conf.mk fails.
    const fresh = writeTree();
    trees.push(fresh);
    const debug = build(fresh, 'mode=debug');
    expect(debug.ok, JSON.stringify(debug)).toBe(true);
    expect(fs.existsSync(path.join(fresh, 'build/debug.x64/gen/config/kernel_conf.mk'))).toBe(true);
    expect(fs.existsSync(path.join(fresh, 'build/release.x64'))).toBe(false);
    expect(ranOf(build(fresh, 'mode=debug'))).toEqual([]);
  });

  it('writes compile_commands.json for the knobs in effect, linked from build/', () => {
    const entries = JSON.parse(fs.readFileSync(path.join(root, 'build/compile_commands.json'), 'utf8')) as { file: string; command: string; directory: string }[];
    expect(entries.map((e) => e.file)).toEqual(['a.c', 'b.c', 'c.c', 'd.c', 'e.s']);
    expect(entries[0]!.command).toContain('-DCXXI=1 -O2 -c -o build/release.x64/a.o a.c');
    expect(entries[0]!.directory).toBe(root);
    expect(fs.readlinkSync(path.join(root, 'build/compile_commands.json'))).toBe('release.x64/compile_commands.json');
  });
});

describe('knobs and status on the example tree', () => {
  let root: string;
  beforeAll(() => {
    root = copyExample();
  });

  it("status names the profile's drivers and the objects the kernel links", () => {
    const s = status(root, 'conf_drivers_profile=virtio-mmio') as unknown as { kernel: { kernel: string; objects: number; drivers: string[] } };
    expect(s.kernel.kernel).toBe(`${OUT}/loader.elf`);
    expect(s.kernel.objects).toBe(kernelObjects(root, ['conf_drivers_profile=virtio-mmio']).length);
    expect(s.kernel.drivers).toContain('virtio_blk');
    expect(s.kernel.drivers).not.toContain('ahci');
  });

  it('editing conf/*.mk keeps a knob set live (make falls back to .config defaults)', () => {
    expect(osvd(root, ['set', 'conf_hide_symbols=1']).code).toBe(0);
    expect(build(root).ok).toBe(true);
    fs.appendFileSync(path.join(root, 'conf/profiles/x64/base.mk'), '# edited\n');
    const r = build(root);
    expect(r.ok).toBe(true);
    expect(ranOf(r, 'compile')).toEqual([]);
    const s = status(root) as unknown as { knobs: Record<string, string> };
    expect(s.knobs.conf_hide_symbols).toBe('1');
  });
});
