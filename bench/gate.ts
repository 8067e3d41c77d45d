import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Compilers that wait at a gate: a folder to put first on PATH whose `gcc` and `g++` note their pid
 * and, for a compile (`-c`), wait until the gate is opened before running the real compiler. A build
 * through them has compilers running for as long as the caller needs, without timing: the torture
 * and the tests kill osvd, or start a second build, while compiles are held there.
 */
export interface Gate {
  /** A PATH with the gated compilers first. */
  readonly path: string;
  /** Pids of the compiles that reached the gate. */
  started(): number[];
  open(): void;
  /** Remove the gate's folder (open it first: compiles still held would wait for ever). */
  remove(): void;
}

export function gatedCompilers(): Gate {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-gate-'));
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const startedFile = path.join(dir, 'started');
  const openFile = path.join(dir, 'open');
  for (const cc of ['gcc', 'g++']) {
    const real = spawnSync('sh', ['-c', `command -v ${cc}`], { encoding: 'utf8' }).stdout.trim();
    fs.writeFileSync(
      path.join(bin, cc),
      `#!/bin/sh\ncase " $* " in *" -c "*) echo $$ >> '${startedFile}'; while [ ! -e '${openFile}' ]; do sleep 0.02; done;; esac\nexec '${real}' "$@"\n`,
      { mode: 0o755 },
    );
  }
  return {
    path: `${bin}:${process.env.PATH}`,
    started: () => (fs.existsSync(startedFile) ? fs.readFileSync(startedFile, 'utf8').split('\n').filter(Boolean).map(Number) : []),
    open: () => fs.writeFileSync(openFile, ''),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
