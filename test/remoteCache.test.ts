import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Session } from '../daemon/session.js';
import { decodeEntry, encodeEntry, ENTRY_FILE, sha256, type ActionEntry } from '../cache/actionEntry.js';
import { appendTo, copyExample, hashTree, KERNEL_CHAIN, osvd, OUT, osvdEnv, removeCopies, sha, startDaemon, status, stopDaemons, waitFor, type BuildJson } from './helpers.js';
import { startNginx, stopNginxes, type Nginx } from './nginx.js';

/**
 * The shared cache against a real nginx (WebDAV PUT) on loopback: two checkouts at different paths
 * share results; a server that dies, answers 500, stays silent or serves a corrupt blob costs local
 * work and one warning, never a wrong or failed build; read mode never writes.
 */

interface RemoteJson {
  url: string;
  mode: string;
  hits: number;
  misses: number;
  uploads: number;
  skipped: number;
  errors: number;
  bytesDown: number;
  bytesUp: number;
  pendingUploads: number;
  warnings: string[];
}
type SharedBuild = BuildJson & { remoteCache: RemoteJson; code: number | null; stderr: string };

const SCHED = `${OUT}/core/sched.o`;
const KERNEL = `${OUT}/loader.elf`;
/**
 * The example's actions that are never shared: two whose output is a folder (the build folder; the
 * syscall headers' folder, which its generator writes three files into) and two whose recipes write
 * files they do not name (bootfs.bin's depfile, the compressed kernel beside its object), learned by
 * the builder: an entry restores what it names, and another machine's graph does not name those.
 */
const NOT_SHARED = [OUT, `${OUT}/bootfs.bin`, `${OUT}/gen/include/osv`, `${OUT}/loader-stripped.elf.lz.o`].sort();
/** The files those actions write, in the build folder. */
const NOT_SHARED_FILES = ['bootfs.bin', 'bootfs.bin.d', 'gen/include/osv/syscall_tracepoints.cc', 'gen/include/osv/syscalls.cc', 'gen/include/osv/syscalls_config.h', 'loader-stripped.elf.lz', 'loader-stripped.elf.lz.o'];
const sharedOnly = (outputs: string[]): string[] => outputs.filter((o) => !NOT_SHARED.includes(o));

