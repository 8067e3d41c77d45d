import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../cache/db.js';
import { FileState } from '../cache/fileState.js';
import { ContentStore } from '../cache/store.js';
import { StringPool } from '../cache/strings.js';
import { TraceDb } from '../cache/traceDb.js';
import type { Action } from '../graph/action.js';
import { build } from '../graph/builder.js';
import { distccSlots, parseDistccHosts } from '../graph/distccHosts.js';
import { readDistccLog } from '../graph/distccLauncher.js';
import { BuildGraph } from '../graph/graph.js';
import { IceccLauncher } from '../graph/iceccLauncher.js';
import { prefixProgram, type Launcher } from '../graph/launcher.js';
import { unwrapCompiler, withoutWrappers } from '../osv/compilerWrappers.js';
import { compileLineOf, recipeFacts, withLaunchArgs } from '../osv/recipes.js';

const made: string[] = [];
afterAll(() => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true });
});

/** What distcc itself makes of a host list: its slot count (`distcc -j`), or undefined when it rejects the list. */
function distccJ(hosts: string): number | undefined {
  const r = spawnSync('distcc', ['-j'], { env: { ...process.env, DISTCC_HOSTS: hosts }, encoding: 'utf8' });
  // distcc -j exits 0 even when it cannot read the list; it then prints no number.
  return /^\d+\n$/.test(r.stdout) && !/ERROR|CRITICAL/.test(r.stderr) ? Number(r.stdout) : undefined;
}

describe("distcc's host list", () => {
  const valid = [
    'localhost',
    'localhost/3',
    'a b c',
    'a/8,lzo b:4000/3 c/2:4001',
    '[::1]:3632/5',
    'user@box/6',
    'user@box/6:/opt/bin/distccd,lzo',
    'a/3,lzo,cpp',
    '--randomize a/2 localhost/1',
    '--localslots=3 a/2',
    '--localslots_cpp=9 a/1',
    '# the fast ones\n a/2 # second\n b',
    'localhostx/3',
  ];
  const invalid = ['a:notaport', 'a,zip', 'localhost/x', '@/3', 'a/0', 'a/x', 'a,cpp', '', '  # only a comment'];

  it('counts the slots `distcc -j` counts, for every form of entry', () => {
    for (const hosts of valid) expect([hosts, distccSlots(parseDistccHosts(hosts))]).toEqual([hosts, distccJ(hosts)]);
  });

  it('rejects, naming the entry, the lists distcc rejects', () => {
    for (const hosts of invalid) {
      expect([hosts, distccJ(hosts)]).toEqual([hosts, undefined]);
      expect(() => parseDistccHosts(hosts), hosts).toThrow(hosts.trim() && !hosts.includes('#') ? `'${hosts}'` : 'no hosts');
    }
  });

  it('reads the parts of an entry', () => {
    const [box, v6, ssh] = parseDistccHosts('box:4000/3,lzo [::1]/5 me@far/2:/opt/distccd').hosts;
    expect(box).toMatchObject({ mode: 'tcp', hostname: 'box', port: 4000, slots: 3, lzo: true, pump: false });
    expect(v6).toMatchObject({ mode: 'tcp', hostname: '::1', port: 3632, slots: 5 });
    expect(ssh).toMatchObject({ mode: 'ssh', hostname: 'far', user: 'me', slots: 2 });
  });
});

describe("distcc's log", () => {
  it('tells remote compiles, local ones and those that fell back, with the reason', () => {
    const log = [
      'distcc[10] compile from a.c to a.o',
      'distcc[10] exec on 10.0.0.7:3632/4: gcc -c a.c -o a.o',
      'distcc[11] ERROR: nonblocking connect to 10.0.0.9:3632 failed: Connection refused',
      'distcc[11] Warning: failed to distribute b.c to 10.0.0.9:3632/4, running locally instead',
      'distcc[10] compile a.c on 10.0.0.7:3632/4 completed ok',
      'distcc[12] (dcc_build_somewhere) Warning: failed to distribute, running locally instead',
      'distcc[11] compile b.c on localhost completed ok',
      'distcc[12] compile c.c on localhost completed ok',
      'distcc[13] cpp d.S on localhost completed ok',
      'distcc[13] compile d.S on localhost completed ok',
      // distcc 3.4 takes no .S for a source: it runs such a compile here and names it "(null)".
      'distcc[14] (dcc_scan_args) no visible input file',
      'distcc[14] exec on localhost: x86_64-linux-gnu-gcc -MD -MT out/e.o -MP -I include -c -o out/e.o arch/e.S -MF out/e.d',
      'distcc[14] compile (null) on localhost completed ok',
      'distcc[11] (dcc_exit) exit: code 0; self: 0.001 user 0.002 sys',
    ].join('\n');
    const r = readDistccLog(log);
    expect(r.remote).toBe(1);
    expect(r.byHost).toEqual({ '10.0.0.7:3632/4': 1 });
    expect(r.here).toEqual(['d.S', 'arch/e.S']);
    expect(r.fellBack).toEqual([
      { source: 'b.c', host: '10.0.0.9:3632/4', reason: 'nonblocking connect to 10.0.0.9:3632 failed: Connection refused' },
      { source: 'c.c', reason: 'no host could take it: each was backing off after a failure (DISTCC_BACKOFF_PERIOD, 60 s by default)' },
    ]);
    expect(r.errors).toEqual(['nonblocking connect to 10.0.0.9:3632 failed: Connection refused']);
  });
});

