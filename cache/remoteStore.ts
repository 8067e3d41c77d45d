import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Action, BuildContext, FileHash, OutputRecord } from '../graph/action.js';
import { inputHashes } from '../graph/rebuilder.js';
import type { SharedAnswer, SharedCache } from '../graph/sharedCache.js';
import { runRecordOf, type FileHasher, type RunRecord, type TraceStore } from '../graph/traces.js';
import { decodeEntry, encodeEntry, parseEntryJson, sha256, TRACES_PER_ENTRY, type ActionEntry, type SharedOutput, type SharedTrace } from './actionEntry.js';
import { CacheTrouble, HttpCas } from './httpCas.js';

/**
 * The shared cache under the local store: an HTTP client of bazel-remote's layout (httpCas.ts).
 * Lookups go to it only for what the local store lacks; what it gives is verified (every blob against
 * its SHA-256, every trace against the dependencies as they hash here, every path against the action's
 * declared outputs) and made local before the builder restores it. Uploads go in the background.
 *
 * Its keys do not depend on where the tree is: commands, folder and environment are hashed with the
 * tree's root replaced by a placeholder, with `salt` (the toolchain's identity) and the declared inputs'
 * content hashes. A cache that fails never fails a build: a miss, one warning, local work.
 */

export interface RemoteSettings {
  /** The server's base URL, without credentials. */
  readonly url: string;
  readonly mode: 'read' | 'readwrite';
  readonly timeoutMs: number;
  /** The Authorization header's value (never logged, never reported). */
  readonly authorization?: string;
}

/** What the remote cache did, since the session opened. */
export interface RemoteCounters {
  /** Actions restored from the remote cache. */
  hits: number;
  /** Lookups that found no usable result. */
  misses: number;
  /** Action entries uploaded (with the blobs they name that the server lacked). */
  uploads: number;
  /**
   * Runs offered for upload (read-write mode) and not uploaded, by design rather than failure: the
   * action or its record cannot be restored elsewhere (a folder, an output it does not name, a link
   * out of the tree), or an output was gone or rewritten by the time it was read back.
   */
  skipped: number;
  /** Requests that failed or answered garbage. */
  errors: number;
  bytesDown: number;
  bytesUp: number;
}

/** What the shared cache did during one build (and the uploads still under way), for its report. */
export interface RemoteCacheReport extends RemoteCounters {
  url: string;
  mode: RemoteSettings['mode'];
  pendingUploads: number;
  warnings: string[];
}

/** The local store as the remote cache needs it: a blob already checked against its hash goes in. */
export interface BlobSink {
  has(hash: string): boolean;
  putBlob(hash: string, data: Uint8Array): boolean;
}

export interface RemoteStoreDeps {
  readonly root: string;
  readonly files: FileHasher;
  readonly traces: TraceStore;
  readonly store: BlobSink;
  /** The identity of the tools an action runs (compiler versions): part of its shared key. */
  readonly salt: (action: Action) => string;
}

const KEY_VERSION = 'osvd-remote-1';
const MISS: SharedAnswer = { found: false };
const ROOT = '${OSVD_ROOT}';
const MAX_ENTRY_BYTES = 16 * 1024 * 1024;
const UPLOADS_AT_ONCE = 4;
const ASK_FIRST_BYTES = 64 * 1024;
/** Entries kept for merging into uploads (a run that failed is never uploaded: bound what it leaves). */
const MAX_SEEN = 20_000;

export class RemoteStore implements SharedCache {
  private readonly cas: HttpCas;
  private readonly roots: string[];
  private readonly counts = { hits: 0, misses: 0, uploads: 0, skipped: 0, errors: 0 };
  /** The entry found under each key looked up (null: none), merged into what is uploaded there. */
  private readonly seen = new Map<string, ActionEntry | null>();
  private readonly uploadQueue: (() => Promise<void>)[] = [];
  private uploading = 0;
  private idle: (() => void)[] = [];
  private warnings: string[] = [];
  private warned = false;
  /** Dependency paths found safe to hash (see hashable). */
  private readonly safeDeps = new Set<string>();

  constructor(readonly settings: RemoteSettings, private readonly deps: RemoteStoreDeps) {
    this.cas = new HttpCas({ url: settings.url, authorization: settings.authorization, timeoutMs: settings.timeoutMs });
    const real = safeRealpath(deps.root);
    // Longest first: a tree under a symlinked folder is known by both names.
    this.roots = [...new Set([deps.root, real])].sort((a, b) => b.length - a.length);
  }

  counters(): RemoteCounters {
    return { ...this.counts, bytesDown: this.cas.bytesDown, bytesUp: this.cas.bytesUp };
  }

  /** Uploads not yet done. */
  get pendingUploads(): number {
    return this.uploadQueue.length + this.uploading;
  }

