/**
 * The torture's overflow round: the daemon is stopped (SIGSTOP) while one TU is edited, more file
 * events than its inotify queue holds are made (empty files in a watched folder), and a second TU is
 * edited (its events are dropped by the kernel); then it runs again. Status must never call the tree
 * up to date, the build through the daemon must compile both TUs, and a one-shot build after it must
 * find nothing to do. The edits are reverted and the flood removed before the round's usual rebuild.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readCapacity } from '../daemon/inotifyQueue.js';

/** A folder of the tree copy (watched by the daemon) that the flood of events is made in. */
export const FLOOD_FOLDER = 'osvd-flood';

export interface OverflowTools {
  readonly root: string;
  readonly out: string;
  startDaemon(): number;
  stopDaemon(): Promise<void>;
  build(extra?: string[]): { ok: boolean; via?: string; ran: { output: string }[]; failed: { output: string; message: string }[] };
  status(): { daemon: { verifying?: string | null }; dirty: { run: number; restore: number; pending: number } };
}

export async function overflowRound(t: OverflowTools, seen: string, lost: string, round: number): Promise<string[]> {
  const problems: string[] = [];
  const file = (rel: string): string => path.join(t.root, rel);
  const originals = new Map([seen, lost].map((tu) => [tu, fs.readFileSync(file(tu))]));
  const objectOf = (tu: string): string => `${t.out}/${tu.replace(/\.(cc|c)$/, '.o')}`;
  try {
    const pid = t.startDaemon();
    const before = t.build();
    if (!before.ok) problems.push(`the build before the overflow failed: ${before.failed.map((f) => f.output).join(', ')}`);
    const events = readCapacity() + 1000;
    process.kill(pid, 'SIGSTOP');
    try {
      fs.appendFileSync(file(seen), `\nint osvd_overflow_${round}_seen(void) { return ${round}; }\n`);
      for (let i = 0; i < events; i++) fs.writeFileSync(file(`${FLOOD_FOLDER}/${i}`), '');
      fs.appendFileSync(file(lost), `\nint osvd_overflow_${round}_lost(void) { return ${round}; }\n`);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    for (let i = 0; i < 2; i++) {
      const s = t.status();
      if (!s.daemon.verifying && s.dirty.run < 2) problems.push(`status said ${s.dirty.run} to run (not verifying) after events were lost`);
    }
    const r = t.build();
    const ran = new Set(r.ran.map((e) => e.output));
    if (!r.ok) problems.push(`the build after the overflow failed: ${r.failed.map((f) => f.output).join(', ')}`);
    if (r.via !== 'daemon') problems.push(`the build after the overflow did not go through the daemon (${r.via})`);
    for (const tu of [seen, lost]) if (!ran.has(objectOf(tu))) problems.push(`the build through the daemon did not compile ${tu}, edited while the daemon was stopped${tu === lost ? ' (its events were dropped)' : ''}`);
    const oneShot = t.build(['--no-daemon']);
    if (oneShot.ran.length) problems.push(`a one-shot build after the daemon's still ran ${oneShot.ran.map((e) => e.output).join(', ')}`);
  } finally {
    await t.stopDaemon();
    for (const [tu, text] of originals) fs.writeFileSync(file(tu), text);
    fs.rmSync(file(FLOOD_FOLDER), { recursive: true, force: true });
    fs.mkdirSync(file(FLOOD_FOLDER));
  }
  return problems;
}
