import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OUT, appendTo, build, copyExample, ranOf, removeCopies } from './helpers.js';

/**
 * A tree whose files carry modification times ahead of the clock (unpacked from a tarball made on a
 * machine whose clock is ahead, a shared folder, `touch -d`): make warns of clock skew and rebuilds
 * at every run until the clock passes them. osvd's race checks and racy hashes look at the change
 * time, which only the kernel's clock sets: the tree builds once, like any other.
 */
afterAll(removeCopies);

function dateAhead(dir: string, when: Date): void {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) dateAhead(p, when);
    fs.utimesSync(p, when, when);
  }
}

describe('files dated ahead of the clock', () => {
  it('build once; the next build runs nothing and keeps the import; an edit compiles one TU', () => {
    const root = copyExample();
    const hourAhead = new Date(Date.now() + 3600_000);
    dateAhead(root, hourAhead);
    const first = build(root);
    expect(first.ok).toBe(true);
    expect(first.ran.length).toBe(74);

    const second = build(root);
    expect(second.ran).toEqual([]);
    expect(second.upToDate).toBe(74);
    expect(second.import?.cached).toBe(true);

    // A comment at the end moves no line: the object is the same and nothing after it runs.
    appendTo(root, 'core/sched.cc', '// an edit\n');
    fs.utimesSync(path.join(root, 'core/sched.cc'), hourAhead, hourAhead);
    const edited = build(root);
    expect(ranOf(edited)).toEqual([`${OUT}/core/sched.o`]);
    expect(build(root).ran).toEqual([]);
  });
});
