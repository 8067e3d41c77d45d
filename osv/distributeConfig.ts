import { DistccHostError, parseDistccHosts } from '../graph/distccHosts.js';

/**
 * `distribute` in osv.config.ts: which launcher runs the compiles on other machines. Links,
 * generators and everything else stay here, with the local job count.
 */
export interface DistributeConfig {
  /** distcc (hosts below, else DISTCC_HOSTS, else distcc's hosts files) or icecc (its scheduler finds the hosts). */
  tool: 'distcc' | 'icecc';
  /** distcc's host list, written as DISTCC_HOSTS: 'localhost/2 buildbox/16,lzo 10.0.0.7:3632/8'. */
  hosts?: string;
  /** Compiles sent at once (distcc's default: the sum of the hosts' limits, what `distcc -j` prints; required for icecc). */
  jobs?: number;
}

/** The config check of `distribute` (a problem to report, or undefined). */
export function distributeProblem(v: unknown): string | undefined {
  if (v === false) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return "must be { tool: 'distcc' | 'icecc', hosts?, jobs? } or false";
  const d = v as Record<string, unknown>;
  for (const k of Object.keys(d)) if (!['tool', 'hosts', 'jobs'].includes(k)) return `has an unknown field '${k}' (known: tool, hosts, jobs)`;
  if (d.tool !== 'distcc' && d.tool !== 'icecc') return "needs tool: 'distcc' or 'icecc'";
  if (d.jobs !== undefined && !(Number.isInteger(d.jobs) && (d.jobs as number) > 0)) return 'jobs must be a whole number above 0';
  if (d.hosts !== undefined) {
    if (typeof d.hosts !== 'string') return 'hosts must be a string, written as DISTCC_HOSTS is';
    if (d.tool === 'icecc') return "hosts are distcc's: icecc's scheduler finds the hosts";
    try {
      const list = parseDistccHosts(d.hosts);
      if (list.zeroconf && d.jobs === undefined) return 'hosts has +zeroconf, whose hosts are found while compiling: give jobs';
    } catch (err) {
      if (err instanceof DistccHostError) return `hosts: ${err.message}`;
      throw err;
    }
  }
  if (d.tool === 'icecc' && d.jobs === undefined) return "needs jobs with icecc: its scheduler knows the cluster's slots, a client cannot ask";
  return undefined;
}
