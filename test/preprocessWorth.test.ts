import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { MIN_SAMPLES, PreprocessCosts } from '../graph/preprocessCosts.js';
import { copyExample, depfileReaders, osvdEnv, ranOf, removeCopies, type BuildJson } from './helpers.js';

/**
 * `preprocess: 'auto'` in a cold build: a compile is preprocessed (for a later cutoff) only when it took
 * twice what its preprocessing is predicted to cost, once a few preprocessings were timed.
 */

describe('what preprocessing is predicted to cost', () => {
  it('predicts nothing before enough preprocessings were timed', () => {
    const costs = new PreprocessCosts();
    for (let i = 1; i < MIN_SAMPLES; i++) {
      costs.add(i * 1e6, 10 + 5 * i);
      expect(costs.predict(1e6)).toBeUndefined();
    }
    costs.add(MIN_SAMPLES * 1e6, 10 + 5 * MIN_SAMPLES);
    expect(costs.predict(1e6)).toBeCloseTo(15, 6);
  });

  it('fits the start and the time per byte, and keeps both from going below zero', () => {
    const line = new PreprocessCosts();
    for (let i = 0; i < 8; i++) line.add(2e6 + i * 3e5, 40 + 12 * (2 + i * 0.3));
    expect(line.predict(10e6)).toBeCloseTo(40 + 12 * 10, 6);
    expect(line.predict(0)).toBeCloseTo(40, 6);

    // Bigger TUs faster (noise): no growth with the bytes, the mean.
    const falling = new PreprocessCosts();
    for (let i = 0; i < 8; i++) falling.add(1e6 * (i + 1), 100 - i);
    expect(falling.predict(50e6)).toBeCloseTo(96.5, 6);

    // A line that would start below zero goes through the origin.
    const steep = new PreprocessCosts();
    for (let i = 0; i < 8; i++) steep.add(1e6 * (i + 1), i === 0 ? 0 : 20 * (i + 1) - 10);
    const slope = [0, 30, 50, 70, 90, 110, 130, 150].reduce((s, y, i) => s + y * (i + 1), 0) / [1, 2, 3, 4, 5, 6, 7, 8].reduce((s, x) => s + x * x, 0);
    expect(steep.predict(0)).toBe(0);
    expect(steep.predict(4e6)).toBeCloseTo(4 * slope, 6);

    // Every TU read as much: the mean.
    const same = new PreprocessCosts();
    for (let i = 0; i < 8; i++) same.add(5e6, 30 + i);
    expect(same.predict(9e6)).toBeCloseTo(33.5, 6);

    // Nonsense is not learnt.
    same.add(Number.NaN, 1000);
    same.add(5e6, -1);
    expect(same.samples).toBe(8);
  });
});

describe("a cold build with preprocess: 'auto'", () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    removeCopies();
  });

  /** The example tree behind g++ and gcc that sleep before compiling (`-c`) and before preprocessing (`-E`). */
  function slowCompilers(compileS: number, preprocessS: number, preprocess: 'auto' | 'always', jobs: number): { root: string; env: Record<string, string>; jobs: string } {
    const root = copyExample();
    fs.writeFileSync(path.join(root, 'osv.config.ts'), `export default ${JSON.stringify({ preprocess })};\n`);
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'osvd-ppworth-'));
    dirs.push(bin);
    for (const cc of ['gcc', 'g++']) {
      const real = spawnSync('sh', ['-c', `command -v ${cc}`], { encoding: 'utf8' }).stdout.trim();
      fs.writeFileSync(path.join(bin, cc), `#!/bin/sh\ncase " $* " in *" -c "*) sleep ${compileS};; *" -E "*) sleep ${preprocessS};; esac\nexec '${real}' "$@"\n`, { mode: 0o755 });
    }
    return { root, env: { PATH: `${bin}:${process.env.PATH}`, OSVD_LOG: '' }, jobs: String(jobs) };
  }

  /**
   * Of the compiles' records: those that say anything of preprocessing (`preprocessed` present), those
   * whose preprocessing was done and timed (not refused, not predicted), those where it was predicted
   * and not done, and all.
   */
  function records(root: string): { preprocessed: number; timed: number; predicted: number; compiles: number } {
    const db = new Database(path.join(root, 'build/.osvd/state.db'), { readonly: true });
    try {
      const all = (db.prepare('SELECT record FROM last_runs').all() as { record: string }[]).map((r) => JSON.parse(r.record) as { actionId: string; preprocessed?: { refused?: boolean; predicted?: boolean } });
      const pp = all.filter((r) => r.preprocessed !== undefined);
      return {
        preprocessed: pp.length,
        timed: pp.filter((r) => r.preprocessed?.refused !== true && r.preprocessed?.predicted !== true).length,
        predicted: pp.filter((r) => r.preprocessed?.predicted === true).length,
        compiles: all.filter((r) => r.actionId.endsWith('.o')).length,
      };
    } finally {
      db.close();
    }
  }

  function buildWith(t: { root: string; env: Record<string, string>; jobs: string }): BuildJson {
    const r = osvdEnv(t.root, ['build', '--json', '--no-daemon', '-j', t.jobs], t.env);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as BuildJson;
    expect(report.ok).toBe(true);
    return report;
  }

  it('preprocesses only the first timed ones when preprocessing costs about what compiling does', () => {
    // Every compile takes over 100 ms (the sleep), and less than twice a preprocessing (1.5 s and more).
    const t = slowCompilers(0.12, 1.5, 'auto', 1);
    buildWith(t);
    const r = records(t.root);
    expect(r.compiles).toBeGreaterThan(3 * MIN_SAMPLES);
    // One job: each preprocessing is timed before the next compile ends.
    expect(r.timed).toBe(MIN_SAMPLES);
    expect(r.predicted).toBeGreaterThan(2 * MIN_SAMPLES);

    // A header edit: its readers compile, and none is preprocessed to time it again (the records hold
    // the predicted times).
    const readers = depfileReaders(t.root, 'include/osv/debug.hh');
    expect(readers.length).toBeGreaterThan(MIN_SAMPLES);
    const file = path.join(t.root, 'include/osv/debug.hh');
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('Not built: dbg::set_level covers', 'Not built yet: set_level covers'));
    const edit = buildWith(t);
    expect(ranOf(edit, 'compile')).toEqual(readers);
    expect(edit.cutoff).toEqual([]);
    expect(records(t.root)).toEqual(r);
  });

  it('preprocesses every compile that costs far more than its preprocessing, as with always', () => {
    // Eight jobs: the compiles mostly sleep.
    const slow = slowCompilers(1.5, 0, 'auto', 8);
    buildWith(slow);
    const always = slowCompilers(0, 0, 'always', 2);
    buildWith(always);
    const every = records(always.root).preprocessed;
    expect(every).toBeGreaterThan(3 * MIN_SAMPLES);
    expect(records(slow.root)).toMatchObject({ preprocessed: every, predicted: 0 });
  });
});
