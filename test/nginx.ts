import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A real nginx on loopback for the shared-cache tests, never the system's: its own prefix, config,
 * pid file, logs and data in a temporary folder, a free port, one process (master_process off, so
 * that killing it kills the server), running as the current user.
 */
export interface Nginx {
  readonly url: string;
  /** Where nginx keeps what was PUT (`ac/`, `cas/`). */
  readonly data: string;
  /** Its own folder (config, logs, pid). */
  readonly dir: string;
  readonly pid: number;
  /** The request lines nginx logged (`PUT /cas/... 201`). */
  requests(): string[];
  /** Files stored under `ac/` or `cas/`. */
  stored(area: 'ac' | 'cas'): string[];
  kill(): void;
}

export type NginxBehaviour =
  /** WebDAV PUT, as a team would set it up. */
  | 'dav'
  /** Every request answered 500. */
  | 'error500'
  /** Reads for anyone, PUT only with the user `ci` and password `secret`. */
  | 'davWithAuth';

const started: Nginx[] = [];
/** Debian puts nginx in /usr/sbin, which is not on every user's PATH. */
const NGINX = fs.existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : 'nginx';

/** `data`: serve another server's folder (a second server on the same cache, to kill). */
export async function startNginx(behaviour: NginxBehaviour = 'dav', data?: string): Promise<Nginx> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-nginx-'));
  const own = data === undefined;
  data ??= path.join(dir, 'data');
  if (own) fs.mkdirSync(data);
  fs.mkdirSync(path.join(dir, 'tmp'));
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    fs.writeFileSync(path.join(dir, 'nginx.conf'), config(dir, data, port, behaviour));
    const child = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')], { stdio: 'ignore' });
    const missing = new Promise<Error>((resolve) => child.on('error', resolve));
    if (await Promise.race([missing, new Promise((r) => setTimeout(r, 50))])) {
      throw new Error(`cannot run nginx (${NGINX}): install it (Debian: apt-get install nginx); .ci/run does`);
    }
    const up = await listening(port, child);
    if (up) {
      const server: Nginx = {
        url: `http://127.0.0.1:${port}`,
        data,
        dir,
        pid: child.pid!,
        requests: () => {
          const log = path.join(dir, 'access.log');
          return fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
        },
        stored: (area) => {
          const d = path.join(data, area);
          return fs.existsSync(d) ? fs.readdirSync(d).sort() : [];
        },
        kill: () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        },
      };
      started.push(server);
      return server;
    }
    child.kill('SIGKILL');
    if (attempt >= 5) throw new Error(`nginx did not start: ${fs.readFileSync(path.join(dir, 'error.log'), 'utf8')}`);
  }
}

export function stopNginxes(): void {
  for (const s of started.splice(0)) {
    s.kill();
    fs.rmSync(s.dir, { recursive: true, force: true });
  }
}

function config(dir: string, data: string, port: number, behaviour: NginxBehaviour): string {
  const tmp = path.join(dir, 'tmp');
  let location: string;
  if (behaviour === 'error500') {
    location = 'return 500;';
  } else {
    location = 'dav_methods PUT; create_full_put_path on; dav_access user:rw;';
    if (behaviour === 'davWithAuth') {
      fs.writeFileSync(path.join(dir, 'htpasswd'), 'ci:{PLAIN}secret\n');
      location += ` limit_except GET HEAD { auth_basic "cache"; auth_basic_user_file ${path.join(dir, 'htpasswd')}; }`;
    }
  }
  return `daemon off;
master_process off;
pid ${path.join(dir, 'nginx.pid')};
error_log ${path.join(dir, 'error.log')};
events { worker_connections 128; }
http {
  access_log ${path.join(dir, 'access.log')};
  client_body_temp_path ${tmp}/body;
  proxy_temp_path ${tmp}/proxy;
  fastcgi_temp_path ${tmp}/fastcgi;
  uwsgi_temp_path ${tmp}/uwsgi;
  scgi_temp_path ${tmp}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${data};
    client_max_body_size 0;
    location / { ${location} }
  }
}
`;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether nginx accepts connections on `port` (false when it exited first, e.g. the port was taken). */
async function listening(port: number, child: ChildProcess): Promise<boolean> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.on('connect', () => {
        c.destroy();
        resolve(true);
      });
      c.on('error', () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}