  /** What it did since `before` (counters() then), and its warning since the last report (at most one): a build's. */
  reportSince(before: RemoteCounters): RemoteCacheReport {
    const now = this.counters();
    const delta = Object.fromEntries(Object.entries(now).map(([k, v]) => [k, v - before[k as keyof RemoteCounters]])) as unknown as RemoteCounters;
    const warnings = this.warnings;
    // The next build may warn again.
    this.warnings = [];
    this.warned = false;
    return { url: this.settings.url, mode: this.settings.mode, ...delta, pendingUploads: this.pendingUploads, warnings };
  }

  async fetch(action: Action, preKey: string, context: BuildContext): Promise<SharedAnswer> {
    if (!this.shareable(action)) return MISS;
    const { files, traces } = this.deps;
    const inputs = inputHashes(action, files);
    const key = this.keyOf(action, action.commands, action.keyEnv, inputs);
    let entry: ActionEntry | undefined;
    try {
      entry = await this.readEntry(key);
    } catch (err) {
      this.trouble(err);
      return MISS;
    }
    // An entry is trusted only for what it names: exactly the action's outputs, and dependencies that
    // hash here as they did there (paths outside the tree are only hashed, never written).
    const usable = entry?.traces.filter((t) => restorable(t.outputs, action.outputs)) ?? [];
    const trace = usable.find((t) => t.deps.every(([p, h]) => this.hashable(p) && (files.hash(p) ?? 'missing') === h));
    if (!trace) {
      if (this.settings.mode === 'readwrite') {
        if (this.seen.size >= MAX_SEEN) this.seen.clear();
        this.seen.set(key, entry ?? null);
      }
      this.counts.misses++;
      return { found: false, missing: this.missingOnly(usable) };
    }
    for (const o of trace.outputs) {
      if (!(await this.download(o))) {
        this.counts.misses++;
        return MISS;
      }
    }
    const deps: FileHash[] = trace.deps.map(([p, h]) => [p, h] as const);
    traces.recordRun(runRecordOf(action, preKey, { inputs, deps, outputs: trace.outputs.map(localRecord), context, durationMs: trace.durationMs }));
    this.counts.hits++;
    return { found: true };
  }

  /**
   * The files a trace names that do not exist here, when they are all that keeps it from matching:
   * the builder may wait for the actions that write them and ask again.
   */
  private missingOnly(traces: readonly SharedTrace[]): string[] | undefined {
    const { files } = this.deps;
    for (const t of traces) {
      const missing: string[] = [];
      const rest = t.deps.every(([p, h]) => {
        if (!this.hashable(p)) return false;
        const here = files.hash(p);
        if (here === null && h !== 'missing') missing.push(p);
        return here === null || here === h;
      });
      if (rest && missing.length > 0) return missing;
    }
    return undefined;
  }

  share(action: Action, run: RunRecord): void {
    if (this.settings.mode !== 'readwrite') return;
    if (!this.shareable(action)) {
      this.counts.skipped++;
      return;
    }
    this.uploadQueue.push(() => this.upload(action, run));
    this.pump();
  }

