import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { copyExample, osvdEnv, removeCopies, startDaemon, stopDaemons, waitFor, type BuildJson, type StatusJson } from './helpers.js';

/** osv.config.ts is kept transpiled between commands only while nothing it reads can have changed. */
afterEach(stopDaemons);
afterAll(removeCopies);

function cacheFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-xdg-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function profileOf(root: string, env: Record<string, string>, ...extra: string[]): string {
  const r = osvdEnv(root, ['status', '--json', ...extra], env);
  if (r.code !== 0) throw new Error(`osvd status failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as StatusJson).knobs.conf_drivers_profile!;
}

const cached = (xdg: string): string[] => (fs.existsSync(path.join(xdg, 'osvd')) ? fs.readdirSync(path.join(xdg, 'osvd')).filter((f) => f.startsWith('config-')) : []);

describe('the config is re-read when it could differ', () => {
  it('a config that reads process.env gives the value of each command\'s environment, and is never cached', () => {
    const root = copyExample();
    const xdg = cacheFolder();
    fs.writeFileSync(
      path.join(root, 'osv.config.ts'),
      "import { defineConfig } from 'osvd';\nexport default defineConfig({ knobs: { conf_drivers_profile: process.env.OSVD_TEST_PROFILE ?? 'all' } });\n",
    );
    expect(profileOf(root, { XDG_CACHE_HOME: xdg, OSVD_TEST_PROFILE: 'base' }, '--no-daemon')).toBe('base');
    expect(profileOf(root, { XDG_CACHE_HOME: xdg, OSVD_TEST_PROFILE: 'virtio-mmio' }, '--no-daemon')).toBe('virtio-mmio');
    expect(cached(xdg)).toEqual([]);
  });

  it('a config that imports a sibling module is read again when the sibling changes, by one-shot commands and by the daemon', async () => {
    const root = copyExample();
    const xdg = cacheFolder();
    const env = { XDG_CACHE_HOME: xdg };
    fs.writeFileSync(
      path.join(root, 'osv.config.ts'),
      "import { defineConfig } from 'osvd';\nimport { profile } from './profile.mjs';\nexport default defineConfig({ knobs: { conf_drivers_profile: profile } });\n",
    );
    const sibling = path.join(root, 'profile.mjs');
    fs.writeFileSync(sibling, "export const profile = 'base';\n");
    expect(profileOf(root, env, '--no-daemon')).toBe('base');
    // Plain data from files alone: kept between commands.
    expect(cached(xdg)).toHaveLength(1);
    fs.writeFileSync(sibling, "export const profile = 'virtio-mmio';\n");
    expect(profileOf(root, env, '--no-daemon')).toBe('virtio-mmio');

    startDaemon(root, env);
    expect(profileOf(root, env)).toBe('virtio-mmio');
    fs.writeFileSync(sibling, "export const profile = 'base';\n");
    await waitFor('the daemon to read the config again', () => profileOf(root, env) === 'base');
  });

  it('a touch or a save of the same text of osv.config.ts or the Makefile reloads nothing; a change of either does, once', async () => {
    const root = copyExample();
    const env = { XDG_CACHE_HOME: cacheFolder() };
    const config = path.join(root, 'osv.config.ts');
    fs.writeFileSync(config, "import { defineConfig } from 'osvd';\nexport default defineConfig({ knobs: { conf_drivers_profile: 'all' } });\n");
    startDaemon(root, env);
    const makefile = path.join(root, 'Makefile');
    const lastEvent = (): number => {
      const r = osvdEnv(root, ['status', '--json'], env);
      return (JSON.parse(r.stdout) as StatusJson).daemon.watcher?.lastEventAt ?? 0;
    };
    const seen = async (what: string, write: () => void): Promise<void> => {
      const before = lastEvent();
      write();
      await waitFor(`the daemon to see ${what}`, () => lastEvent() !== before);
    };
    const logged = (msg: string): number =>
      fs.readFileSync(path.join(root, 'build/.osvd/osvd.log'), 'utf8').split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).length;
    const later = new Date(Date.now() + 5_000);
    await seen('the touches', () => {
      fs.utimesSync(config, later, later);
      fs.utimesSync(makefile, later, later);
    });
    await seen('the same texts saved', () => {
      fs.writeFileSync(config, fs.readFileSync(config));
      fs.writeFileSync(makefile, fs.readFileSync(makefile));
    });
    // Changes: each reloads once. Log lines are written in order, so the counts below also say that the
    // touches and saves above reloaded nothing.
    fs.appendFileSync(config, '\n// a comment\n');
    await waitFor('the daemon to reload the config', () => logged('osv.config.ts changed: reloading') > 0);
    fs.appendFileSync(makefile, '\n# a comment\n');
    await waitFor('the daemon to import the Makefile again', () => logged('a makefile changed: re-importing') > 0);
    await new Promise((r) => setTimeout(r, 500));
    expect(logged('osv.config.ts changed: reloading')).toBe(1);
    expect(logged('a makefile changed: re-importing')).toBe(1);
    expect(profileOf(root, env)).toBe('all');
  });

  it('a daemon started in a tree without osv.config.ts reads the one written later, and the defaults again once it is gone', async () => {
    const root = copyExample();
    const config = path.join(root, 'osv.config.ts');
    fs.rmSync(config, { force: true });
    const env = { XDG_CACHE_HOME: cacheFolder() };
    startDaemon(root, env);
    expect(profileOf(root, env)).toBe('all');
    fs.writeFileSync(config, "import { defineConfig } from 'osvd';\nexport default defineConfig({ knobs: { conf_drivers_profile: 'virtio-mmio' } });\n");
    await waitFor('the daemon to read the new config', () => profileOf(root, env) === 'virtio-mmio');
    fs.rmSync(config);
    await waitFor('the daemon to go back to the defaults', () => profileOf(root, env) === 'all');
  });
});

describe('reloads one after another', () => {
  it('a makefile changed while the config is still being imported ends with the graph of both changes, whichever import ends first', async () => {
    const root = copyExample();
    const env = { XDG_CACHE_HOME: cacheFolder() };
    const config = path.join(root, 'osv.config.ts');
    const makefile = path.join(root, 'Makefile');
    const writeConfigWith = (makeVars: Record<string, string>): void =>
      fs.writeFileSync(config, `import { defineConfig } from 'osvd';\nexport default defineConfig({ makeVars: ${JSON.stringify(makeVars)} });\n`);
    // The config's import is slow: make sleeps when it expands sched.o's recipe, after it has read
    // every makefile (a sleep while reading would let it read the new Makefile's end). The Makefile's
    // import is not, since the new Makefile has no sleep: the second import ends first.
    const original = fs.readFileSync(makefile, 'utf8');
    fs.writeFileSync(makefile, `${original}\n$(out)/core/sched.o: CXXFLAGS += $(if $(OSVD_TEST_SLOW),$(shell sleep $(OSVD_TEST_SLOW)))\n`);
    writeConfigWith({});
    startDaemon(root, env);
    const logged = (msg: string): number =>
      fs.readFileSync(path.join(root, 'build/.osvd/osvd.log'), 'utf8').split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).length;
    // What the live graph says, as it is (a build request would first look for changed makefiles).
    const compileCommands = (): string[] => {
      const r = osvdEnv(root, ['why', '--json', 'build/release.x64/core/sched.o'], env);
      if (r.code !== 0) throw new Error(`osvd why failed: ${r.stderr}`);
      return (JSON.parse(r.stdout) as { commands: string[] }).commands;
    };
    expect(compileCommands().some((c) => c.includes('g++'))).toBe(true);

    writeConfigWith({ OSVD_TEST_SLOW: '4' });
    await waitFor('the daemon to reload the config', () => logged('osv.config.ts changed: reloading') > 0);
    await new Promise((r) => setTimeout(r, 200));
    fs.writeFileSync(makefile, `${original}\nCXXFLAGS += -DOSVD_TEST_MARK\n`);
    await waitFor('the daemon to import the Makefile again', () => logged('a makefile changed: re-importing') > 0);
    await waitFor('the three imports (start, config, Makefile)', () => logged('graph loaded') >= 3);
    // The live graph is the last import's: the Makefile's flag is in sched.o's compile.
    await waitFor('the live graph to have the new Makefile\'s flag', () => compileCommands().some((c) => c.includes('-DOSVD_TEST_MARK')), 20_000);
    await new Promise((r) => setTimeout(r, 1_000));
    expect(compileCommands().filter((c) => c.includes('g++')).every((c) => c.includes('-DOSVD_TEST_MARK'))).toBe(true);
  }, 90_000);

  it('a build asked for while a makefile is imported again waits for that import, and builds its graph', async () => {
    const root = copyExample();
    // watchman: its events reach the daemon as they come, and a build's check of them finds none new.
    const env = { XDG_CACHE_HOME: cacheFolder(), OSVD_WATCHER: 'watchman' };
    const makefile = path.join(root, 'Makefile');
    // Every import is slow (make sleeps when it expands sched.o's recipe), so the build below is asked
    // for while the Makefile's import still runs.
    const slow = `${fs.readFileSync(makefile, 'utf8')}\n$(out)/core/sched.o: CXXFLAGS += $(shell sleep 4)\n`;
    fs.writeFileSync(makefile, slow);
    startDaemon(root, env);
    expect(osvdEnv(root, ['build', '--json'], env).code).toBe(0);
    const logged = (msg: string): number =>
      fs.readFileSync(path.join(root, 'build/.osvd/osvd.log'), 'utf8').split('\n').filter((l) => l.includes(`"msg":"${msg}"`)).length;
    // Built: a build the plan finds nothing to do in answers at once, unless it waits for the import.
    fs.writeFileSync(makefile, `${slow}CXXFLAGS += -DOSVD_TEST_MARK\n`);
    await waitFor('the daemon to import the Makefile again', () => logged('a makefile changed: re-importing') > 0);
    expect(logged('graph loaded')).toBe(1);
    const built = osvdEnv(root, ['build', '--json'], env);
    expect(built.code, built.stdout + built.stderr).toBe(0);
    expect(logged('graph loaded')).toBe(2);
    // Built from the new graph: nothing of it is left to run.
    const after = JSON.parse(osvdEnv(root, ['status', '--json'], env).stdout) as StatusJson;
    expect(after.dirty.run + after.dirty.pending).toBe(0);
    const why = JSON.parse(osvdEnv(root, ['why', '--json', 'build/release.x64/core/sched.o'], env).stdout) as { commands: string[] };
    expect(why.commands.some((c) => c.includes('-DOSVD_TEST_MARK'))).toBe(true);
  }, 120_000);

  it('status during a re-import says so and why, then shows the new graph\'s plan', async () => {
    const root = copyExample();
    const env = { XDG_CACHE_HOME: cacheFolder(), OSVD_WATCHER: 'watchman' };
    const makefile = path.join(root, 'Makefile');
    const gate = path.join(root, 'import-gate');
    startDaemon(root, env);
    expect(osvdEnv(root, ['build', '--json'], env).code).toBe(0);
    const statusNow = (): StatusJson => JSON.parse(osvdEnv(root, ['status', '--json'], env).stdout) as StatusJson;
    expect(statusNow().daemon.reimporting).toBeNull();
    // The new Makefile's import waits at a gate (make expands sched.o's recipe after reading every
    // makefile), and its new flag makes every C++ TU stale.
    const original = fs.readFileSync(makefile, 'utf8');
    fs.writeFileSync(makefile, `${original}\n$(out)/core/sched.o: CXXFLAGS += $(shell while [ ! -e '${gate}' ]; do sleep 0.05; done)\nCXXFLAGS += -DOSVD_TEST_MARK\n`);
    const during = await waitFor('status to say the makefiles are imported again', () => {
      const s = statusNow();
      return s.daemon.reimporting ? s : undefined;
    });
    expect(during.daemon.reimporting).toBe('a makefile changed: Makefile');
    // The last import's plan, still: the tree was built with it.
    expect(during.dirty.run + during.dirty.pending).toBe(0);
    const text = osvdEnv(root, ['status'], env).stdout;
    expect(text).toContain('state: importing the makefiles again (a makefile changed: Makefile)');
    expect(text).not.toContain('state: up to date');
    fs.writeFileSync(gate, '');
    const after = await waitFor('the re-import to end', () => {
      const s = statusNow();
      return s.daemon.reimporting === null ? s : undefined;
    });
    expect(osvdEnv(root, ['status'], env).stdout).toMatch(/^state: \d+ stale: /m);
    // The new graph's plan: every C++ TU must run again (with the new flag), and the build that
    // follows runs what it said must run, and of what waited on them those whose inputs did change.
    const cxx = (JSON.parse(fs.readFileSync(path.join(root, 'build/release.x64/compile_commands.json'), 'utf8')) as { file: string; command: string }[]).filter((e) => e.file.endsWith('.cc'));
    expect(cxx.length).toBeGreaterThan(20);
    expect(after.dirty.run).toBeGreaterThanOrEqual(cxx.length);
    const built = JSON.parse(osvdEnv(root, ['build', '--json'], env).stdout) as BuildJson;
    expect(built.ok).toBe(true);
    const ran = built.ran.length + built.cutoff.length;
    expect(ran).toBeGreaterThanOrEqual(after.dirty.run);
    expect(ran).toBeLessThanOrEqual(after.dirty.run + after.dirty.pending);
    expect(built.ran.filter((e) => e.kind === 'compile' && e.output.endsWith('.o')).map((e) => e.output)).toEqual(expect.arrayContaining(cxx.map((e) => e.output)));
  }, 120_000);
});
