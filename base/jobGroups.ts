import fs from 'node:fs';
import path from 'node:path';
import { liveProcessGroups, sleepSync, startTime } from './process.js';

/**
 * A build's commands run in process groups of their own, one per job shell, so that a build can be
 * stopped whole (Ctrl-C, a client gone, the daemon stopping) and so that what a killed osvd left
 * running can be found: each group is noted, with its leader's start time, in a file of the osvd
 * process's scratch folder. The next osvd kills the groups of a process that is gone before it trusts
 * the build folder; a compiler left running would otherwise write an output after the new osvd
 * recorded it.
 */
export const GROUPS_FILE = 'job-groups';

export interface JobGroup {
  readonly pgid: number;
  /** The leader's start time: a pid that was reused is not our group. */
  readonly startTime: string;
}

/** Note a group led by `pgid` (just started) in `dir`'s list. */
export function noteGroup(dir: string, pgid: number): JobGroup {
  const group = { pgid, startTime: startTime(pgid) ?? '' };
  fs.appendFileSync(path.join(dir, GROUPS_FILE), `${group.pgid} ${group.startTime}\n`);
  return group;
}

/** The groups noted in `dir` and in its subfolders (a process's scratch folder holds one per shell pool). */
export function notedGroups(dir: string): JobGroup[] {
  const files = [path.join(dir, GROUPS_FILE)];
  try {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) files.push(path.join(dir, e.name, GROUPS_FILE));
  } catch {
    return [];
  }
  const groups: JobGroup[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const [pgid, start] = line.split(' ');
      if (pgid && Number(pgid) > 1) groups.push({ pgid: Number(pgid), startTime: start ?? '' });
    }
  }
  return groups;
}

/**
 * Send `signal` to every process of these groups; returns the groups that still had processes. A
 * group whose leader's pid now names another process is left alone: while any process of our group
 * lived, the kernel would not have given its id to a new process, so that group is gone.
 */
export function killGroups(groups: readonly JobGroup[], signal: NodeJS.Signals = 'SIGKILL'): JobGroup[] {
  const killed: JobGroup[] = [];
  const live = liveProcessGroups();
  for (const g of groups) {
    if (g.pgid <= 1 || !live.has(g.pgid)) continue;
    const leaderStart = startTime(g.pgid);
    if (leaderStart !== undefined && g.startTime !== '' && leaderStart !== g.startTime) continue;
    try {
      process.kill(-g.pgid, signal);
      killed.push(g);
    } catch {
      // gone meanwhile
    }
  }
  return killed;
}

/**
 * How long stopped commands have to end after SIGTERM before they get SIGKILL. gcc's driver (and
 * distcc's client) end on SIGTERM after removing their temporary files (the `.s` cc1 was writing, in
 * $TMPDIR) and the output they had started; SIGKILL would leave both. make waits as long as it takes
 * after the terminal's SIGINT, ninja after the signal it passes on; a command that ignores SIGTERM
 * is not waited for longer than this.
 */
export const STOP_GRACE_MS = 3_000;

/**
 * Stop every process of these groups as make and ninja stop a build's commands: SIGTERM, so that
 * compilers clean up after themselves, then SIGKILL for whatever still runs after `graceMs`. Resolves,
 * once none of them runs (or 10 s after SIGKILL), to the groups that still had processes.
 */
export async function stopGroups(groups: readonly JobGroup[], graceMs = STOP_GRACE_MS): Promise<JobGroup[]> {
  const signalled = killGroups(groups, 'SIGTERM');
  if (!(await groupsGone(signalled, graceMs))) await groupsGone(killGroups(signalled, 'SIGKILL'));
  return signalled;
}

/** stopGroups for code that must not give up the event loop meanwhile (opening a session). */
export function stopGroupsSync(groups: readonly JobGroup[], graceMs = STOP_GRACE_MS): JobGroup[] {
  const signalled = killGroups(groups, 'SIGTERM');
  if (!groupsGoneSync(signalled, graceMs)) groupsGoneSync(killGroups(signalled, 'SIGKILL'));
  return signalled;
}

/** Wait until no process of these groups runs; false if some still do after `timeoutMs`. */
export async function groupsGone(groups: readonly JobGroup[], timeoutMs = 10_000): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (anyRuns(groups)) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

/** groupsGone for code that must not give up the event loop meanwhile (opening a session). */
export function groupsGoneSync(groups: readonly JobGroup[], timeoutMs = 10_000): boolean {
  const until = Date.now() + timeoutMs;
  while (anyRuns(groups)) {
    if (Date.now() > until) return false;
    sleepSync(10);
  }
  return true;
}

function anyRuns(groups: readonly JobGroup[]): boolean {
  if (groups.length === 0) return false;
  const live = liveProcessGroups();
  return groups.some((g) => live.has(g.pgid));
}
