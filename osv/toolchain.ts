import { spawnSync } from 'node:child_process';
import type { Action } from '../graph/action.js';
import { programOf, toolKind } from './recipes.js';
import { shellWords } from './shellWords.js';

/**
 * The identity of the compilers and linkers an action runs, for keys shared between machines: an
 * object compiled by another gcc is not this machine's object, even when the headers it read (the
 * trace's dependencies) are the same files. A tool's identity is what it answers to `--version`
 * (for Debian's gcc: `g++ (Debian 12.2.0-14+deb12u1) 12.2.0`); each program is asked once.
 */
export class Toolchain {
  private readonly versions = new Map<string, string>();

  /** The tools of `action` with their versions, or '' when it runs none. */
  of(action: Action): string {
    const out: string[] = [];
    for (const command of action.commands) {
      const p = programOf(shellWords(command));
      if (p && toolKind(p.program)) out.push(`${p.program}=${this.version(p.program, action.env.PATH)}`);
    }
    return out.join('\n');
  }

  private version(program: string, searchPath: string | undefined): string {
    const memo = `${program}\0${searchPath ?? ''}`;
    let v = this.versions.get(memo);
    if (v === undefined) {
      const r = spawnSync(program, ['--version'], { encoding: 'utf8', timeout: 10_000, env: { PATH: searchPath ?? process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' } });
      v = r.status === 0 ? r.stdout.split('\n')[0]!.trim() : `unknown (${r.error?.message ?? `exit ${r.status}`})`;
      this.versions.set(memo, v);
    }
    return v;
  }
}
