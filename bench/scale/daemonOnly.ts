/** The scale benchmark's daemon-only run: the daemon alone on a large tree (see benchDaemonOnly). */
import fs from 'node:fs';
import path from 'node:path';
import type { StatusReport } from '../../daemon/answers.js';
import { generateTree, type TreeInfo } from '../synth/generate.js';
import type { Args } from './args.js';
import { REST_S, STUB, load, log, median, pct, type Cell, type Row } from './measure.js';
import type { SizeResult } from './sizeRun.js';
import { OsvdTool } from './tools.js';
import { compileFastStub, tuSources, writeConfig, type Trees } from './trees.js';

/**
 * The daemon alone on a tree no tool has built (a 50,000-TU cold build takes each tool tens of
 * minutes on a loaded 2-core machine): start-up (import and plan), status requests, and the dirty
 * set after TU edits. Every action is already dirty, so an edit re-decides the same actions as on a
 * built tree (the TU and the link) but the daemon holds no last runs: its memory is a lower bound.
 */
export async function benchDaemonOnly(args: Args, tus: number): Promise<SizeResult> {
  const size = `stub ${tus >= 1000 ? `${tus / 1000}k` : tus} (daemon only, ${args.built ? 'built' : 'not built'})`;
  const rows: Row[] = [];
  const facts: Record<string, number | string> = {};
  const dir = path.join(args.work, `stub-${tus}`, 'osvd');
  let info: TreeInfo;
  if (fs.existsSync(path.join(dir, 'synth-tree.json'))) {
    info = JSON.parse(fs.readFileSync(path.join(dir, 'synth-tree.json'), 'utf8')) as TreeInfo;
    if (!args.built) fs.rmSync(path.join(dir, 'build'), { recursive: true, force: true });
    log(`${size}: reusing the tree in ${dir}${args.built ? ', with its build' : ''}`);
  } else {
    log(`${size}: generating the tree`);
    info = generateTree(dir, { tus, seed: 1 });
  }
  fs.copyFileSync(compileFastStub(args.work), path.join(dir, STUB));
  writeConfig(dir, 'stub', args.jobs);
  const osvd = new OsvdTool(dir, args.jobs);
  const add = (step: string, cell: Cell): void => {
    rows.push({ size, step, osvdDaemon: cell, load: load() });
    log(`${size} ${step}: ${cell.ms.toFixed(2)} ms ${cell.note ?? ''}`);
  };
  const startMs = await osvd.start();
  facts.daemonStartMs = Math.round(startMs);
  add('daemon start (import by make, plan)', { ms: startMs });
  await osvd.statusTimes(50);
  const idle = await osvd.statusTimes(args.requests);
  facts.statusIdleP50 = median(idle);
  facts.statusIdleP99 = pct(idle, 99);
  add('status request in the daemon, idle (p50)', { ms: median(idle), note: `p99 ${pct(idle, 99).toFixed(2)} ms over ${idle.length}` });
  const t: Trees = { info, osvd: dir, make: dir, ninja: dir };
  const dirty: number[] = [];
  for (const [i, src] of tuSources(t, 5).entries()) {
    const s0 = await osvd.status();
    const seen = (s: StatusReport): boolean => (s.daemon.watcher?.lastEventAt ?? 0) !== (s0.daemon.watcher?.lastEventAt ?? 0) || s.daemon.lastUpdateMs !== s0.daemon.lastUpdateMs;
    fs.appendFileSync(path.join(dir, src), `\nint bench_edit_${i}(void) { return ${i}; }\n`);
    const t0 = performance.now();
    while (!seen(await osvd.status())) {
      if (performance.now() - t0 > 60_000) throw new Error('the daemon did not see the edit');
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 300)); // the watcher's settle delay, then the update
    dirty.push((await osvd.status()).daemon.lastUpdateMs ?? NaN);
  }
  if (args.built) {
    // The edits above, then one more TU alone: the rebuilds through the daemon (osvd only).
    const edits = await osvd.build();
    add(`the ${dirty.length} TUs edited: rebuild`, { ms: edits.ms, ran: edits.ran });
    const [one] = tuSources(t, 7).slice(-1);
    fs.appendFileSync(path.join(dir, one!), '\nint bench_edit_last(void) { return 0; }\n');
    await osvd.waitDirty();
    const rebuild = await osvd.build();
    add('one TU edited: rebuild', { ms: rebuild.ms, ran: rebuild.ran });
    facts.oneTuRebuildMs = rebuild.ms;
  }
  const mode = (await osvd.status()).daemon.watcher?.mode ?? 'off';
  facts.watcherMode = mode;
  facts.dirtySetMs = median(dirty);
  facts.dirtySetMaxMs = Math.max(...dirty);
  add('one TU edited: file event -> dirty set (in the daemon)', {
    ms: median(dirty),
    note: `max ${Math.max(...dirty).toFixed(2)} ms over ${dirty.length} edits; watcher: ${mode}${mode === 'polling' ? ' (the stat scan that found the edit is not counted)' : ''}`,
  });
  const mem = osvd.memory();
  facts.daemonRssMb = Math.round(mem.rssMb);
  facts.daemonPeakRssMb = Math.round(mem.hwmMb);
  facts.daemonRestRssMb = Math.round(await osvd.restingRssMb());
  add('daemon memory (RSS now / peak)', { ms: NaN, note: `${mem.rssMb.toFixed(0)} MB / ${mem.hwmMb.toFixed(0)} MB; ${facts.daemonRestRssMb} MB once idle ${REST_S} s${args.built ? '' : ' (no last runs held: a lower bound)'}` });
  await osvd.stop();
  return { tus, compiler: 'stub', daemonOnly: true, built: args.built, rows, facts };
}
