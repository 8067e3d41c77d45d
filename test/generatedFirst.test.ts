import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { osvd } from './helpers.js';

/**
 * A compile whose rule does not wait for the generated headers (OSv's tools/cpiod/options.o: no
 * `| generated-headers`) still runs after them on a cold build, as make runs it.
 */
const MAKEFILE = `
out = build/release.x64
all: $(out)/prog

$(out)/prog: $(out)/main.o $(out)/tool.o
\tgcc -o $@ $^

$(out)/main.o: main.c | generated-headers
\tmkdir -p $(dir $@)
\tgcc -MD -MT $@ -MP -I$(out)/gen/include -c -o $@ $<

# As OSv's options.o: only its source, although it includes a generated header.
$(out)/tool.o: tool.c
\tmkdir -p $(dir $@)
\tgcc -MD -MT $@ -MP -I$(out)/gen/include -c -o $@ $<

generated-headers: $(out)/gen/include/gen.h
.PHONY: generated-headers

$(out)/gen/include/gen.h: gen.sh
\tmkdir -p $(dir $@)
\tsleep 1; sh gen.sh > $@
`;

const trees: string[] = [];
afterAll(() => {
  for (const t of trees.splice(0)) fs.rmSync(t, { recursive: true, force: true });
});

describe('generated headers on a cold build', () => {
  it('come before a compile make prints after them, although its rule does not wait for them', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-genfirst-'));
    trees.push(root);
    fs.writeFileSync(path.join(root, 'Makefile'), MAKEFILE);
    fs.mkdirSync(path.join(root, 'conf/profiles/x64'), { recursive: true });
    fs.writeFileSync(path.join(root, 'conf/profiles/x64/all.mk'), '');
    fs.writeFileSync(path.join(root, 'gen.sh'), 'echo "#define GEN 7"\n');
    fs.writeFileSync(path.join(root, 'main.c'), '#include <gen.h>\nint tool(void);\nint main(void) { return tool() - GEN; }\n');
    fs.writeFileSync(path.join(root, 'tool.c'), '#include <gen.h>\nint tool(void) { return GEN; }\n');
    // Two jobs: tool.o and the generator are both ready at once.
    const r = osvd(root, ['build', '-j', '2', '--json']);
    const result = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { ok: boolean; failed: unknown[]; ran: { output: string }[] };
    expect(result.failed).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.ran.map((e) => e.output).sort()).toEqual(['build/release.x64/gen/include/gen.h', 'build/release.x64/main.o', 'build/release.x64/prog', 'build/release.x64/tool.o']);
  });
});
