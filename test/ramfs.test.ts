import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { build, copyExample, KERNEL_CHAIN, OUT, ranOf, removeCopies } from './helpers.js';

/**
 * fs=ramfs puts the image's own manifest into the kernel's bootfs (OSv's scripts/build: `$OUT/usr.manifest`,
 * written by scripts/module.py), and that manifest names `/etc/fstab: fstab`, a file of the build folder
 * that scripts/build copies from static/etc/fstab before it runs make. osvd makes that copy itself, as an
 * input of bootfs.bin, so that the kernel has the tree's fstab and follows an edit of it.
 */
afterAll(removeCopies);

const FSTAB = 'static/etc/fstab';

describe('fs=ramfs', () => {
  it("builds a kernel whose bootfs holds the tree's fstab, and follows an edit of it", () => {
    const root = copyExample();
    fs.mkdirSync(path.join(root, OUT), { recursive: true });
    fs.writeFileSync(path.join(root, OUT, 'usr.manifest'), '[manifest]\n/libenviron.so: libenviron.so\n/etc/fstab: fstab\n');
    const bootfs = (): string => fs.readFileSync(path.join(root, OUT, 'bootfs.bin'), 'latin1');
    const first = build(root, 'fs=ramfs');
    expect(first.ok, JSON.stringify(first.failed)).toBe(true);
    expect(bootfs()).toContain(fs.readFileSync(path.join(root, FSTAB), 'utf8'));
    expect(ranOf(build(root, 'fs=ramfs'))).toEqual([]);

    fs.appendFileSync(path.join(root, FSTAB), 'none         /tmp       ramfs     defaults 0 0\n');
    const edited = build(root, 'fs=ramfs');
    expect(edited.ok, JSON.stringify(edited.failed)).toBe(true);
    expect(ranOf(edited).sort()).toEqual([`${OUT}/fstab`, `${OUT}/bootfs.bin`, `${OUT}/bootfs.o`, ...KERNEL_CHAIN].sort());
    expect(bootfs()).toContain('/tmp       ramfs');
    expect(ranOf(build(root, 'fs=ramfs'))).toEqual([]);
  });
});
