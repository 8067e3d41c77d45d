import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ignoredFolders, isUnder } from '../daemon/ignore.js';
import { build, copyExample, OUT, osvd, removeCopies, startDaemon, status, stopDaemons, waitFor, writeConfig, KERNEL_CHAIN } from './helpers.js';

/** The daemon's tree watcher on copies of examples/mini-osv: real inotify, real files. */
afterEach(stopDaemons);
afterAll(removeCopies);

/** Inotify watches the process holds, from /proc (each watch is one `inotify wd:` line of its descriptor's fdinfo). */
function inotifyWatches(pid: number): number {
  let watches = 0;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    let link: string;
    try {
      link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
    } catch {
      continue; // closed meanwhile
    }
    if (link !== 'anon_inode:inotify') continue;
    const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    watches += info.split('\n').filter((l) => l.startsWith('inotify wd:')).length;
  }
  return watches;
}

/** Folders and files under `dir`, not descending into the folders `skip` names (relative paths). */
function countTree(dir: string, skip: (rel: string) => boolean = () => false): { folders: number; files: number } {
  const counts = { folders: 1, files: 0 };
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip(r)) continue;
      if (e.isDirectory()) {
        counts.folders++;
        walk(r);
      } else counts.files++;
    }
  };
  walk('');
  return counts;
}

describe('the tree watcher', () => {
  it('puts one inotify watch on each folder, not on each file', async () => {
    const root = copyExample();
    // Many files in few folders, as in OSv (where files outnumber folders about ten to one).
    for (let d = 0; d < 4; d++) {
      fs.mkdirSync(path.join(root, `docs/many/${d}`), { recursive: true });
      for (let i = 0; i < 300; i++) fs.writeFileSync(path.join(root, `docs/many/${d}/note-${i}.txt`), `${d} ${i}\n`);
    }
    expect(build(root).ok).toBe(true);
    const pid = startDaemon(root);
    expect(status(root).daemon.watcher).toMatchObject({ mode: 'events', healthy: true });
    const tree = countTree(root, (rel) => rel === 'build' || rel === '.git' || rel === 'node_modules');
    // The output watcher's: one per folder of outputs at most.
    const outputs = countTree(path.join(root, OUT), (rel) => rel === '.osvd');
    expect(tree.files).toBeGreaterThan(5 * tree.folders);
    const watches = inotifyWatches(pid);
    expect(watches).toBeGreaterThanOrEqual(tree.folders);
    expect(watches).toBeLessThanOrEqual(tree.folders + outputs.folders + 3);
    expect(watches).toBeLessThan(tree.files / 2);

    // Folders made and removed later are watched and unwatched.
    fs.mkdirSync(path.join(root, 'docs/later/a/b'), { recursive: true });
    fs.writeFileSync(path.join(root, 'docs/later/a/b/x.txt'), 'x\n');
    await waitFor('the new folders to be watched', () => inotifyWatches(pid) === watches + 3);
    fs.rmSync(path.join(root, 'docs/many'), { recursive: true });
    await waitFor('the removed folders to be unwatched', () => inotifyWatches(pid) === watches + 3 - 5);
  });

  it('sees a header written into a nested folder made at once, and edits to it later', async () => {
    const root = copyExample();
    writeConfig(root, { autoBuild: true, quietMs: 300 });
    expect(build(root).ok).toBe(true);
    startDaemon(root);
    let builds = status(root).builds;
    const settled = (after: number): Promise<ReturnType<typeof status>> =>
      waitFor('the automatic build', () => {
        const s = status(root);
        return s.builds > after && !s.building && s.dirty.run + s.dirty.restore + s.dirty.pending === 0 ? s : undefined;
      });

    fs.mkdirSync(path.join(root, 'include/deep/er/still'), { recursive: true });
    fs.writeFileSync(path.join(root, 'include/deep/er/still/value.h'), '#define OSVD_DEEP 1\n');
    fs.appendFileSync(path.join(root, 'core/mempool.cc'), '\n#include "deep/er/still/value.h"\nint osvd_deep() { return OSVD_DEEP; }\n');
    let s = await settled(builds);
    expect(s.lastBuild!.ok).toBe(true);
    expect(s.lastBuild!.ranOutputs).toContain(`${OUT}/core/mempool.o`);
    builds = s.builds;

    fs.writeFileSync(path.join(root, 'include/deep/er/still/value.h'), '#define OSVD_DEEP 2\n');
    s = await settled(builds);
    expect([...(s.lastBuild!.ranOutputs ?? [])].sort()).toEqual([`${OUT}/core/mempool.o`, ...KERNEL_CHAIN].sort());
  });

  it('notices a folder of sources moved out of the tree, and moved back', async () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    startDaemon(root);
    expect(status(root).dirty.run).toBe(0);
    const tus = fs.readdirSync(path.join(root, 'fs')).filter((f) => f.endsWith('.cc'));
    expect(tus.length).toBeGreaterThanOrEqual(3);

    // Moved away, the folder's files give no events of their own: only its name leaves its parent.
    const away = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-away-'));
    fs.renameSync(path.join(root, 'fs'), path.join(away, 'fs'));
    try {
      await waitFor('the moved sources to be stale', () => status(root).dirty.run >= tus.length);
      // Every moved TU fails (--keep-going: a build stops at the first failure by default).
      const broken = JSON.parse(osvd(root, ['build', '--json', '--keep-going']).stdout) as ReturnType<typeof build>;
      expect(broken.ok).toBe(false);
      expect(broken.failed.map((f) => f.output)).toEqual(expect.arrayContaining(tus.map((t) => `${OUT}/fs/${t.replace(/\.cc$/, '.o')}`)));
    } finally {
      fs.renameSync(path.join(away, 'fs'), path.join(root, 'fs'));
      fs.rmSync(away, { recursive: true, force: true });
    }
    // Moved back in: every file in it is seen again (an edit in it too).
    fs.appendFileSync(path.join(root, 'fs/vfs.cc'), '\nint osvd_moved_back() { return 1; }\n');
    const fixed = build(root);
    expect(fixed.ok).toBe(true);
    expect(fixed.ran.map((r) => r.output)).toContain(`${OUT}/fs/vfs.o`);
    expect(build(root).ran).toEqual([]);
  });
});

describe('the ignore list', () => {
  it('reads ./x, x/, x and the absolute path alike, and drops the root and paths outside it', () => {
    expect(ignoredFolders('/r', ['docs/', './x', '/r/y/z/', 'build', '../out', '.', '/elsewhere'])).toEqual(['docs', 'x', 'y/z', 'build']);
  });

  it('matches a folder and what lies under it, not a sibling that shares its prefix', () => {
    const folders = ignoredFolders('/r', ['docs/']);
    expect(['docs', 'docs/a.md', 'docs/sub/b', 'docsx/c', 'doc'].filter((p) => isUnder(p, folders))).toEqual(['docs', 'docs/a.md', 'docs/sub/b']);
  });
});
