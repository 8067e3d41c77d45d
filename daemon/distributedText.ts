import type { LaunchReport } from '../graph/launcher.js';

/** The build's lines about distributed compiles: where they ran, and which fell back to this machine. */
export function distributedLines(d: LaunchReport | undefined): string[] {
  if (!d || d.launched === 0) return [];
  const head = `${d.tool}: ${d.launched} compile${d.launched === 1 ? '' : 's'} on ${d.slots} slots${d.hosts.length ? ` (${d.hosts.join(' ')})` : ''}`;
  if (d.remote === undefined) return [`${head}; where each ran is ${d.tool}'s to tell`];
  const parts = [`${d.remote} remote`];
  if (d.here?.length) parts.push(`${d.here.length} here (localhost or not distributable)`);
  if (d.fellBack.length) parts.push(`${d.fellBack.length} fell back here because a host failed`);
  const lines = [`${head}: ${parts.join(', ')}`];
  if (d.fellBack.length) {
    const reasons = new Map<string, number>();
    for (const f of d.fellBack) {
      const key = f.host ? `${f.host}: ${f.reason}` : f.reason;
      reasons.set(key, (reasons.get(key) ?? 0) + 1);
    }
    for (const [reason, n] of [...reasons].slice(0, 5)) lines.push(`  fell back: ${n} (${reason})`);
  }
  return lines;
}
