import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO, copyExample, removeCopies } from './helpers.js';

/**
 * A build folder osvd may not write (made by a build run as root, then used by its user; or simply
 * without write permission): `osvd build` and `osvd status` say so, naming the folder and its owner,
 * and exit 2. Before 2026-12-04: a Node stack, exit 70. As root (the CI), osvd runs as `nobody` on a
 * build folder root made; as another user, on a build folder without write permission.
 */
afterAll(removeCopies);

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;

function osvdAs(root: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const osvd = [process.execPath, path.join(REPO, 'bin/osvd.js'), ...args, '--root', root];
  const argv = asRoot ? ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...osvd] : osvd;
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd: root, encoding: 'utf8', env: { ...process.env, HOME: root, OSVD_LOG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('a state folder osvd may not write', () => {
  it('osvd build and osvd status name it and its owner, exit 2, and write nothing', () => {
    const root = copyExample();
    const build = path.join(root, 'build');
    fs.mkdirSync(build);
    if (asRoot) {
      // nobody reads the tree and may write nothing in it (the copy's own folder is private).
      for (const p of [root, ...fs.readdirSync(root, { recursive: true, encoding: 'utf8' }).map((f) => path.join(root, f))]) {
        const st = fs.statSync(p);
        fs.chmodSync(p, st.mode | (st.isDirectory() ? 0o555 : 0o444));
      }
    } else {
      fs.chmodSync(build, 0o555);
    }
    const r = osvdAs(root, ['build', '--json']);
    expect(r.code).toBe(2);
    const error = JSON.parse(r.stdout.trim()).error as { code: string; message: string; file: string; field: string; hint: string };
    expect(error).toMatchObject({ code: 'STATE_DIR', message: 'cannot write in the state folder: permission denied (EACCES)', file: path.join(build, '.osvd'), field: 'stateDir' });
    expect(error.hint).toBe(
      asRoot
        ? `${build} belongs to root (uid 0), not to you (uid ${NOBODY}): made by a build run as that user? chown -R it back (sudo chown -R nobody ${build}), or set stateDir in osv.config.ts to a folder you can write`
        : `check the permissions of ${build} (ls -ld), or set stateDir in osv.config.ts to a folder you can write`,
    );
    const s = osvdAs(root, ['status']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/^osvd: .*\/build\/\.osvd: stateDir: cannot write in the state folder: permission denied \(EACCES\)\n  hint: /);
    expect(fs.readdirSync(build)).toEqual([]);
    fs.chmodSync(build, 0o755);
  });
});
