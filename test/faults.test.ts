import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../cache/db.js';
import type { ContentStore } from '../cache/store.js';
import type { OutputRecord } from '../graph/action.js';
import { DETERMINISTIC_ROUNDS, runTorture } from '../bench/torture.js';
import { build, copyExample, OUT, osvd, osvdEnv, ranOf, removeCopies, restoredOf, sha, startDaemon, status, stopDaemons, storeBlobs } from './helpers.js';

/** Faults and bad input: crashes, a full disk, a corrupt store, broken depfiles, hostile requests. */
afterEach(stopDaemons);
afterAll(removeCopies);

const SCHED = `${OUT}/core/sched.o`;

describe('crash safety', () => {
  it('survives crashes at fixed points of builds (torture rounds): outputs as a clean build, database intact, nothing wrongly trusted', async () => {
    // Faults at named points and with compiles held at a gate, not at random times: the narrow windows
    // are reached every run (a kill between the last action and compile_commands.json, compilers a
    // killed osvd left running), and the test cannot fail by chance. `npm run torture` adds random ones.
    // Every round faults mid-build but the overflow round, whose fault comes between builds.
    const lines: string[] = [];
    const n = DETERMINISTIC_ROUNDS.length;
    const result = await runTorture({ seed: 20261127, plan: DETERMINISTIC_ROUNDS, variants: [[], ['conf_drivers_profile=virtio-mmio']], log: (l) => lines.push(l) });
    expect(result.rounds.flatMap((r) => r.problems.map((p) => `round ${r.round}: ${p}`)), lines.join('\n')).toEqual([]);
    expect(result.rounds.map((r) => r.midBuild), lines.join('\n')).toEqual(DETERMINISTIC_ROUNDS.map((r) => r.kind !== 'overflow'));
    expect(lines.at(-1)).toMatch(new RegExp(`^rounds survived: ${n}/${n}`));
  }, 900_000);

  it('a full disk skips caching and restoring, a corrupt store entry is caught by its hash: the build never fails for the store', () => {
    const root = copyExample();
    const full = { OSVD_STORE_FAIL: 'ENOSPC' };
    // Nothing can be written to the store: the build succeeds, the store stays empty, the log says why.
    const first = JSON.parse(osvdEnv(root, ['build', '--json'], full).stdout);
    expect(first.ok).toBe(true);
    expect(storeBlobs(root).size).toBe(0);
    expect(fs.readFileSync(path.join(root, 'build/.osvd/osvd.log'), 'utf8')).toMatch(/ENOSPC: simulated[\s\S]*the store could not keep or restore/);
    // Nothing was cached, so a deleted object is compiled again (and now cached).
    const good = fs.readFileSync(path.join(root, SCHED));
    fs.rmSync(path.join(root, SCHED));
    const second = build(root);
    expect(ranOf(second)).toEqual([SCHED]);
    expect(storeBlobs(root).has(sha(path.join(root, SCHED)))).toBe(true);
    // The disk fills up again: the restore fails and the compile runs instead.
    fs.rmSync(path.join(root, SCHED));
    const third = JSON.parse(osvdEnv(root, ['build', '--json'], full).stdout);
    expect(third.ok).toBe(true);
    expect(third.restored).toEqual([]);
    expect(third.ran.map((e: { output: string }) => e.output)).toEqual([SCHED]);
    // A blob whose bytes rotted: detected by its hash at restore, dropped, and the compile reruns.
    const blob = storeBlobs(root).get(sha(path.join(root, SCHED)))!;
    const rotten = Buffer.from(good);
    rotten[rotten.length >> 1] ^= 0xff;
    fs.writeFileSync(blob, rotten);
    fs.rmSync(path.join(root, SCHED));
    const fourth = build(root);
    expect(fourth.ok).toBe(true);
    expect(restoredOf(fourth)).toEqual([]);
    expect(ranOf(fourth)).toEqual([SCHED]);
    expect(fs.readFileSync(path.join(root, SCHED)).equals(good)).toBe(true);
    // The store holds the right bytes again.
    expect(fs.readFileSync(storeBlobs(root).get(sha(path.join(root, SCHED)))!).equals(good)).toBe(true);
  });

  it('a missing database trusts no output: the next build reruns everything and gives the same bytes', () => {
    const root = copyExample();
    const first = build(root);
    expect(first.ok).toBe(true);
    const kernel = sha(path.join(root, OUT, 'loader.elf'));
    for (const f of fs.readdirSync(path.join(root, 'build/.osvd'))) if (f.startsWith('state.db')) fs.rmSync(path.join(root, 'build/.osvd', f));
    const again = build(root);
    expect(again.ok, JSON.stringify(again.failed)).toBe(true);
    expect(again.upToDate).toBe(0);
    expect(ranOf(again, 'compile')).toEqual(ranOf(first, 'compile'));
    expect(sha(path.join(root, OUT, 'loader.elf'))).toBe(kernel);
    expect(ranOf(build(root))).toEqual([]);
  });

  it('a depfile a crash cut short is removed and its compile restored or rerun; one naming deleted headers reruns its TU', () => {
    const root = copyExample();
    fs.mkdirSync(path.join(root, 'include/extra'));
    fs.writeFileSync(path.join(root, 'include/extra/gone.h'), '#define OSVD_GONE 1\n');
    const tu = path.join(root, 'core/debug.cc');
    const original = fs.readFileSync(tu, 'utf8');
    fs.writeFileSync(tu, `${original}\n#include "extra/gone.h"\nint osvd_gone() { return OSVD_GONE; }\n`);
    expect(build(root).ok).toBe(true);
    // Half a depfile, as a killed compiler leaves it: make itself cannot read the Makefile then.
    const dep = path.join(root, OUT, 'core/sched.d');
    const text = fs.readFileSync(dep, 'utf8');
    fs.writeFileSync(dep, text.slice(0, text.length >> 1).replace(/\\\n[^\\]*$/, '\n garbage ( without a rule\n'));
    expect(spawnSync('make', ['-n'], { cwd: root, encoding: 'utf8' }).stderr).toMatch(/sched\.d.*\*\*\*/);
    const r = build(root, 'conf_drivers_profile=virtio-mmio');
    expect(r.ok, JSON.stringify(r)).toBe(true);
    expect([...ranOf(r), ...restoredOf(r)]).toContain(SCHED);
    expect(fs.readFileSync(dep, 'utf8')).toBe(text);
    // The header the depfile names is deleted, and the TU no longer includes it: only that TU and the link run.
    fs.rmSync(path.join(root, 'include/extra'), { recursive: true });
    fs.writeFileSync(tu, `${original}\nint osvd_gone() { return 1; }\n`);
    const after = build(root, 'conf_drivers_profile=virtio-mmio');
    expect(after.ok).toBe(true);
    expect(ranOf(after, 'compile')).toEqual([`${OUT}/core/debug.o`]);
    expect(build(root, 'conf_drivers_profile=virtio-mmio').ran).toEqual([]);
  });
});

