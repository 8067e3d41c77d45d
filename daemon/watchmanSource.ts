import fs from 'node:fs';
import path from 'node:path';
import watchman from 'fb-watchman';
import type { ChangeSource, ChangeSourceOptions, WatcherHealth } from './changeSource.js';
import { ignoredFolders } from './ignore.js';

/**
 * The tree watched by watchman (the engine of Buck2, Jest and Sapling). watchman reads inotify
 * itself: on IN_Q_OVERFLOW it recrawls the tree and then reports what the recrawl found changed, and
 * a query "what changed since clock C" is answered only after a cookie file it writes has come back
 * through inotify, so the answer holds every change made before the query. What it cannot vouch for,
 * it says: `is_fresh_instance` (watchman restarted, or the clock is not one of its own), and the
 * daemon then verifies by stat.
 *
 * It sees the build folder too (outputs changed behind the daemon's back), less the ignored folders
 * (.git, the state folder) that the queries leave out. Changes reach the daemon by a subscription
 * between builds and by a query since the last clock before each build.
 */
const SUBSCRIPTION = 'osvd';
/** How long a query waits for watchman's cookie (watchman busy with a recrawl of a large tree). */
const SYNC_TIMEOUT_MS = 20_000;

interface QueryResult {
  clock: string;
  files?: string[];
  is_fresh_instance?: boolean;
  warning?: string;
}

interface SubscriptionPdu extends Partial<QueryResult> {
  subscription: string;
  canceled?: boolean;
  'state-enter'?: string;
  'state-leave'?: string;
}

/** The part of fb-watchman's client used here (its typings know only some commands and events). */
interface WatchmanClient {
  capabilityCheck(caps: { optional: string[]; required: string[] }, done: (err: Error | null) => void): void;
  command(args: unknown[], done: (err: Error | null, resp: unknown) => void): void;
  on(event: 'error' | 'end' | 'subscription', listener: (arg: never) => void): void;
  once(event: 'error', listener: (err: Error) => void): void;
  removeAllListeners(): void;
  end(): void;
}

export class WatchmanSource implements ChangeSource {
  readonly backend = 'watchman';
  readonly seesOutputs = true;
  readonly health: WatcherHealth = { mode: 'off', backend: 'watchman', healthy: false, ready: false };
  private watchRoot = '';
  private relativeRoot: string | undefined;
  private clock: string | undefined;
  /** Set when watchman said it could not vouch for its view; cleared by the next settle. */
  private lostSince = false;
  private closed = false;
  /**
   * The watch, asked for as soon as watchman answers (connect): watchman crawls a tree it does not
   * watch yet (seconds at 50,000 TUs) while the daemon imports the build, not after.
   */
  private watching: Promise<{ watch: string; relative_path?: string }> | undefined;
  /** Whether watchman watched the tree (or a folder above it) before this daemon asked (see mark()). */
  private watchedBefore: Promise<boolean> = Promise.resolve(false);

  private constructor(private readonly client: WatchmanClient, private readonly options: ChangeSourceOptions) {}

  /**
   * Connect to watchman (its socket from WATCHMAN_SOCK, else from `watchman get-sockname`, which starts
   * the user's server when none runs). Rejects when watchman is not installed or does not answer.
   */
  static async connect(options: ChangeSourceOptions, timeoutMs = 10_000): Promise<WatchmanSource> {
    const client = new watchman.Client() as unknown as WatchmanClient;
    const source = new WatchmanSource(client, options);
    try {
      await withTimeout(
        new Promise<void>((resolve, reject) => {
          client.once('error', reject);
          client.capabilityCheck({ optional: [], required: ['relative_root'] }, (err) => (err ? reject(err) : resolve()));
        }),
        timeoutMs,
        'watchman did not answer',
      );
    } catch (err) {
      client.removeAllListeners();
      client.end();
      throw err;
    }
    // Asked first: a client's commands are answered in order.
    source.watchedBefore = source.command<{ roots?: string[] }>(['watch-list']).then(
      (r) => isWatched(options.root, r.roots ?? []),
      () => false,
    );
    source.watching = source.command<{ watch: string; relative_path?: string }>(['watch-project', options.root]);
    // start() takes its failure (and degrades); a daemon closed before it must not see it unhandled.
    source.watching.catch(() => undefined);
    return source;
  }

  /**
   * A clock for start() to subscribe from, when watchman already watched the tree before this daemon
   * asked: a clock then comes in milliseconds. A tree watchman has just begun to crawl gives one only
   * after the crawl (12 s for a new 50,000-TU tree, in a loaded run), which the daemon's first load
   * does not wait for: it looks at the files meanwhile and checks them all once watching.
   */
  async mark(): Promise<boolean> {
    try {
      if (!(await this.watchedBefore)) return false;
      this.clock = await this.watchAndClock();
      return true;
    } catch {
      // start() takes a clock then, and degrades if watchman fails.
      return false;
    }
  }

