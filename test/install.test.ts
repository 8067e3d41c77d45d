import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { copyExample, editorErrors, OUT, REPO, removeCopies } from './helpers.js';

/**
 * osvd on PATH: `npm pack` builds dist/ into the tarball; the tarball installed as npm installs it
 * globally, and a clone installed with `npm install -g <folder>` (npm link), each run as `osvd`.
 */
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-install-'));
afterAll(() => {
  fs.rmSync(scratch, { recursive: true, force: true });
  removeCopies();
});

const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string; engines: { node: string }; bin: Record<string, string> };

/** A clone of this repository as git has it (no dist/), with the dependencies `npm ci` installed. */
function cloneOfRepo(): string {
  const dir = path.join(scratch, 'clone');
  for (const f of execFileSync('git', ['ls-files', '-z'], { cwd: REPO, encoding: 'utf8' }).split('\0').filter(Boolean)) {
    if (!fs.existsSync(path.join(REPO, f))) continue;
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.copyFileSync(path.join(REPO, f), path.join(dir, f));
  }
  fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(dir, 'node_modules'));
  return dir;
}

function run(cmd: string, args: string[], cwd: string): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, OSVD_LOG: '' }, timeout: 300_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('installing osvd', () => {
  it('engines admit Node 20.19+, 22 and 24, and refuse older', () => {
    const semver = createRequire(import.meta.url)('semver') as { satisfies: (v: string, range: string) => boolean };
    const admitted = (v: string): boolean => semver.satisfies(v, pkg.engines.node);
    expect(['20.19.0', '20.20.2', '22.12.0', '22.21.1', '24.0.0', '24.11.1'].filter((v) => !admitted(v))).toEqual([]);
    expect(['18.20.8', '20.18.3', '19.9.0'].filter(admitted)).toEqual([]);
    expect(pkg.bin).toEqual({ osvd: 'bin/osvd.js' });
  });

  it('npm pack builds dist/ into the tarball; installed as npm installs it, `osvd` runs, builds and inits from there', () => {
    const clone = cloneOfRepo();
    expect(fs.existsSync(path.join(clone, 'dist'))).toBe(false);
    const packed = run('npm', ['pack', '--json', '--pack-destination', scratch], clone);
    expect(packed.code).toBe(0);
    const [info] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
    const files = info!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['bin/osvd.js', 'package.json', 'README.md', 'dist/bundle/cli.js', 'dist/bundle/quick.js', 'dist/daemon/cli.js', 'dist/daemon/commands/build.js', 'dist/osv/config.d.ts', 'dist/osv/knobs.d.ts']));
    // The compiled product only: no sources but declarations, no tests, benchmarks or source maps.
    expect(files.filter((f) => !/^(bin\/osvd\.js|package\.json|README\.md|dist\/(base|graph|cache|osv|daemon|view)\/.*\.(js|d\.ts)|dist\/bundle\/[\w-]+\.js)$/.test(f))).toEqual([]);

    // npm's global layout: <prefix>/lib/node_modules/osvd and a link in <prefix>/bin. The
    // dependencies are those `npm ci` installed (npm would fetch and compile them: minutes, network).
    const prefix = path.join(scratch, 'prefix');
    const installed = path.join(prefix, 'lib/node_modules/osvd');
    fs.mkdirSync(installed, { recursive: true });
    execFileSync('tar', ['-xzf', path.join(scratch, info!.filename), '-C', installed, '--strip-components=1']);
    fs.symlinkSync(path.join(REPO, 'node_modules'), path.join(installed, 'node_modules'));
    // `osvd` runs the bundle (dist/bundle/): without tsc's modules of the CLI, the daemon and the
    // cache it still runs, inits and builds (a config's `import ... from 'osvd'` loads dist/osv/).
    for (const d of ['daemon', 'cache', 'view']) fs.rmSync(path.join(installed, 'dist', d), { recursive: true });
    fs.mkdirSync(path.join(prefix, 'bin'));
    fs.symlinkSync('../lib/node_modules/osvd/bin/osvd.js', path.join(prefix, 'bin/osvd'));
    const osvdBin = path.join(prefix, 'bin/osvd');
    expect(run(osvdBin, ['--version'], scratch)).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });

    const tree = copyExample();
    const init = run(osvdBin, ['init', '--json'], tree);
    expect(JSON.parse(init.stdout).types).toBe(path.join(installed, 'dist/osv/config.d.ts'));
    expect(editorErrors(tree)).toEqual([]);
    const built = run(osvdBin, ['build', '--json'], tree);
    expect(built.code).toBe(0);
    expect(JSON.parse(built.stdout)).toMatchObject({ ok: true, failed: [] });
    expect(fs.existsSync(path.join(tree, OUT, 'loader.elf'))).toBe(true);
    // npm pack compiles the whole clone (prepare), then a build: more than the suite's default 120 s on
    // a loaded machine; each command has its own 300 s limit (run above).
  }, 600_000);

  it('npm install -g <clone> (what npm link does) puts `osvd` on PATH, working from the clone', () => {
    const clone = fs.existsSync(path.join(scratch, 'clone')) ? path.join(scratch, 'clone') : cloneOfRepo();
    if (!fs.existsSync(path.join(clone, 'dist'))) expect(run('npm', ['run', 'build'], clone).code).toBe(0);
    const prefix = path.join(scratch, 'linked');
    const r = run('npm', ['install', '-g', '--prefix', prefix, clone, '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], scratch);
    expect(r.code).toBe(0);
    expect(fs.realpathSync(path.join(prefix, 'lib/node_modules/osvd'))).toBe(fs.realpathSync(clone));
    expect(run(path.join(prefix, 'bin/osvd'), ['--version'], scratch)).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
  });
});