function sharedBuild(root: string, env: Record<string, string>): SharedBuild {
  const r = osvdEnv(root, ['build', '--json'], { OSVD_LOG: '', ...env });
  let parsed: SharedBuild;
  try {
    parsed = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as SharedBuild;
  } catch {
    throw new Error(`osvd build printed no JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ...parsed, code: r.code, stderr: r.stderr };
}

const outputs = (r: BuildJson, kind?: string): string[] =>
  [...r.ran, ...r.restored]
    .filter((e) => kind === undefined || e.kind === kind)
    .map((e) => e.output)
    .sort();
const ran = (r: BuildJson, kind?: string): string[] =>
  r.ran
    .filter((e) => kind === undefined || e.kind === kind)
    .map((e) => e.output)
    .sort();

/** The build folder's files and hashes, without osvd's own (its state, compile_commands.json, which names the root). */
function built(root: string): Map<string, string> {
  return hashTree(path.join(root, OUT), (rel) => rel === '.osvd' || rel.startsWith('.osvd/') || rel === 'compile_commands.json');
}

/** A copy of the example tree at a deeper, longer path than copyExample's: a second checkout elsewhere. */
function copyElsewhere(): string {
  const src = copyExample();
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-test-elsewhere-'));
  const dest = path.join(parent, 'a', 'second', 'checkout');
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.renameSync(src, dest);
  fs.mkdirSync(src); // removeCopies removes the (now empty) original folder
  return dest;
}

function filesHolding(root: string, needle: string): string[] {
  const hits: string[] = [];
  for (const [rel] of built(root)) if (fs.readFileSync(path.join(root, OUT, rel)).includes(needle)) hits.push(rel);
  return hits;
}

afterAll(() => {
  stopDaemons();
  stopNginxes();
  removeCopies();
});

// The first checkout's build, into an empty cache: also the clean build every other outcome must equal.
let server: Nginx;
let first: SharedBuild;
let firstRoot: string;
let firstOutputs: Map<string, string>;

beforeAll(async () => {
  server = await startNginx('dav');
  firstRoot = copyExample();
  first = sharedBuild(firstRoot, { OSVD_CACHE_URL: server.url, OSVD_CACHE_MODE: 'readwrite' });
  firstOutputs = built(firstRoot);
});

describe('a shared cache on nginx (WebDAV)', () => {
  it('the first checkout builds and uploads every result; the second, elsewhere, with an empty store, compiles nothing', () => {
    expect(first.ok, JSON.stringify(first.failed)).toBe(true);
    // Nothing was in the cache: every action ran, was looked up once, missed, and was uploaded once,
    // but those that are not shared: each of those was offered and skipped.
    expect(first.restored).toEqual([]);
    expect(ran(first)).toEqual(expect.arrayContaining(NOT_SHARED));
    const shared = first.ran.length - NOT_SHARED.length;
    expect(first.remoteCache).toMatchObject({ hits: 0, misses: first.ran.length, uploads: shared, skipped: NOT_SHARED.length, errors: 0, bytesDown: 0, pendingUploads: 0, warnings: [] });
    expect(server.stored('ac')).toHaveLength(shared);
    // The blobs are the build folder's files, each once, named by the SHA-256 of its bytes, but those
    // the actions that are not shared write.
    const sharedFiles = [...firstOutputs].filter(([rel]) => !NOT_SHARED_FILES.includes(rel));
    expect(server.stored('cas')).toEqual([...new Set(sharedFiles.map(([, hash]) => hash))].sort());
    // The root does not appear in any output: objects record '.' as their folder.
    expect(filesHolding(firstRoot, firstRoot)).toEqual([]);

    const secondRoot = copyElsewhere();
    const before = server.requests().length;
    const second = sharedBuild(secondRoot, { OSVD_CACHE_URL: server.url, OSVD_CACHE_MODE: 'read' });
    expect(second.ok, JSON.stringify(second.failed)).toBe(true);
    // Every shared result comes from the cache; only the actions that are not shared run (the build
    // folder's may find its folder made by a restore by then).
    expect(ran(second, 'compile')).toEqual([]);
    expect(ran(second).filter((o) => o !== OUT)).toEqual(NOT_SHARED.filter((o) => o !== OUT));
    expect(second.restored.length).toBe(shared);
    expect(outputs(second).filter((o) => o !== OUT)).toEqual(outputs(first).filter((o) => o !== OUT));
    // Read mode offers nothing for upload: nothing is skipped either.
    expect(second.remoteCache).toMatchObject({ hits: shared, misses: NOT_SHARED.length, uploads: 0, skipped: 0, errors: 0, bytesDown: first.remoteCache.bytesUp, bytesUp: 0, warnings: [] });
    // The same bytes as the first checkout's, and no trace of either checkout's path.
    expect(built(secondRoot)).toEqual(firstOutputs);
    expect(filesHolding(secondRoot, secondRoot)).toEqual([]);
    // Reading never writes.
    expect(server.requests().slice(before).filter((l) => !/"(GET|HEAD) /.test(l))).toEqual([]);

    // osvd stats counts the same, for each tree, with the cache it is configured with.
    const stats = (root: string, mode: string): unknown => JSON.parse(osvdEnv(root, ['stats', '--json'], { OSVD_LOG: '', OSVD_CACHE_URL: server.url, OSVD_CACHE_MODE: mode }).stdout).shared;
    expect(stats(firstRoot, 'readwrite')).toEqual({ url: server.url, mode: 'readwrite', hits: 0, misses: first.ran.length, uploads: shared, skipped: NOT_SHARED.length, errors: 0, bytesDown: 0, bytesUp: first.remoteCache.bytesUp });
    expect(stats(secondRoot, 'read')).toEqual({ url: server.url, mode: 'read', hits: shared, misses: NOT_SHARED.length, uploads: 0, skipped: 0, errors: 0, bytesDown: first.remoteCache.bytesUp, bytesUp: 0 });
    const text = osvdEnv(firstRoot, ['stats'], { OSVD_LOG: '', OSVD_CACHE_URL: server.url, OSVD_CACHE_MODE: 'readwrite' }).stdout;
    expect(text).toContain(`: 0 hits, ${first.ran.length} misses, ${shared} uploads, ${NOT_SHARED.length} skipped, 0 errors; `);
    expect(JSON.parse(osvd(secondRoot, ['stats', '--json']).stdout).shared).toBeNull();
  });

  it('a corrupt blob is caught by its hash: that one object is compiled, everything else restored, the kernel the same', () => {
    const blob = path.join(server.data, 'cas', sha(path.join(firstRoot, SCHED)));
    const good = fs.readFileSync(blob);
    const rotten = Buffer.from(good);
    rotten[rotten.length >> 1] ^= 0xff;
    fs.writeFileSync(blob, rotten);
    try {
      const root = copyElsewhere();
      const r = sharedBuild(root, { OSVD_CACHE_URL: server.url, OSVD_CACHE_MODE: 'read' });
      expect(r.ok, JSON.stringify(r.failed)).toBe(true);
      expect(ran(r, 'compile')).toEqual([SCHED]);
      expect(ran(r, 'link')).toEqual([]);
      expect(r.remoteCache.errors).toBe(1);
      expect(r.remoteCache.warnings).toEqual([expect.stringMatching(/does not match its hash/)]);
      expect(r.stderr.match(/osvd: warning:/g)).toHaveLength(1);
      expect(built(root)).toEqual(firstOutputs);
    } finally {
      fs.writeFileSync(blob, good);
    }
  });

  it('an entry the server garbles (an error page where the entry was) is unusable: that one object is compiled, one warning', () => {
    const name = server.stored('ac').find((n) => {
      const decoded = decodeEntry(fs.readFileSync(path.join(server.data, 'ac', n)));
      return 'entry' in decoded && decoded.entry.traces[0]!.outputs.some((o) => o.path === SCHED);
    });
    expect(name).toBeDefined();
    const file = path.join(server.data, 'ac', name!);
    const good = fs.readFileSync(file);
    fs.writeFileSync(file, '<html><body>502 Bad Gateway</body></html>\n');
    try {
      const root = copyElsewhere();
      const r = sharedBuild(root, { OSVD_CACHE_URL: server.url, OSVD_CACHE_MODE: 'read' });
      expect(r.ok, JSON.stringify(r.failed)).toBe(true);
      expect(ran(r, 'compile')).toEqual([SCHED]);
      expect(ran(r, 'link')).toEqual([]);
      expect(r.remoteCache).toMatchObject({ hits: first.ran.length - NOT_SHARED.length - 1, errors: 1 });
      expect(r.remoteCache.warnings).toEqual([`remote cache ${server.url}: the entry under /ac/${name!.slice(0, 12)}... is unusable: ${(decodeEntry(fs.readFileSync(file)) as { garbage: string }).garbage}`]);
      expect(r.stderr.match(/osvd: warning:/g)).toHaveLength(1);
      expect(built(root)).toEqual(firstOutputs);
    } finally {
      fs.writeFileSync(file, good);
    }
  });

  it('an entry is trusted only for what it names: one naming a device to hash, or a file the action does not write, is a miss', () => {
    // Rewrite two entries in the server's folder, as a hostile or broken writer could.
    const MUTEX = `${OUT}/core/mutex.o`;
    const rewritten: [string, Buffer][] = [];
    for (const name of server.stored('ac')) {
      const file = path.join(server.data, 'ac', name);
      const bytes = fs.readFileSync(file);
      const decoded = decodeEntry(bytes);
      if (!('entry' in decoded)) throw new Error(`entry ${name} does not decode`);
      const [trace] = decoded.entry.traces;
      const outputsOf = trace!.outputs.map((o) => o.path);
      let changed: ActionEntry | undefined;
      if (outputsOf.includes(SCHED)) changed = { traces: [{ ...trace!, deps: [['/dev/zero', 'a'.repeat(40)], ...trace!.deps] }] };
      if (outputsOf.includes(MUTEX)) changed = { traces: [{ ...trace!, outputs: [...trace!.outputs, { ...trace!.outputs[0]!, path: `${OUT}/core/planted.o` }] }] };
      if (!changed) continue;
      rewritten.push([file, bytes]);
      fs.writeFileSync(file, encodeEntry(changed));
    }
    expect(rewritten).toHaveLength(2);
    try {
      const root = copyElsewhere();
      const r = sharedBuild(root, { OSVD_CACHE_URL: server.url, OSVD_CACHE_MODE: 'read' });
      expect(r.ok, JSON.stringify(r.failed)).toBe(true);
      expect(sharedOnly(ran(r))).toEqual([MUTEX, SCHED].sort());
      expect(r.remoteCache).toMatchObject({ hits: first.ran.length - NOT_SHARED.length - 2, misses: NOT_SHARED.length + 2, errors: 0 });
      expect(fs.existsSync(path.join(root, OUT, 'core/planted.o'))).toBe(false);
      expect(built(root)).toEqual(firstOutputs);
    } finally {
      for (const [file, bytes] of rewritten) fs.writeFileSync(file, bytes);
    }
  });

  it('a server killed in the middle of a build: what came before is restored, the rest is built here, the outputs are right', async () => {
    // A second server on the same cache folder, so the other tests keep theirs.
    const doomed = await startNginx('dav', server.data);
    const root = copyElsewhere();
    fs.writeFileSync(path.join(root, 'osv.config.ts'), `export default { cache: { url: ${JSON.stringify(doomed.url)}, mode: 'read', timeoutMs: 5000 } };\n`);
    const session = await Session.open({ cwd: root, root });
    let killedAfter: string | undefined;
    let result;
    let mostRunning = 0;
    try {
      const loaded = await session.graph(session.project());
      result = await session.build(loaded, (e) => {
        if (e.type === 'start') mostRunning = Math.max(mostRunning, e.running);
        // The first object restored from the cache: the link, which waits for every object, is asked after this.
        if (!killedAfter && e.type === 'done' && e.state === 'restored' && e.kind === 'compile') {
          killedAfter = e.output;
          doomed.kill();
        }
      });
    } finally {
      session.close();
    }
    expect(killedAfter).toBeDefined();
    // The lookups that failed together start their actions within the job limit, not all at once.
    expect(mostRunning).toBe(session.base.jobs);
    expect(result.ok, JSON.stringify(result.failed)).toBe(true);
    expect(result.ran.map((e) => e.output)).toContain(KERNEL);
    expect(result.restored.map((e) => e.output)).toContain(killedAfter);
    expect(result.remoteCache!.errors).toBeGreaterThan(0);
    expect(result.remoteCache!.warnings).toHaveLength(1);
    expect(built(root)).toEqual(firstOutputs);
  });
});

describe('through the daemon', () => {
  it('a daemon restores from the cache, and uploads what it built before it stops', () => {
    const root = copyElsewhere();
    appendTo(root, 'core/sched.cc', '\nint osvd_shared_probe() { return 7; }\n');
    const entries = server.stored('ac').length;
    startDaemon(root, { OSVD_CACHE_URL: server.url, OSVD_CACHE_MODE: 'readwrite' });
    const r = JSON.parse(osvd(root, ['build', '--json']).stdout) as SharedBuild;
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    // The edited object and the kernel's link chain after it (a new kernel), and what is never shared.
    const changed = sharedOnly([SCHED, ...KERNEL_CHAIN]).sort();
    expect(sharedOnly(ran(r))).toEqual(changed);
    expect(r.remoteCache).toMatchObject({ hits: first.ran.length - NOT_SHARED.length - changed.length, misses: NOT_SHARED.length + changed.length, errors: 0 });
    // The daemon answers before its uploads are done; it finishes them before it exits.
    expect(osvd(root, ['stop']).code).toBe(0);
    expect(server.stored('ac')).toHaveLength(entries + changed.length);
  });


  it('a daemon whose config gains a cache uses it from its next build: objects stop naming the tree, and come from the cache', async () => {
    const root = copyElsewhere();
    const config = path.join(root, 'osv.config.ts');
    fs.writeFileSync(config, 'export default {};\n');
    startDaemon(root);
    const local = JSON.parse(osvd(root, ['build', '--json']).stdout) as SharedBuild;
    expect(local.ok, JSON.stringify(local.failed)).toBe(true);
    expect(local).not.toHaveProperty('remoteCache');
    // Without a cache the commands are make's: an object names the folder it was compiled in.
    expect(filesHolding(root, root)).toContain('core/sched.o');
    fs.writeFileSync(config, `export default { cache: { url: ${JSON.stringify(server.url)}, mode: 'read' } };\n`);
    // The root mapped away changes every compile command: once the daemon has read the config again, they are to run.
    await waitFor('the daemon to read the config again', () => status(root).dirty.run > 0);
    const r = JSON.parse(osvd(root, ['build', '--json']).stdout) as SharedBuild;
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    // What is not shared runs; every compile, the kernel's link among them, comes from the cache (the
    // actions whose commands name no compiler are still up to date here).
    expect(ran(r)).toEqual([`${OUT}/bootfs.bin`, `${OUT}/loader-stripped.elf.lz.o`]);
    expect(ran(r, 'compile')).toEqual([]);
    expect(r.restored.map((e) => e.output)).toEqual(expect.arrayContaining([SCHED, KERNEL]));
    expect(r.remoteCache).toMatchObject({ mode: 'read', misses: r.ran.length, uploads: 0, errors: 0 });
    expect(r.remoteCache.hits).toBeGreaterThanOrEqual(r.restored.length);
    expect(built(root)).toEqual(firstOutputs);
    expect(filesHolding(root, root)).toEqual([]);
  });
});

describe('headers the graph does not know yet', () => {
  it("an action whose rule misses its generated header waits for it when a shared result names it, then restores", async () => {
    // OSv's tools/cpiod objects read a generated header without an order-only edge to its generator:
    // on an empty store the graph cannot know it, but the shared trace does.
    const withProbe = (root: string): string => {
      fs.mkdirSync(path.join(root, 'extra'));
      fs.writeFileSync(path.join(root, 'extra/probe.cc'), '#include <osv/drivers_config.h>\nint probe() { return CONF_drivers_virtio; }\n');
      appendTo(root, 'Makefile', `\n$(out)/loader.elf: | $(out)/extra/probe.o\n$(out)/extra/probe.o: extra/probe.cc\n\t$(makedir)\n\t$(call quiet, $(CXX) $(CXXFLAGS) -c -o $@ $<, CXX extra/probe.cc)\n`);
      return root;
    };
    const own = await startNginx('dav');
    const env = { OSVD_CACHE_URL: own.url };
    const a = sharedBuild(withProbe(copyExample()), { ...env, OSVD_CACHE_MODE: 'readwrite' });
    expect(a.ok, JSON.stringify(a.failed)).toBe(true);
    expect(ran(a, 'compile')).toContain(`${OUT}/extra/probe.o`);
    const b = sharedBuild(withProbe(copyElsewhere()), { ...env, OSVD_CACHE_MODE: 'read' });
    expect(b.ok, JSON.stringify(b.failed)).toBe(true);
    expect(ran(b, 'compile')).toEqual([]);
    expect(b.restored.map((e) => e.output)).toContain(`${OUT}/extra/probe.o`);
  });
});

describe('plain assembler', () => {
  it('an object assembled from a `.s` file (no preprocessing, so no depfile despite -MD) is uploaded, then restored elsewhere', async () => {
    // OSv's setjmp.s, getcontext.s and others: their rule names -MD, gcc writes no depfile for them, and
    // a result whose declared outputs were not all written was never uploaded.
    const withAsm = (root: string): string => {
      fs.mkdirSync(path.join(root, 'extra'));
      fs.writeFileSync(path.join(root, 'extra/probe.s'), '.text\n.globl osvd_probe\nosvd_probe:\n\tret\n');
      appendTo(root, 'Makefile', `\n$(out)/loader.elf: | $(out)/extra/probe.o\n$(out)/extra/probe.o: extra/probe.s\n\t$(makedir)\n\t$(call quiet, $(CC) $(ASFLAGS) -c -o $@ $<, AS extra/probe.s)\n`);
      return root;
    };
    const PROBE = `${OUT}/extra/probe.o`;
    const own = await startNginx('dav');
    const env = { OSVD_CACHE_URL: own.url };
    const aRoot = withAsm(copyExample());
    const a = sharedBuild(aRoot, { ...env, OSVD_CACHE_MODE: 'readwrite' });
    expect(a.ok, JSON.stringify(a.failed)).toBe(true);
    expect(ran(a, 'compile')).toContain(PROBE);
    expect(fs.existsSync(path.join(aRoot, OUT, 'extra/probe.d'))).toBe(false);
    expect(a.remoteCache).toMatchObject({ misses: a.ran.length, uploads: a.ran.length - NOT_SHARED.length, skipped: NOT_SHARED.length, errors: 0 });
    expect(own.stored('cas')).toContain(sha(path.join(aRoot, PROBE)));
    const b = sharedBuild(withAsm(copyElsewhere()), { ...env, OSVD_CACHE_MODE: 'read' });
    expect(b.ok, JSON.stringify(b.failed)).toBe(true);
    expect(ran(b, 'compile')).toEqual([]);
    expect(b.restored.map((e) => e.output)).toContain(PROBE);
  });
});

describe('a cache that fails', () => {
  it('a server that answers 500 to everything: every action runs here, one warning, the outputs of a clean build', async () => {
    const failing = await startNginx('error500');
    const root = copyElsewhere();
    const r = sharedBuild(root, { OSVD_CACHE_URL: failing.url, OSVD_CACHE_MODE: 'readwrite' });
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    expect(r.restored).toEqual([]);
    expect(r.remoteCache.hits).toBe(0);
    expect(r.remoteCache.uploads).toBe(0);
    expect(r.remoteCache.errors).toBeGreaterThan(0);
    expect(r.remoteCache.warnings).toEqual([expect.stringMatching(/answered 500/)]);
    expect(r.stderr.match(/osvd: warning:/g)).toHaveLength(1);
    expect(built(root)).toEqual(firstOutputs);
    // Three 500s in a row take the server as down: the rest of the build does not ask it (the first
    // requests are in flight together: at most 3 + 7 reach it, of one lookup per action and the uploads).
    const asked = failing.requests().length;
    expect(asked).toBeGreaterThanOrEqual(3);
    expect(asked).toBeLessThanOrEqual(10);
  });

  it('a server that never answers costs one timeout: the build is local and says so once', async () => {
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const root = copyElsewhere();
      const r = sharedBuild(root, { OSVD_CACHE_URL: `http://127.0.0.1:${port}`, OSVD_CACHE_MODE: 'readwrite', OSVD_CACHE_TIMEOUT_MS: '300' });
      expect(r.ok, JSON.stringify(r.failed)).toBe(true);
      expect(r.restored).toEqual([]);
      expect(r.remoteCache.hits).toBe(0);
      expect(r.remoteCache.warnings).toEqual([expect.stringMatching(/no answer within 300 ms/)]);
      expect(r.stderr.match(/osvd: warning:/g)).toHaveLength(1);
      expect(built(root)).toEqual(firstOutputs);
    } finally {
      silent.close();
    }
  });
});

