import http from 'node:http';
import https from 'node:https';

/**
 * A client of bazel-remote's HTTP layout: `GET/HEAD/PUT <base>/cas/<sha256>` for blobs and
 * `<base>/ac/<sha256>` for action entries. Any server that serves files by path and takes PUT works
 * the same (nginx's WebDAV module, an object store behind a proxy).
 *
 * A cache server that is down or slow must cost a build one timeout, not one per request: the first
 * request that cannot reach it (refused, reset, silent for `timeoutMs`), or a run of server errors,
 * marks it down, and every request queued or made after that fails at once until `retryAfterMs`.
 */

export type Area = 'ac' | 'cas';

export interface HttpCasOptions {
  /** The server's base URL without credentials, e.g. `http://cache:8080/` or `https://host/osvd/`. */
  readonly url: string;
  /** The Authorization header to send, if any (never logged). */
  readonly authorization?: string;
  /** How long a request may wait for the server's next bytes (connect, answer, body). */
  readonly timeoutMs: number;
  /** Requests in flight at once. */
  readonly connections?: number;
  /** After the server was marked down, ask again after this long (a daemon outlives an outage). */
  readonly retryAfterMs?: number;
}

/** Why a request gave nothing usable: the message is the one warning a build prints. */
export class CacheTrouble extends Error {
  constructor(
    message: string,
    /** The server is unreachable or failing as a whole (not just this entry). */
    readonly serverDown: boolean,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Server errors in a row that mark the server down. */
const ERRORS_IN_A_ROW = 3;

export class HttpCas {
  private readonly base: URL;
  private readonly agent: http.Agent;
  private readonly request: typeof http.request;
  private readonly connections: number;
  private active = 0;
  private readonly waiting: { go: () => void; fail: (e: CacheTrouble) => void }[] = [];
  private downUntil = 0;
  private downBecause: CacheTrouble | undefined;
  private errorsInARow = 0;
  /** Bytes of bodies received and sent, for the counters. */
  bytesDown = 0;
  bytesUp = 0;

  constructor(private readonly options: HttpCasOptions) {
    this.base = new URL(options.url.endsWith('/') ? options.url : `${options.url}/`);
    const secure = this.base.protocol === 'https:';
    this.connections = options.connections ?? 8;
    this.agent = secure ? new https.Agent({ keepAlive: true, maxSockets: this.connections }) : new http.Agent({ keepAlive: true, maxSockets: this.connections });
    this.request = secure ? https.request : http.request;
  }

  /** The body at `area/hash`, or undefined when the server has no such entry (404). */
  async get(area: Area, hash: string, maxBytes: number): Promise<Buffer | undefined> {
    const r = await this.send('GET', area, hash, undefined, maxBytes);
    return r.status === 404 ? undefined : r.body;
  }

  /** Whether the server has `area/hash` (HEAD). */
  async has(area: Area, hash: string): Promise<boolean> {
    return (await this.send('HEAD', area, hash, undefined, 0)).status !== 404;
  }

  async put(area: Area, hash: string, body: Uint8Array): Promise<void> {
    await this.send('PUT', area, hash, body, 64 * 1024);
  }

  /** The server is taken as down (requests fail at once) until this time. */
  get down(): boolean {
    return Date.now() < this.downUntil;
  }

  close(): void {
    this.agent.destroy();
  }

  private async send(method: string, area: Area, hash: string, body: Uint8Array | undefined, maxBytes: number): Promise<{ status: number; body: Buffer }> {
    await this.slot();
    try {
      const r = await this.once(method, new URL(`${area}/${hash}`, this.base), body, maxBytes);
      if (r.status >= 500) throw new CacheTrouble(`${method} /${area}/: the server answered ${r.status}`, false, r.status);
      if (r.status === 401 || r.status === 403) throw new CacheTrouble(`${method} /${area}/: the server refused access (${r.status}): check OSVD_CACHE_AUTH`, true, r.status);
      const found = r.status >= 200 && r.status <= 299;
      if (!found && !(r.status === 404 && method !== 'PUT')) throw new CacheTrouble(`${method} /${area}/: unexpected answer ${r.status}`, false, r.status);
      this.errorsInARow = 0;
      return r;
    } catch (err) {
      const trouble = err instanceof CacheTrouble ? err : new CacheTrouble(`${method} /${area}/: ${(err as Error).message}`, true);
      if (trouble.status !== undefined && trouble.status >= 500 && ++this.errorsInARow >= ERRORS_IN_A_ROW) this.markDown(trouble);
      if (trouble.serverDown) this.markDown(trouble);
      throw trouble;
    } finally {
      this.active--;
      this.waiting.shift()?.go();
    }
  }

  /** Wait for a free connection; fail at once while the server is down. */
  private slot(): Promise<void> {
    if (this.down) return Promise.reject(this.downBecause!);
    if (this.active < this.connections) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({
        go: () => {
          if (this.down) {
            reject(this.downBecause!);
            // This request will not run: let the next waiter find out too.
            this.waiting.shift()?.go();
            return;
          }
          this.active++;
          resolve();
        },
        fail: reject,
      });
    });
  }

  private markDown(trouble: CacheTrouble): void {
    this.downUntil = Date.now() + (this.options.retryAfterMs ?? 60_000);
    this.downBecause = new CacheTrouble(`the cache server is taken as down: ${trouble.message}`, true, trouble.status);
    for (const w of this.waiting.splice(0)) w.fail(this.downBecause);
  }

  private once(method: string, url: URL, body: Uint8Array | undefined, maxBytes: number): Promise<{ status: number; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string | number> = {};
      if (this.options.authorization) headers.authorization = this.options.authorization;
      if (body) {
        headers['content-length'] = body.length;
        headers['content-type'] = 'application/octet-stream';
      }
      const req = this.request(url, { method, agent: this.agent, headers }, (res) => {
        const status = res.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          // A body larger than what was asked for is garbage: stop reading it.
          if (status === 200 && method === 'GET' && size > maxBytes) {
            req.destroy(new CacheTrouble(`${method} ${url.pathname}: the answer is larger than ${maxBytes} bytes`, false));
            return;
          }
          if (status >= 200 && status < 300) chunks.push(c);
        });
        res.on('end', () => {
          if (status >= 200 && status < 300) this.bytesDown += size;
          if (!res.complete) reject(new CacheTrouble(`${method} ${url.pathname}: the answer was cut short`, true));
          else resolve({ status, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      });
      req.setTimeout(this.options.timeoutMs, () => req.destroy(new CacheTrouble(`no answer within ${this.options.timeoutMs} ms`, true)));
      req.on('error', reject);
      if (body) {
        this.bytesUp += body.length;
        req.end(body);
      } else {
        req.end();
      }
    });
  }
}
