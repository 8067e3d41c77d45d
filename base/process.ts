import fs from 'node:fs';

/**
 * Whether a process is alive: it exists and is not a zombie (a killed process nobody has reaped yet
 * exists, but writes nothing any more). Used for the daemon's pid file and for scratch folders left
 * by killed processes.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  const stat = procStat(pid);
  return stat === undefined || stat.state !== 'Z';
}

/** Wait until the process is gone, looking every `everyMs`; false if it still runs after `timeoutMs`. */
export async function exited(pid: number, timeoutMs: number, everyMs = 20): Promise<boolean> {
  for (let waited = 0; isAlive(pid) && waited < timeoutMs; waited += everyMs) await new Promise((r) => setTimeout(r, everyMs));
  return !isAlive(pid);
}

/** Whether the process is stopped (SIGSTOP, Ctrl-Z, a debugger): it runs nothing until SIGCONT. */
export function isStopped(pid: number): boolean {
  const state = procStat(pid)?.state;
  return state === 'T' || state === 't';
}

interface ProcStat {
  readonly state: string;
  readonly pgrp: number;
  /** Clock ticks since boot: with the pid, it names a process for good (pids are reused). */
  readonly startTime: string;
}

/** The fields of /proc/PID/stat osvd needs, or undefined when the process is gone (or not Linux). */
function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', pgrp: Number(fields[2]), startTime: fields[19] ?? '' };
}

/** When the process started (its start time since boot), or undefined when it is gone. */
export function startTime(pid: number): string | undefined {
  return procStat(pid)?.startTime;
}

/**
 * The processes that still run, by process group (zombies left out: they write nothing any more).
 * One pass over /proc, however many groups the caller asks about.
 */
export function liveProcessGroups(): Map<number, number[]> {
  const groups = new Map<number, number[]>();
  let names: string[];
  try {
    names = fs.readdirSync('/proc');
  } catch {
    return groups;
  }
  for (const name of names) {
    if (name.charCodeAt(0) > 57) continue; // not a pid (self, sys, ...)
    const stat = procStat(Number(name));
    if (!stat || stat.state === 'Z') continue;
    const list = groups.get(stat.pgrp);
    if (list) list.push(Number(name));
    else groups.set(stat.pgrp, [Number(name)]);
  }
  return groups;
}

/** Block the thread for a while (for the few places that must wait without giving up the event loop). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