describe('compiler wrappers', () => {
  it('keep a compile a compile, of the compiler behind them', () => {
    const line = 'ccache g++ -O2 -MD -c -o out/a.o a.cc';
    expect(recipeFacts(['mkdir -p out', line], ['out/a.o'])).toEqual({ kind: 'compile', depfile: 'out/a.d', wrappers: ['ccache'] });
    expect(recipeFacts(['/usr/bin/distcc gcc -c -o a.o a.c'], ['a.o']).kind).toBe('compile');
    expect(recipeFacts(['distcc -c -o a.o a.c'], ['a.o']).kind).toBe('compile');
    expect(recipeFacts(['sccache g++ -o k.elf a.o'], ['k.elf']).kind).toBe('link');
    expect(compileLineOf(['mkdir -p out', line])).toEqual({ index: 1, wrappers: ['ccache'], launchArgs: ['-MF', 'out/a.d'] });
    expect(unwrapCompiler({ program: 'ccache', args: ['distcc', 'g++', '-c', 'a.cc'] })).toEqual({ program: 'g++', args: ['-c', 'a.cc'], wrappers: ['ccache', 'distcc'] });
  });

  it("of a recipe that compiles then links (OSv's libvdso.so) are kept, and a distcc there gets the depfile named", () => {
    const recipe = ['distcc g++ -MD -c -o out/v.o v.cc', 'ld -shared -o out/v.so out/v.o'];
    expect(recipeFacts(recipe, ['out/v.so'])).toEqual({ kind: 'link', depfile: 'out/v.d', wrappers: ['distcc'] });
    expect(withLaunchArgs(recipe)).toEqual(['distcc g++ -MD -c -o out/v.o v.cc -MF out/v.d', recipe[1]]);
    // Without a distributor the recipe is left as it is; a plain link has no wrappers.
    expect(withLaunchArgs(['ccache g++ -MD -c -o out/v.o v.cc', recipe[1]!])).toEqual(['ccache g++ -MD -c -o out/v.o v.cc', recipe[1]]);
    expect(recipeFacts(['g++ -MD -c -o out/v.o v.cc', recipe[1]!], ['out/v.so'])).toEqual({ kind: 'link', depfile: 'out/v.d' });
  });

  it('are left out of compile_commands.json, and the launcher goes in front of the compiler', () => {
    expect(withoutWrappers('ccache g++ -c a.cc')).toBe('g++ -c a.cc');
    expect(withoutWrappers('/usr/bin/ccache /usr/lib/distcc/distcc gcc -c a.c')).toBe('gcc -c a.c');
    expect(withoutWrappers('distcc -c a.c')).toBe('cc -c a.c');
    expect(withoutWrappers('g++ -c distcc.cc')).toBe('g++ -c distcc.cc');
    expect(prefixProgram('g++ -c a.cc', 'distcc')).toBe('distcc g++ -c a.cc');
    expect(prefixProgram('LANG=C g++ -c a.cc', 'distcc')).toBe('LANG=C distcc g++ -c a.cc');
    expect(prefixProgram("X='a b' g++ -c a.cc", 'distcc')).toBeUndefined();
  });
});

