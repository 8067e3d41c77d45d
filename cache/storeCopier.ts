import { Worker } from 'node:worker_threads';

/** One output to copy into the store: `src` to `tmp` (in the scratch folder), then renamed to `blob`. */
export interface CopyJob {
  readonly hash: string;
  readonly size: number;
  readonly src: string;
  readonly tmp: string;
  readonly blob: string;
}

export interface CopyDone {
  readonly hash: string;
  readonly size: number;
  readonly src: string;
  /** Why the copy failed (a full disk, a vanished file): the output is then simply not cached. */
  readonly error?: string;
}

/**
 * The worker's code: plain synchronous copies, one batch per message. It is given as text (not a
 * module file) so that it runs the same from the compiled package and from the TypeScript sources the
 * tests import. A rename that crosses file systems falls back to a copy beside the blob, as moveInto (base/moveInto.ts).
 */
const WORKER_SOURCE = `
const fs = require('node:fs');
const path = require('node:path');
const { parentPort } = require('node:worker_threads');
const dirs = new Set();
parentPort.on('message', (jobs) => {
  const done = [];
  for (const j of jobs) {
    try {
      const dir = path.dirname(j.blob);
      if (!dirs.has(dir)) { fs.mkdirSync(dir, { recursive: true }); dirs.add(dir); }
      fs.copyFileSync(j.src, j.tmp, fs.constants.COPYFILE_FICLONE);
      try {
        fs.renameSync(j.tmp, j.blob);
      } catch (err) {
        if (err.code !== 'EXDEV') throw err;
        const near = j.blob + '.osvd-tmp-' + process.pid;
        try { fs.copyFileSync(j.tmp, near); fs.renameSync(near, j.blob); } finally { fs.rmSync(near, { force: true }); }
      }
      done.push({ hash: j.hash, size: j.size, src: j.src });
    } catch (err) {
      try { fs.rmSync(j.tmp, { force: true }); } catch {}
      done.push({ hash: j.hash, size: j.size, src: j.src, error: String(err && err.message || err) });
    }
  }
  parentPort.postMessage(done);
});
`;

/**
 * Copies outputs into the store on a worker thread. A copy made from the main thread, even through
 * fs.promises, cost the builder about 1.5 ms of its own time per output, a third of its work per
 * action in a cold build: each file operation wakes a libuv thread, and on a machine whose cores are busy
 * compiling, the woken thread takes the main thread's core. Here the main thread wakes the copy thread
 * once per batch (BATCH outputs or BATCH_MS), and takes back one message per batch.
 */
const BATCH = 256;
const BATCH_MS = 200;

export class StoreCopier {
  private worker: Worker | undefined;
  private queue: CopyJob[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private waiters: (() => void)[] = [];

  /** `onLost`: the thread died with copies in hand; none of them is in the store. */
  constructor(
    private readonly onDone: (results: readonly CopyDone[]) => void,
    private readonly onLost: (why: string) => void,
  ) {}

  add(job: CopyJob): void {
    this.queue.push(job);
    if (this.queue.length >= BATCH) this.flush();
    else if (!this.timer) this.timer = setTimeout(() => this.flush(), BATCH_MS).unref();
  }

  /** Resolves when every copy added so far is done (or failed). */
  settled(): Promise<void> {
    this.flush();
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Start the copy thread now, so that the first build's copies do not wait for it (300 ms on a loaded machine). */
  warm(): void {
    this.ensureWorker();
  }

  close(): void {
    void this.worker?.terminate();
    this.worker = undefined;
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const jobs = this.queue;
    this.queue = [];
    this.inFlight += jobs.length;
    this.ensureWorker().postMessage(jobs);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    // The copies are a cache: they never keep a process alive (a one-shot command waits with settled()).
    worker.unref();
    worker.on('message', (done: CopyDone[]) => this.finish(done));
    worker.on('error', (err) => this.lost(worker, err));
    worker.on('exit', (code) => this.lost(worker, new Error(`the store's copy thread exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  private finish(done: readonly CopyDone[]): void {
    this.inFlight -= done.length;
    this.onDone(done);
    if (this.inFlight === 0) for (const w of this.waiters.splice(0)) w();
  }

  /** The thread died: whatever it had is not cached (the outputs themselves are fine). */
  private lost(worker: Worker, err: Error): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const pending = this.inFlight;
    this.inFlight = 0;
    if (pending > 0) this.onLost(`${pending} copies lost: ${err.message}`);
    for (const w of this.waiters.splice(0)) w();
  }
}
