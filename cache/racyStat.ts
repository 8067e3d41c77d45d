/**
 * A file changed within this long of being hashed could change again without its stat changing
 * (coarse timestamps): its hash is trusted once more only after a re-hash, as git does for its index.
 */
export const RACY_NS = 2_000_000_000n;

/**
 * Whether a stat taken now (`nowNs`, Date.now() in nanoseconds) cannot vouch for a hash taken now:
 * the file changed within RACY_NS. Its change time says when: every write, touch or rename sets it from
 * the kernel's clock. The modification time counts too unless it is in the future (`touch -d`, tar, a
 * clock ahead elsewhere): there it says nothing, and would keep the file racy, hashed at every look,
 * until the clock passed it. A change time in the future (a file server's clock ahead) keeps it racy.
 */
export function racyStat(st: { readonly mtimeNs: bigint; readonly ctimeNs: bigint }, nowNs: bigint): boolean {
  if (nowNs - st.ctimeNs < RACY_NS) return true;
  return st.mtimeNs <= nowNs && nowNs - st.mtimeNs < RACY_NS;
}