describe('a database that passes quick_check but fails in use', () => {
  /**
   * The table swapped for a copy whose rows have other rowids: its index, with as many entries (so
   * quick_check, which does not compare an index with its table, finds nothing), names rows the table
   * does not have. The first statement that goes from the index to a row fails as corrupt.
   */
  function unlinkIndex(dbFile: string, table: string): void {
    const db = new Database(dbFile);
    const sql = (db.prepare('SELECT sql FROM sqlite_master WHERE name = ?').get(table) as { sql: string }).sql;
    db.exec(sql.replace(new RegExp(`CREATE TABLE (IF NOT EXISTS )?${table}`), `CREATE TABLE ${table}_moved`));
    const cols = (db.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name).join(', ');
    db.exec(`INSERT INTO ${table}_moved (rowid, ${cols}) SELECT rowid + 1000000, ${cols} FROM ${table}`);
    const root = (name: string): number => (db.prepare('SELECT rootpage FROM sqlite_master WHERE name = ?').get(name) as { rootpage: number }).rootpage;
    const [moved, original] = [root(`${table}_moved`), root(table)];
    db.unsafeMode(true);
    db.pragma('writable_schema = ON');
    db.prepare('UPDATE sqlite_master SET rootpage = ? WHERE name = ?').run(moved, table);
    db.prepare('UPDATE sqlite_master SET rootpage = ? WHERE name = ?').run(original, `${table}_moved`);
    db.pragma('writable_schema = OFF');
    db.close();
    const check = new Database(dbFile, { readonly: true });
    expect(check.pragma('quick_check', { simple: true })).toBe('ok');
    expect(check.pragma('integrity_check', { simple: true })).not.toBe('ok');
    check.close();
  }

  const broken = (root: string): string[] => fs.readdirSync(path.join(root, 'build/.osvd')).filter((f) => /^state\.db\.broken-\d+$/.test(f));
  const WARNING = /the state database failed in use: database disk image is malformed \(SQLITE_CORRUPT\w*\); it was moved to .*state\.db\.broken-\d+ and a new one was created: this build starts from scratch/;

  it('one-shot: the failure is named, the database moved aside and a new one made, and the build runs again from scratch', () => {
    const root = copyExample();
    expect(build(root).ok).toBe(true);
    const kernel = sha(path.join(root, OUT, 'loader.elf'));
    expect(build(root, 'conf_drivers_profile=virtio-mmio').ok).toBe(true);
    unlinkIndex(path.join(root, 'build/.osvd/state.db'), 'blobs');
    // Back to the defaults: the builder restores objects from the store, and the store's index fails.
    const r = osvd(root, ['build', '--json']);
    expect(r.stderr).toMatch(WARNING);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(true);
    expect(report.upToDate).toBe(0);
    expect(broken(root)).toHaveLength(1);
    expect(sha(path.join(root, OUT, 'loader.elf'))).toBe(kernel);
    expect(ranOf(build(root))).toEqual([]);
  });

  it('daemon: a build that meets it replaces the database and builds again, and the daemon serves on', () => {
    const root = copyExample();
    startDaemon(root);
    expect(build(root).ok).toBe(true);
    const kernel = sha(path.join(root, OUT, 'loader.elf'));
    expect(build(root, 'conf_drivers_profile=virtio-mmio').ok).toBe(true);
    unlinkIndex(path.join(root, 'build/.osvd/state.db'), 'blobs');
    const again = build(root);
    expect(again.ok).toBe(true);
    expect((again as unknown as { via: string }).via).toBe('daemon');
    expect(broken(root)).toHaveLength(1);
    expect(fs.readFileSync(path.join(root, 'build/.osvd/osvd.log'), 'utf8')).toMatch(WARNING);
    expect(sha(path.join(root, OUT, 'loader.elf'))).toBe(kernel);
    expect(ranOf(build(root))).toEqual([]);
    expect(status(root).daemon.running).toBe(true);
  });
});

