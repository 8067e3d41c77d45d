import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { environmentDifferences, findOnPath, programsOf } from '../daemon/clientEnv.js';
import type { Action } from '../graph/action.js';
import { BuildGraph } from '../graph/graph.js';
import { OUT, appendTo, copyExample, osvd, osvdEnv, ranOf, removeCopies, startDaemon, stopDaemons, type BuildJson } from './helpers.js';

/**
 * A daemon builds with the environment it was started with. A client whose shell would build
 * differently (another g++ first on PATH, a wrapper variable) is refused with what differs; one whose
 * PATH finds the same programs builds through the daemon.
 */
const dirs: string[] = [];
afterEach(() => stopDaemons());
afterAll(() => {
  removeCopies();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function action(id: string, command: string): Action {
  return { id, kind: 'other', commands: [command], cwd: '.', env: {}, keyEnv: {}, inputs: [], orderAfter: [], outputs: [id] };
}

/** A folder holding executable files of these names (shell scripts that run the real program). */
function binFolder(...names: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-bin-'));
  dirs.push(dir);
  for (const n of names) fs.writeFileSync(path.join(dir, n), `#!/bin/sh\nexec /usr/bin/${n} "$@"\n`, { mode: 0o755 });
  return dir;
}

describe("a client's environment", () => {
  it('the programs a graph names: command words after operators, keywords and assignments; not files, arguments or comments', () => {
    const graph = new BuildGraph([
      action('a', 'mkdir -p out && CC=gcc g++ -c a.cc -o out/a.o 2> err.txt | tee log; ./scripts/gen > x.h'),
      action('b', 'if test -f x; then objcopy -O binary a b; fi; (cd out && ld -r a.o) # strip later'),
      action('c', 'for f in a b; do nm "$f"; done < list'),
    ]);
    expect(programsOf(graph)).toEqual(['as', 'cd', 'g++', 'ld', 'make', 'mkdir', 'nm', 'objcopy', 'tee', 'test']);
  });

  it('differs where PATH finds another program or a build variable has another value; not for folders that add nothing, nor LANG or TMPDIR', () => {
    const alt = binFolder('g++');
    const empty = binFolder();
    const daemonEnv = { PATH: '/usr/bin:/bin', LANG: 'C', SOURCE_DATE_EPOCH: '1' };
    const programs = ['g++', 'ld', 'no-such-program-here'];
    expect(environmentDifferences(daemonEnv, { PATH: `/usr/bin:/bin:${empty}`, LANG: 'de_DE.UTF-8', TMPDIR: '/var/tmp', SOURCE_DATE_EPOCH: '1' }, programs, '/')).toEqual([]);
    expect(environmentDifferences(daemonEnv, { PATH: `${alt}:/usr/bin:/bin`, SOURCE_DATE_EPOCH: '2', CCACHE_DISABLE: '1' }, programs, '/')).toEqual([
      "CCACHE_DISABLE is '1' here, unset for the daemon",
      "SOURCE_DATE_EPOCH is '2' here, '1' for the daemon",
      `g++ is ${alt}/g++ here, /usr/bin/g++ for the daemon`,
    ]);
    expect(environmentDifferences(daemonEnv, { PATH: empty, SOURCE_DATE_EPOCH: '1' }, programs, '/')).toEqual([
      'g++ is not on PATH here, /usr/bin/g++ for the daemon',
      'ld is not on PATH here, /usr/bin/ld for the daemon',
    ]);
  });

  it('through the daemon: another g++ first on PATH or CCACHE_DISABLE is refused and runs nothing; extra folders build', () => {
    const root = copyExample();
    expect(osvd(root, ['build', '--quiet', '--no-daemon']).code).toBe(0);
    const pid = startDaemon(root);
    appendTo(root, 'core/sched.cc', 'int osvd_env_edit;\n');
    const alt = binFolder('g++');
    const refused = osvdEnv(root, ['build', '--json'], { PATH: `${alt}:${process.env.PATH}` });
    const daemons = findOnPath('g++', process.env.PATH!, root)!.found;
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stdout.trim().split('\n').at(-1)!).error).toEqual({
      code: 'ENV_DIFFERS',
      message: `this shell would build differently from the daemon (pid ${pid}), which keeps the environment it started with: g++ is ${alt}/g++ here, ${daemons} for the daemon`,
      field: 'environment',
      hint: "to build with this shell's: osvd stop && osvd start, here; or osvd build --no-daemon",
    });
    const plain = osvdEnv(root, ['build', '--quiet'], { CCACHE_DISABLE: '1' });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain("CCACHE_DISABLE is '1' here, unset for the daemon");
    expect(osvdEnv(root, ['build', '--detach'], { CCACHE_DISABLE: '1' }).code).toBe(2);
    // Nothing ran: the next build, from a shell like the daemon's plus a folder of nothing it runs, compiles the edit.
    const built = osvdEnv(root, ['build', '--json'], { PATH: `${process.env.PATH}:${binFolder()}` });
    expect(built.code).toBe(0);
    const report = JSON.parse(built.stdout.trim().split('\n').at(-1)!) as BuildJson;
    expect(ranOf(report, 'compile')).toEqual([`${OUT}/core/sched.o`]);
  });
});