  /** Wait until every upload queued so far is done (or has failed). */
  flush(): Promise<void> {
    if (this.pendingUploads === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  close(): void {
    this.cas.close();
  }

  /**
   * Whether a dependency another machine named may be hashed here: what is at its path must be a
   * plain file, a folder or a link (or nothing), never a device or a pipe that reading would hang on.
   */
  private hashable(p: string): boolean {
    if (this.safeDeps.has(p)) return true;
    if (p.includes('\0') || p.split('/').includes('..')) return false;
    let st: fs.Stats | undefined;
    try {
      st = fs.lstatSync(path.resolve(this.deps.root, p), { throwIfNoEntry: false });
    } catch {
      return false;
    }
    if (st && !st.isFile() && !st.isDirectory() && !st.isSymbolicLink()) return false;
    if (this.safeDeps.size >= MAX_SEEN) this.safeDeps.clear();
    this.safeDeps.add(p);
    return true;
  }

  /** Only actions that write files inside the tree are shared: nothing from elsewhere lands outside it. */
  private shareable(action: Action): boolean {
    return action.outputs.length > 0 && action.outputs.every((o) => !path.isAbsolute(o) && !o.split('/').includes('..'));
  }

  /** The key under /ac/: what preKeyOf hashes, with the tree's root replaced, and the toolchain. */
  private keyOf(action: Action, commands: readonly string[], keyEnv: Readonly<Record<string, string>>, inputs: readonly FileHash[]): string {
    const env = Object.keys(keyEnv)
      .sort()
      .map((k) => [k, this.unroot(keyEnv[k]!)]);
    const value = [KEY_VERSION, this.deps.salt(action), action.cwd, commands.map((c) => this.unroot(c)), env, inputs.map(([p, h]) => [this.unroot(p), h])];
    return createHash('sha256').update(JSON.stringify(value)).digest('hex');
  }

  private unroot(s: string): string {
    for (const r of this.roots) if (s.includes(r)) s = s.split(r).join(ROOT);
    return s;
  }

  private async readEntry(key: string): Promise<ActionEntry | undefined> {
    const bytes = await this.cas.get('ac', key, MAX_ENTRY_BYTES);
    if (!bytes) return undefined;
    let decoded = decodeEntry(bytes);
    if ('inCas' in decoded) {
      const json = await this.cas.get('cas', decoded.inCas.hash, decoded.inCas.size);
      if (!json) return undefined;
      decoded = parseEntryJson(json, decoded.inCas);
    }
    if ('garbage' in decoded) throw new CacheTrouble(`the entry under /ac/${key.slice(0, 12)}... is unusable: ${decoded.garbage}`, false);
    return decoded.entry;
  }

  /** Put one output's blob in the local store, checked against its SHA-256; false when it cannot be had. */
  private async download(o: SharedOutput): Promise<boolean> {
    if (!o.sha256 || this.deps.store.has(o.hash)) return true;
    let data: Buffer | undefined;
    try {
      data = await this.cas.get('cas', o.sha256, o.size);
    } catch (err) {
      this.trouble(err);
      return false;
    }
    if (!data) return false;
    if (data.length !== o.size || sha256(data) !== o.sha256) {
      this.trouble(new CacheTrouble(`the blob /cas/${o.sha256.slice(0, 12)}... does not match its hash`, false));
      return false;
    }
    return this.deps.store.putBlob(o.hash, data);
  }

  private pump(): void {
    while (this.uploading < UPLOADS_AT_ONCE && this.uploadQueue.length > 0) {
      const job = this.uploadQueue.shift()!;
      this.uploading++;
      void job()
        .catch((err) => this.trouble(err))
        .finally(() => {
          this.uploading--;
          this.pump();
          if (this.pendingUploads === 0) for (const resolve of this.idle.splice(0)) resolve();
        });
    }
  }

  /**
   * Upload a run: its blobs first (read back from the tree and checked against the run's record, so a
   * file rewritten since is never shared), then the entry that names them.
   */
  private async upload(action: Action, run: RunRecord): Promise<void> {
    const skip = (): void => {
      this.counts.skipped++;
    };
    if (!restorable(run.outputs, action.outputs)) return skip();
    const outputs: SharedOutput[] = [];
    for (const o of run.outputs) {
      if (o.hash === 'dir' || o.hash.startsWith('link:')) {
        if (o.hash.startsWith('link:/')) return skip();
        outputs.push({ path: o.path, hash: o.hash, mode: o.mode, size: o.size });
        continue;
      }
      let data: Buffer;
      try {
        data = await fs.promises.readFile(path.resolve(this.deps.root, o.path));
      } catch {
        return skip(); // gone since: nothing to share
      }
      const full = sha256(data);
      if (!full.startsWith(o.hash)) return skip();
      // A large blob the server may have already is asked about first; a small one costs as much to ask about as to send.
      if (data.length < ASK_FIRST_BYTES || !(await this.cas.has('cas', full))) await this.cas.put('cas', full, data);
      outputs.push({ path: o.path, hash: o.hash, sha256: full, mode: o.mode, size: o.size });
    }
    const key = this.keyOf(action, run.commands, run.keyEnv, run.inputs);
    const mine: SharedTrace = { deps: run.deps, outputs, durationMs: run.durationMs };
    const same = (t: SharedTrace): boolean => JSON.stringify(t.deps) === JSON.stringify(mine.deps);
    const earlier = this.seen.get(key)?.traces.filter((t) => !same(t)) ?? [];
    await this.cas.put('ac', key, encodeEntry({ traces: [mine, ...earlier].slice(0, TRACES_PER_ENTRY) }));
    this.seen.delete(key);
    this.counts.uploads++;
  }

  /** Count a failure; the first one (until the cache works again) becomes the build's warning. */
  private trouble(err: unknown): void {
    this.counts.errors++;
    const t = err instanceof CacheTrouble ? err : new CacheTrouble((err as Error)?.message ?? String(err), false);
    if (this.warned) return;
    this.warned = true;
    this.warnings.push(`remote cache ${this.settings.url}: ${t.message}${t.serverDown ? ' (building locally)' : ''}`);
  }
}

/**
 * Whether a result can be restored elsewhere from its records: they name each of the action's outputs
 * once and nothing else, and none is a folder. A folder's record says nothing of what is in it:
 * OSv's syscall header generator is known by the folder it writes three files into, and restoring
 * the folder alone left linux.cc without its header.
 */
function restorable(records: readonly { path: string; hash: string }[], outputs: readonly string[]): boolean {
  const want = new Set(outputs);
  if (records.some((r) => r.hash === 'dir')) return false;
  return records.length === want.size && new Set(records.map((r) => r.path)).size === want.size && records.every((r) => want.has(r.path));
}

function localRecord(o: SharedOutput): OutputRecord {
  return { path: o.path, hash: o.hash, mode: o.mode & 0o777, size: o.size };
}

function safeRealpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}
