import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompilerFiles } from '../osv/compilerIdentity.js';

/**
 * The compiler's files (its identity in every compile's key), asked of the real g++ through a driver
 * that logs each time it runs: resolved ahead while make prints (`notice`), they are the files a
 * resolution on demand finds, and asking for them then starts no process.
 */
describe('the files of a compiler, resolved ahead of the recipes that name it', () => {
  let dir: string;
  let log: string;
  let env: Record<string, string>;
  const runs = (): string[] => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);

  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-compiler-files-'));
    log = path.join(dir, 'runs.log');
    fs.mkdirSync(path.join(dir, 'bin'));
    fs.writeFileSync(path.join(dir, 'bin', 'g++'), `#!/bin/sh\necho "$*" >> '${log}'\nexec /usr/bin/g++ "$@"\n`, { mode: 0o755 });
    env = { PATH: `${path.join(dir, 'bin')}:/usr/bin:/bin` };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('a driver noticed in a recipe line is asked once, and `of` then gives what it gives unasked, starting nothing', async () => {
    const onDemand = new CompilerFiles(dir, env).of('g++', '.');
    expect(runs()).toEqual(['-print-prog-name=cc1', '-print-prog-name=cc1plus', '-print-prog-name=as']);
    // Paths of the tree are relative to it, others absolute.
    expect(onDemand[0]).toBe('bin/g++');
    expect(onDemand.some((f) => f.endsWith('/cc1plus'))).toBe(true);
    expect(onDemand.some((f) => f.endsWith('/cc1'))).toBe(true);
    fs.rmSync(log);

    const ahead = new CompilerFiles(dir, env);
    ahead.notice('g++ -std=gnu++17 -c -o build/a.o a.cc');
    ahead.notice('  g++ -c -o build/b.o b.cc');
    ahead.notice('echo g++');
    ahead.notice('cd sub && g++ -c x.cc');
    ahead.notice('');
    await ahead.settled();
    expect(runs().sort()).toEqual(['-print-prog-name=as', '-print-prog-name=cc1', '-print-prog-name=cc1plus']);
    expect(ahead.of('g++', '.')).toEqual(onDemand);
    expect(runs()).toHaveLength(3);
    expect(ahead.all()).toEqual([...onDemand].sort());
  });

  it('a driver that fails for one program still gives the others, ahead as on demand', async () => {
    fs.mkdirSync(path.join(dir, 'failing'));
    fs.writeFileSync(path.join(dir, 'failing', 'g++'), '#!/bin/sh\ncase "$1" in -print-prog-name=cc1) exit 1;; esac\nexec /usr/bin/g++ "$@"\n', { mode: 0o755 });
    const failing = { PATH: `${path.join(dir, 'failing')}:/usr/bin:/bin` };
    const onDemand = new CompilerFiles(dir, failing).of('g++', '.');
    const ahead = new CompilerFiles(dir, failing);
    ahead.notice('g++ -c a.cc');
    await ahead.settled();
    expect(ahead.of('g++', '.')).toEqual(onDemand);
    expect(onDemand.some((f) => f.endsWith('/cc1plus'))).toBe(true);
    expect(onDemand.some((f) => f.endsWith('/cc1'))).toBe(false);
    expect(onDemand.some((f) => /\/(?:x86_64-linux-gnu-)?as$/.test(f))).toBe(true);
  });

  it('a driver not on PATH resolves to no files, ahead or on demand, and a word that is no compiler is not asked', async () => {
    const files = new CompilerFiles(dir, env);
    files.notice('x86_64-nowhere-g++ -c a.cc');
    files.notice('true');
    await files.settled();
    expect(files.of('x86_64-nowhere-g++', '.')).toEqual([]);
    expect(new CompilerFiles(dir, env).of('x86_64-nowhere-g++', '.')).toEqual([]);
    expect(files.all()).toEqual([]);
  });
});