describe('a launcher', () => {
  const compile = (line: string): Action => ({ id: 'out/a.o', kind: 'compile', commands: ['mkdir -p out', line], cwd: '.', env: { PATH: '/usr/bin' }, keyEnv: {}, inputs: [], orderAfter: [], outputs: ['out/a.o'] });
  const icecc = new IceccLauncher({ slots: 8, compileLine: (a) => compileLineOf(a.commands) });

  it('goes in front of the compiler, names the depfile, and leaves the other lines alone', () => {
    const run = icecc.launch(compile('g++ -MD -MT out/a.o -MP -c -o out/a.o a.cc'))!;
    expect(run.commands).toEqual(['mkdir -p out', 'icecc g++ -MD -MT out/a.o -MP -c -o out/a.o a.cc -MF out/a.d']);
    expect(icecc.launch(compile('g++ -MD -MF out/a.dep -c -o out/a.o a.cc'))!.commands[1]).toBe('icecc g++ -MD -MF out/a.dep -c -o out/a.o a.cc');
  });

  it("lets ccache call it, leaves another distributor's line as it is, and counts what it launched", () => {
    icecc.begin();
    const action = compile('ccache g++ -c -o out/a.o a.cc');
    const viaCcache = icecc.launch(action)!;
    expect(viaCcache.commands).toEqual(action.commands);
    expect(viaCcache.env).toEqual({ PATH: '/usr/bin', CCACHE_PREFIX: 'icecc' });
    expect(icecc.launch(action)!.env).toBe(viaCcache.env);
    expect(icecc.launch(compile('distcc g++ -c -o out/a.o a.cc'))).toBeUndefined();
    expect(icecc.launch({ ...compile('ld -o k.elf a.o'), kind: 'link' })).toBeUndefined();
    expect(icecc.report()).toEqual({ tool: 'icecc', slots: 8, hosts: [], launched: 2, fellBack: [] });
  });
});

describe('job slots', () => {
  it('launched actions take the launcher slots, the others keep the local job count', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-slots-'));
    made.push(root);
    const { db } = openDatabase(path.join(root, 'state.db'));
    const strings = new StringPool();
    const scratch = path.join(root, 'tmp');
    fs.mkdirSync(scratch);
    const services = { files: new FileState(db, root, strings), traces: new TraceDb(db, strings), store: new ContentStore(db, path.join(root, 'store'), root, { scratchDir: scratch }) };
    // Each action notes how many of its pool run when it starts. Three launched ones also wait until
    // all three have started (or fail after 30 s): with three launcher slots they must run together.
    const step = (id: string, pool: string, barrier: boolean): string =>
      `mkdir -p run/${pool} arrived && touch run/${pool}/${id} && ls run/${pool} | wc -l > seen-${id}` +
      (barrier ? ` && touch arrived/${id} && i=0; until [ $(ls arrived | wc -l) -ge 3 ]; do i=$((i+1)); [ $i -lt 600 ] || exit 1; sleep 0.05; done` : ' && sleep 0.2') +
      ` && rm run/${pool}/${id} && echo ${id} > ${id}.out`;
    const action = (id: string, kind: Action['kind'], pool: string, barrier = false): Action => ({
      id: `${id}.out`,
      kind,
      commands: [step(id, pool, barrier)],
      cwd: '.',
      env: { PATH: process.env.PATH! },
      keyEnv: {},
      inputs: [],
      orderAfter: [],
      outputs: [`${id}.out`],
    });
    const actions = [...['c1', 'c2', 'c3'].map((id) => action(id, 'compile', 'launched', true)), ...['c4', 'c5', 'c6'].map((id) => action(id, 'compile', 'launched')), ...['g1', 'g2', 'g3'].map((id) => action(id, 'generate', 'local'))];
    let launched = 0;
    const launcher: Launcher = {
      tool: 'test',
      slots: 3,
      launch: (a) => (a.kind === 'compile' ? (launched++, { commands: a.commands, env: a.env }) : undefined),
      begin: () => undefined,
      report: () => ({ tool: 'test', slots: 3, hosts: [], launched, fellBack: [] }),
    };
    const r = await build(new BuildGraph(actions), services, { root, jobs: 1, context: {}, launcher, scratchDir: scratch });
    // As a session closes: the store's copies finish before the database closes.
    services.traces.flush();
    await services.store.settled();
    services.store.close();
    db.close();
    expect(r.ok, JSON.stringify(r.failed)).toBe(true);
    expect(r.ran.length).toBe(9);
    expect(r.distributed).toEqual({ tool: 'test', slots: 3, hosts: [], launched: 6, fellBack: [] });
    const seen = (id: string): number => Number(fs.readFileSync(path.join(root, `seen-${id}`), 'utf8'));
    for (const id of ['g1', 'g2', 'g3']) expect(seen(id)).toBe(1);
    for (const id of ['c1', 'c2', 'c3', 'c4', 'c5', 'c6']) expect(seen(id)).toBeLessThanOrEqual(3);
  });
});
