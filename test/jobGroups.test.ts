import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stopGroups, stopGroupsSync, type JobGroup } from '../base/jobGroups.js';
import { isAlive, startTime } from '../base/process.js';

/**
 * How a build's commands are stopped (Ctrl-C, a client gone, `osvd stop`, what a killed osvd left
 * running): SIGTERM to each process group first, so that compilers remove their temporary files,
 * then SIGKILL for what is still there after the grace. Real process groups (`sh` started detached).
 */
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-groups-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A shell leading a process group of its own, running `script`; resolves once it has set its traps. */
async function group(script: string): Promise<JobGroup & { pid: number }> {
  const ready = path.join(dir, `ready-${Math.random().toString(36).slice(2)}`);
  const child = spawn('sh', ['-c', `${script}; : > '${ready}'; sleep 60 & wait; sleep 60`], { detached: true, stdio: 'ignore' });
  child.unref();
  for (let i = 0; i < 500 && !fs.existsSync(ready); i++) await new Promise((r) => setTimeout(r, 10));
  expect(fs.existsSync(ready)).toBe(true);
  return { pid: child.pid!, pgid: child.pid!, startTime: startTime(child.pid!) ?? '' };
}

describe('stopping process groups', () => {
  it('SIGTERM first: a command that ends on it ends that way (its trap runs), no SIGKILL needed', async () => {
    const said = path.join(dir, 'said');
    const g = await group(`trap 'echo TERM > ${said}; kill $!; exit 0' TERM`);
    const stopped = await stopGroups([g], 10_000);
    expect(stopped.map((s) => s.pgid)).toEqual([g.pgid]);
    expect(isAlive(g.pid)).toBe(false);
    expect(fs.readFileSync(said, 'utf8')).toBe('TERM\n');
  });

  it('a group that ignores SIGTERM gets SIGKILL after the grace; the sync form for the scratch sweep too', async () => {
    for (const stop of [(gs: JobGroup[]) => stopGroups(gs, 200), (gs: JobGroup[]) => Promise.resolve(stopGroupsSync(gs, 200))]) {
      const g = await group(`trap '' TERM`);
      const stopped = await stop([g]);
      expect(stopped.map((s) => s.pgid)).toEqual([g.pgid]);
      expect(isAlive(g.pid)).toBe(false);
    }
  });

  it('a group already gone, or whose leader pid names another process now, is left alone', async () => {
    const g = await group(':');
    await stopGroups([g], 10_000);
    expect(await stopGroups([g], 10_000)).toEqual([]);
    const other = await group(`trap '' TERM`);
    // The same pid with another start time: not our group (a reused pid).
    expect(stopGroupsSync([{ pgid: other.pgid, startTime: 'not-its-start' }], 100)).toEqual([]);
    expect(isAlive(other.pid)).toBe(true);
    expect((await stopGroups([other], 100)).length).toBe(1);
    expect(isAlive(other.pid)).toBe(false);
  });
});