describe('bad input', () => {
  it('config values of the wrong type, and a config that throws, name the file and the field', () => {
    const root = copyExample();
    const cfg = path.join(root, 'osv.config.ts');
    const error = (): string => {
      const r = osvd(root, ['status']);
      expect(r.code).toBe(2);
      return r.stderr;
    };
    fs.writeFileSync(cfg, "import { defineConfig } from 'osvd';\nexport default defineConfig({ jobs: '2' as unknown as number });\n");
    expect(error()).toMatch(/osv\.config\.ts: jobs: 'jobs' must be a whole number above 0/);
    fs.writeFileSync(cfg, 'export default { knobs: { conf_hide_symbols: [1] } };\n');
    expect(error()).toMatch(/osv\.config\.ts: knobs: 'knobs' must be an object of strings, numbers or booleans/);
    fs.writeFileSync(cfg, 'export default { daemon: { autoBuild: "yes" } };\n');
    expect(error()).toMatch(/osv\.config\.ts: daemon: 'daemon' 'daemon\.autoBuild' must be true or false/);
    fs.writeFileSync(cfg, 'const x: number = undefined as any; export default x.toFixed();\n');
    expect(error()).toMatch(/osv\.config\.ts: the config file failed to load: .*toFixed/);
    fs.writeFileSync(cfg, 'export default 42;\n');
    expect(error()).toMatch(/osv\.config\.ts: the default export must be an object/);
    // Nothing the loader wrote next to the config is left behind.
    expect(fs.readdirSync(root).filter((f) => f.startsWith('.osv.config.'))).toEqual([]);
  });

  it('why on a path outside the tree is refused with a typed error, one-shot and through the daemon', () => {
    const root = copyExample();
    for (const target of ['../../etc/passwd', '/etc/passwd', `${OUT}/../../..`]) {
      const r = osvd(root, ['why', target, '--json']);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'PATH_OUTSIDE_TREE', field: 'PATH' });
    }
    expect(osvd(root, ['why', '../../etc/passwd']).stderr).toMatch(/'..\/..\/etc\/passwd' lies outside the tree .*\n  hint: give a path inside the tree/);
    startDaemon(root);
    const viaDaemon = osvd(root, ['why', '../../etc/passwd', '--json']);
    expect(viaDaemon.code).toBe(2);
    expect(JSON.parse(viaDaemon.stdout).error.code).toBe('PATH_OUTSIDE_TREE');
    const notInGraph = osvd(root, ['why', 'include/osv/nope.h', '--json']);
    expect(JSON.parse(notInGraph.stdout).error.code).toBe('WHY_UNKNOWN_PATH');
  });

  it('oversized, garbage and half-sent requests are refused while the daemon keeps serving', async () => {
    const root = copyExample();
    startDaemon(root);
    const sock = path.join(root, 'build/.osvd/osvd.sock');
    // A client that sends half a request and waits holds only its own connection.
    const half = net.connect(sock);
    await new Promise((r) => half.once('connect', r));
    half.write('{"id":1,"method":"sta');
    // A request of 2 MB: answered with BAD_REQUEST, then the connection is closed.
    const big = await new Promise<{ reply: string; closed: boolean }>((resolve) => {
      const c = net.connect(sock, () => c.write(`{"id":2,"method":"ping","params":{"pad":"${'x'.repeat(2 * 1024 * 1024)}"}}\n`));
      let reply = '';
      c.on('data', (d) => (reply += d));
      c.on('error', () => undefined);
      c.on('close', () => resolve({ reply, closed: true }));
    });
    expect(big.closed).toBe(true);
    expect(JSON.parse(big.reply.split('\n')[0]!)).toMatchObject({ error: { code: 'BAD_REQUEST', message: expect.stringMatching(/longer than 1048576 bytes/) } });
    // Binary garbage and JSON that is not a request.
    const garbage = await new Promise<string>((resolve) => {
      const c = net.connect(sock, () => c.write(Buffer.concat([Buffer.from([0, 255, 254, 10]), Buffer.from('[1,2]\n"x"\nnull\n{"id":"7","method":42}\n')])));
      let got = '';
      c.on('data', (d) => {
        got += d;
        if (got.split('\n').filter(Boolean).length >= 5) {
          c.end();
          resolve(got);
        }
      });
    });
    for (const line of garbage.split('\n').filter(Boolean)) expect(JSON.parse(line).error.code).toBe('BAD_REQUEST');
    // Still serving, the half-sent client included.
    expect(status(root).daemon.running).toBe(true);
    const finished = new Promise<string>((resolve) => {
      let got = '';
      half.on('data', (d) => {
        got += d;
        if (got.includes('\n')) resolve(got);
      });
    });
    half.write('tus"}\n');
    expect(JSON.parse(await finished)).toMatchObject({ id: 1, result: { daemon: { running: true } } });
    half.end();
  });
});