describe('modes and credentials', () => {
  it('read mode looks up and never uploads', async () => {
    const empty = await startNginx('dav');
    const root = copyExample();
    const r = sharedBuild(root, { OSVD_CACHE_URL: empty.url, OSVD_CACHE_MODE: 'read' });
    expect(r.ok).toBe(true);
    // One lookup per action, each a miss, and no other request.
    expect(r.remoteCache).toMatchObject({ hits: 0, misses: r.ran.length, uploads: 0, skipped: 0, errors: 0, bytesDown: 0, bytesUp: 0 });
    const requests = empty.requests();
    expect(requests).toHaveLength(r.ran.length);
    expect(requests.filter((l) => /"GET \/ac\/[0-9a-f]{64} HTTP\/1.1" 404 /.test(l))).toHaveLength(r.ran.length);
    expect(empty.stored('ac')).toEqual([]);
    expect(empty.stored('cas')).toEqual([]);
  });

  it('credentials come from OSVD_CACHE_AUTH and never reach the output, the JSON, the log or the build\'s commands', async () => {
    const guarded = await startNginx('davWithAuth');
    // Without them, uploads are refused: one warning, and the build is fine.
    const a = sharedBuild(copyExample(), { OSVD_CACHE_URL: guarded.url, OSVD_CACHE_MODE: 'readwrite' });
    expect(a.ok).toBe(true);
    expect(a.remoteCache.uploads).toBe(0);
    expect(a.remoteCache.warnings).toEqual([expect.stringMatching(/refused access \(401\)/)]);
    const root = copyExample();
    // An action that writes its environment down: the build's commands never see the credentials either.
    appendTo(root, 'Makefile', `\n$(out)/loader.elf: | $(out)/env.txt\n$(out)/env.txt:\n\t$(makedir)\n\tenv > $@\n`);
    const env = { OSVD_CACHE_URL: guarded.url, OSVD_CACHE_MODE: 'readwrite', OSVD_CACHE_AUTH: 'ci:secret' };
    const r = osvdEnv(root, ['build', '--json'], { ...env, OSVD_LOG: '' });
    const json = JSON.parse(r.stdout) as SharedBuild;
    expect(json.ok).toBe(true);
    expect(json.remoteCache.uploads).toBeGreaterThan(0);
    expect(json.remoteCache.errors).toBe(0);
    const commandsSaw = fs.readFileSync(path.join(root, OUT, 'env.txt'), 'utf8');
    expect(commandsSaw).toMatch(/^PATH=/m);
    const text = [r.stdout, r.stderr, fs.readFileSync(path.join(root, 'build/.osvd/osvd.log'), 'utf8'), commandsSaw].join('\n');
    expect(text).not.toContain('secret');
    expect(text).not.toContain(Buffer.from('ci:secret').toString('base64'));
    expect(text).toContain(guarded.url);
  });

  it('a wrong cache setting is an error naming the file and the field, or the variable', () => {
    const root = copyExample();
    fs.writeFileSync(path.join(root, 'osv.config.ts'), `export default { cache: { url: 'ftp://cache.example', mode: 'read' } };\n`);
    const bad = osvdEnv(root, ['build'], {});
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${path.join(root, 'osv.config.ts')}: cache: 'cache' 'cache.url' must be an http:// or https:// URL`);
    fs.writeFileSync(path.join(root, 'osv.config.ts'), `export default { cache: { url: 'http://u:pw@cache.example', mode: 'read' } };\n`);
    expect(osvdEnv(root, ['build'], {}).stderr).toContain('must not hold credentials: put them in OSVD_CACHE_AUTH');
    fs.writeFileSync(path.join(root, 'osv.config.ts'), `export default { cache: { url: 'http://cache.example', mode: 'write' } };\n`);
    expect(osvdEnv(root, ['build'], {}).stderr).toContain(`'cache.mode' must be 'read' or 'readwrite'`);
    fs.rmSync(path.join(root, 'osv.config.ts'));
    const env = osvdEnv(root, ['build'], { OSVD_CACHE_URL: 'http://127.0.0.1:9', OSVD_CACHE_MODE: 'sometimes' });
    expect(env.code).toBe(2);
    expect(env.stderr).toContain(`the environment: OSVD_CACHE_MODE: OSVD_CACHE_MODE must be 'read' or 'readwrite' (it is 'sometimes')`);
  });
});