  /** The watch, and a clock taken after a cookie: every change before it is in watchman's view. */
  private async watchAndClock(): Promise<string> {
    const watch = await (this.watching ?? this.command<{ watch: string; relative_path?: string }>(['watch-project', this.options.root]));
    this.watchRoot = watch.watch;
    this.relativeRoot = watch.relative_path || undefined;
    const now = await this.command<{ clock: string }>(['clock', this.watchRoot, { sync_timeout: SYNC_TIMEOUT_MS }]);
    return now.clock;
  }

  async start(): Promise<void> {
    const { client } = this;
    client.on('error', (err: Error) => this.degrade(`watchman failed (${err.message})`));
    client.on('end', () => this.degrade('the connection to watchman ended'));
    client.on('subscription', (pdu: SubscriptionPdu) => this.onSubscription(pdu));
    try {
      if (this.clock) {
        // Marked (see mark()): what changed since is asked first. A subscription from a clock of a
        // watch that is gone (`watch-del` and a new watch meanwhile) starts from now without a word;
        // a query says is_fresh_instance, and every tracked file is checked.
        this.take(await this.command<QueryResult>(['query', this.watchRoot, { ...this.query(), since: this.clock, sync_timeout: SYNC_TIMEOUT_MS }]));
      } else {
        this.clock = await this.watchAndClock();
      }
      const asked = this.clock;
      const subscribed = await this.command<{ clock?: string }>(['subscribe', this.watchRoot, SUBSCRIPTION, { ...this.query(), since: asked }]);
      if (subscribed.clock && !sameWatch(asked, subscribed.clock)) {
        this.lostSince = true;
        this.options.onLost('the tree\'s watch was made again while osvd subscribed: every tracked file is checked');
      }
    } catch (err) {
      this.degrade(`watchman could not watch the tree (${(err as Error).message})`);
      return;
    }
    Object.assign(this.health, { mode: 'events', healthy: true, ready: true });
    this.options.onHealth({ ...this.health });
  }

  async settle(): Promise<boolean> {
    if (this.closed || this.health.mode !== 'events' || !this.clock) return false;
    let result: QueryResult;
    try {
      result = await this.command<QueryResult>(['query', this.watchRoot, { ...this.query(), since: this.clock, sync_timeout: SYNC_TIMEOUT_MS }]);
    } catch {
      return false;
    }
    this.take(result);
    const vouched = !this.lostSince;
    this.lostSince = false;
    return vouched;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.client.removeAllListeners();
    this.client.on('error', () => undefined);
    this.client.end();
  }

  /** The query both the subscription and settle() make: file names relative to the tree, ignored folders left out. */
  private query(): Record<string, unknown> {
    const ignored = ignoredFolders(this.options.root, this.options.ignore).flatMap((i) => [['dirname', i], ['name', i, 'wholename']]);
    return {
      fields: ['name'],
      empty_on_fresh_instance: true,
      ...(this.relativeRoot ? { relative_root: this.relativeRoot } : {}),
      ...(ignored.length ? { expression: ['not', ['anyof', ...ignored]] } : {}),
    };
  }

  private onSubscription(pdu: SubscriptionPdu): void {
    if (pdu.subscription !== SUBSCRIPTION || this.closed) return;
    if (pdu.canceled) {
      this.degrade('watchman cancelled the subscription (the tree was deleted, or watch-del was run)');
      return;
    }
    if (pdu.clock) this.take(pdu as QueryResult);
  }

  /** Deliver a result's files and move the clock past them; a fresh instance means changes may be lost. */
  private take(result: QueryResult): void {
    if (result.is_fresh_instance) {
      this.lostSince = true;
      this.options.onLost('watchman restarted or lost its view (a fresh instance): every tracked file is checked');
    } else if (result.files?.length) {
      this.health.lastEventAt = Date.now();
      this.options.onBatch(result.files.map((f) => f.split(path.sep).join('/')));
    }
    this.clock = result.clock;
  }

  private degrade(problem: string): void {
    if (this.closed || this.health.mode === 'polling') return;
    Object.assign(this.health, { mode: 'polling', healthy: false, problem: `${problem}; osvd scans the tree every few seconds instead`, fix: 'check watchman (watchman version): osvd asks it again by itself, within a minute' });
    this.lostSince = true;
    this.options.onHealth({ ...this.health });
  }

  private command<T>(args: unknown[]): Promise<T> {
    return new Promise((resolve, reject) => this.client.command(args, (err, resp) => (err ? reject(err) : resolve(resp as T))));
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Whether two clocks are of one watch: watchman's clocks are `c:<server start>:<pid>:<root number>:<ticks>`,
 * the root number counts the watches of that path. Clocks of another shape are taken as the same.
 */
function sameWatch(a: string, b: string): boolean {
  const watchOf = (c: string): string | undefined => /^(c:\d+:\d+:\d+):\d+$/.exec(c)?.[1];
  const [x, y] = [watchOf(a), watchOf(b)];
  return x === undefined || y === undefined || x === y;
}

/** Whether `root` (its real path) is one of watchman's roots or lies under one. */
function isWatched(root: string, roots: readonly string[]): boolean {
  let real: string;
  try {
    real = fs.realpathSync(root);
  } catch {
    return false;
  }
  return roots.some((r) => real === r || real.startsWith(r.endsWith(path.sep) ? r : r + path.sep));
}