describe('security', () => {
  function otherUser(): string[] | undefined {
    const probe = (cmd: string, args: string[]): boolean => spawnSync(cmd, [...args, 'true'], { encoding: 'utf8' }).status === 0;
    if (probe('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups'])) return ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups'];
    if (probe('runuser', ['-u', 'nobody', '--'])) return ['runuser', '-u', 'nobody', '--'];
    return undefined;
  }

  it('the socket is 0600 in a 0700 folder, another uid cannot connect, and the daemon listens on no TCP or UDP port', async (ctx) => {
    const root = copyExample();
    const pid = startDaemon(root);
    const stateDir = path.join(root, 'build/.osvd');
    const sock = path.join(stateDir, 'osvd.sock');
    expect(fs.statSync(sock).mode & 0o777).toBe(0o600);
    expect(fs.statSync(stateDir).mode & 0o777).toBe(0o700);
    // A client connected while the sockets are counted, answered once (so the daemon has accepted it).
    const client = net.connect(sock);
    await new Promise<void>((resolve) => {
      client.once('data', () => resolve());
      client.write('{"id":1,"method":"ping"}\n');
    });
    // The daemon's sockets: its one Unix socket, no internet socket.
    const inodes = fs
      .readdirSync(`/proc/${pid}/fd`)
      .map((fd) => {
        try {
          return /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        } catch {
          return undefined;
        }
      })
      .filter((x): x is string => x !== undefined);
    expect(inodes.length).toBeGreaterThan(0);
    for (const table of ['tcp', 'tcp6', 'udp', 'udp6']) {
      const text = fs.existsSync(`/proc/${pid}/net/${table}`) ? fs.readFileSync(`/proc/${pid}/net/${table}`, 'utf8') : '';
      const rows = text.split('\n').slice(1).filter(Boolean).map((l) => l.trim().split(/\s+/)[9]);
      expect(inodes.filter((i) => rows.includes(i)), `${table} sockets of the daemon`).toEqual([]);
    }
    // Its Unix sockets with a path: exactly one listening socket (flag __SO_ACCEPTCON), under the name
    // it was bound to (`.s<pid>`, renamed to osvd.sock at once: see Daemon.listen; the kernel keeps the
    // first name); any other is a connection it accepted there (it carries the listener's path: a
    // client of the moment, such as the `osvd start` that just asked whether it answers).
    const named = fs
      .readFileSync(`/proc/${pid}/net/unix`, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => inodes.includes(f[6]!) && f[7] !== undefined);
    const listening = (f: string[]): boolean => (parseInt(f[3]!, 16) & 0x10000) !== 0;
    const bound = path.join(stateDir, `.s${pid}`);
    expect(named.filter(listening).map((f) => f[7])).toEqual([bound]);
    expect(fs.existsSync(bound)).toBe(false);
    const accepted = named.filter((f) => !listening(f));
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    expect(accepted.map((f) => ({ path: f[7], state: f[5] }))).toEqual(accepted.map(() => ({ path: bound, state: '03' })));
    client.end();

    const as = otherUser();
    if (!as) {
      ctx.skip(true, 'neither setpriv nor runuser can switch to uid 65534 here: the other-uid check did not run');
      return;
    }
    const script = `require('net').connect(${JSON.stringify(sock)}).on('connect', () => { console.log('CONNECTED'); process.exit(0); }).on('error', (e) => { console.log(e.code); process.exit(1); });`;
    const r = spawnSync(as[0]!, [...as.slice(1), process.execPath, '-e', script], { encoding: 'utf8', cwd: '/' });
    expect(r.stdout.trim()).toBe('EACCES');
    expect(status(root).daemon.pid).toBe(pid);
  });

  it('knob values with shell or make syntax are refused, from --set, osvd set and osv.config.ts; a TMPDIR with quotes is quoted', () => {
    const root = copyExample();
    const pwned = path.join(root, 'pwned');
    const hostile = [`conf_drivers_profile=all; touch ${pwned}`, `fs=zfs$(touch ${pwned})`, `conf_zfs=bsd\`touch ${pwned}\``, `app_extra_symbols=a'b`];
    for (const set of hostile) {
      const r = build(root, set);
      expect(r.code, set).toBe(2);
      const error = (r as unknown as { error: { code: string; field: string; message: string } }).error;
      expect(error).toMatchObject({ code: 'KNOB', field: `--set ${set.split('=')[0]}` });
      expect(error.message).toMatch(/which osvd does not pass on to make and its shell/);
    }
    fs.writeFileSync(path.join(root, 'osv.config.ts'), `export default { knobs: { fs: 'x;touch ${pwned}' } };\n`);
    expect(osvd(root, ['status']).stderr).toMatch(/osv\.config\.ts: knobs\.fs: value 'x;touch .*' of knob 'fs' holds ';', a space/);
    fs.rmSync(path.join(root, 'osv.config.ts'));
    startDaemon(root);
    expect(osvd(root, ['set', `conf_zfs=$(touch ${pwned})`]).stderr).toMatch(/osvd set conf_zfs: value .* holds '\$', '\(', a space, '\)'/);
    osvd(root, ['stop']);
    // The environment: a temporary folder whose name a shell would split and expand.
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "osvd tmp 'q' $(touch pwned) ;"));
    const r = osvdEnv(root, ['status', '--json', '--no-daemon'], { TMPDIR: tmp });
    fs.rmSync(tmp, { recursive: true, force: true });
    expect(r.code, r.stderr).toBe(0);
    expect(fs.existsSync(pwned)).toBe(false);
  });
});