describe('the action entry', () => {
  const entry: ActionEntry = {
    traces: [
      {
        deps: [['include/osv/types.h', 'a'.repeat(40)], ['/usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h', 'b'.repeat(40)]],
        outputs: [
          { path: 'build/release.x64/core/sched.o', hash: 'c'.repeat(40), sha256: 'c'.repeat(64), mode: 0o644, size: 10 },
          { path: 'build/last', hash: 'link:release.x64', mode: 0o777, size: 0 },
        ],
        durationMs: 1200,
      },
    ],
  };

  it('is an ActionResult with one inlined output file, read back field for field, whatever fields a server adds', () => {
    const bytes = encodeEntry(entry);
    expect(bytes.includes(Buffer.from(ENTRY_FILE))).toBe(true);
    expect(decodeEntry(bytes)).toEqual({ entry });
    // bazel-remote adds execution_metadata (field 9) with the worker's address; exit_code 0 is a varint.
    const metadata = Buffer.concat([Buffer.from([(9 << 3) | 2, 5, (1 << 3) | 2, 3]), Buffer.from('ci1'), Buffer.from([4 << 3, 0])]);
    expect(decodeEntry(Buffer.concat([bytes, metadata]))).toEqual({ entry });
  });

  it('garbage, a changed entry, or a trace that points outside the tree is refused', () => {
    expect(decodeEntry(Buffer.from('<html>502 Bad Gateway</html>'))).toHaveProperty('garbage');
    const bytes = encodeEntry(entry);
    expect(decodeEntry(bytes.subarray(0, bytes.length - 3))).toHaveProperty('garbage');
    const changed = Buffer.from(bytes);
    changed[changed.indexOf('sched.o')] = 'S'.charCodeAt(0);
    expect(decodeEntry(changed)).toEqual({ garbage: 'the entry does not match its digest' });
    const outside = encodeEntry({ traces: [{ ...entry.traces[0]!, outputs: [{ path: 'build/last', hash: 'link:/etc', mode: 0o777, size: 0 }] }] });
    expect(decodeEntry(outside)).toEqual({ garbage: 'a trace of the entry is malformed' });
    const wrongSha = encodeEntry({ traces: [{ ...entry.traces[0]!, outputs: [{ path: 'x.o', hash: 'c'.repeat(40), sha256: 'd'.repeat(64), mode: 0o644, size: 1 }] }] });
    expect(decodeEntry(wrongSha)).toEqual({ garbage: 'a trace of the entry is malformed' });
    expect(sha256(Buffer.from(''))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});