describe('the state database', () => {
  it('is checked (quick_check) when a process that had it open did not close it, or a week after the last check; not at every open', async () => {
    const { closeDatabase, openDatabase } = await import('../cache/db.js');
    const { spawnSync } = await import('node:child_process');
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-db-'));
    const file = path.join(root, 'state.db');
    const markers = (): string[] => fs.readdirSync(root).filter((f) => f.startsWith('state.db.open-'));
    try {
      const first = openDatabase(file);
      expect(first.checked).toBe(false);
      expect(markers()).toEqual([`state.db.open-${process.pid}`]);
      closeDatabase(first.db);
      expect(markers()).toEqual([]);
      const clean = openDatabase(file);
      expect(clean.checked).toBe(false);
      clean.db.close(); // as a process that dies would: its marker stays
      // The marker of a process that is gone.
      const dead = spawnSync('true').pid!;
      fs.renameSync(path.join(root, `state.db.open-${process.pid}`), path.join(root, `state.db.open-${dead}`));
      const afterCrash = openDatabase(file);
      expect(afterCrash.checked).toBe(true);
      expect(markers()).toEqual([`state.db.open-${process.pid}`]);
      afterCrash.db.prepare("UPDATE meta SET value = ? WHERE name = 'checked_at'").run(String(Date.now() - 8 * 24 * 3600 * 1000));
      closeDatabase(afterCrash.db);
      const weekLater = openDatabase(file);
      expect(weekLater.checked).toBe(true);
      closeDatabase(weekLater.db);
      const next = openDatabase(file);
      expect(next.checked).toBe(false);
      closeDatabase(next.db);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

/** A store on a new database, and 300 outputs of different sizes in its root, not yet saved. */
async function storeAndOutputs(): Promise<{ root: string; scratch: string; db: Db; store: ContentStore; records: OutputRecord[]; hashBytes: (b: Buffer) => string }> {
  const { openDatabase } = await import('../cache/db.js');
  const { ContentStore } = await import('../cache/store.js');
  const { hashBytes } = await import('../graph/hash.js');
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-store-'));
  const scratch = path.join(root, 'scratch');
  fs.mkdirSync(scratch);
  const { db } = openDatabase(path.join(root, 'state.db'));
  const store = new ContentStore(db, path.join(root, 'store'), root, { scratchDir: scratch });
  const records = Array.from({ length: 300 }, (_, i) => {
    const data = Buffer.from(`object ${i}\n`.repeat(i + 1));
    fs.writeFileSync(path.join(root, `o${i}.o`), data);
    return { path: `o${i}.o`, hash: hashBytes(data), mode: 0o644, size: data.length };
  });
  return { root, scratch, db, store, records, hashBytes };
}

describe('the store copy thread', () => {
  it('copies outputs off the main thread, in batches; a file gone before its copy is not cached and the build is not failed', async () => {
    const { root, scratch, db, store, records, hashBytes } = await storeAndOutputs();
    try {
      const gone = { path: 'gone.o', hash: hashBytes(Buffer.from('gone')), mode: 0o644, size: 4 };
      for (const r of [...records, gone]) store.save(r);
      // Not usable for a restore until copied.
      expect(store.has(records[0]!.hash)).toBe(false);
      await store.settled();
      expect(records.every((r) => store.has(r.hash))).toBe(true);
      expect(store.has(gone.hash)).toBe(false);
      expect(store.takeTroubles()).toEqual([expect.objectContaining({ op: 'save', path: 'gone.o' })]);
      // The copies are the bytes: an output deleted now comes back from the store.
      fs.rmSync(path.join(root, 'o299.o'));
      expect(store.restore(records[299]!)).toBe(true);
      expect(hashBytes(fs.readFileSync(path.join(root, 'o299.o')))).toBe(records[299]!.hash);
      expect(fs.readdirSync(scratch)).toEqual([]);
      store.close();
      db.close();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
  it('copies whose rows cannot be written (a full database) are not cached, their files removed; nothing ends the process', async () => {
    const { root, scratch, db, store, records } = await storeAndOutputs();
    try {
      // SQLite's max_page_count gives the SQLITE_FULL a full disk gives.
      db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
      for (const r of records) store.save(r);
      await store.settled();
      // The first batch's 256 rows do not fit; a later, smaller one may.
      const cached = records.filter((r) => store.has(r.hash));
      expect(cached.length).toBeLessThanOrEqual(records.length - 256);
      expect(store.takeTroubles()).toEqual([expect.objectContaining({ op: 'save', path: '256 copies', error: 'database or disk is full' })]);
      // The store's files are the cached copies', no more.
      const files = (dir: string): string[] => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => e.name);
      expect(files(path.join(root, 'store'))).toHaveLength(cached.length);
      expect(fs.readdirSync(scratch)).toEqual([]);
      // Room again: the same outputs are cached.
      db.pragma('max_page_count = 1000000');
      for (const r of records) store.save(r);
      await store.settled();
      expect(records.every((r) => store.has(r.hash))).toBe(true);
      store.close();
      db.close();
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
