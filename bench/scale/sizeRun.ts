/** One size of the scale benchmark: every step by osvd, make and ninja on three copies of one tree. */
import fs from 'node:fs';
import path from 'node:path';
import type { Args } from './args.js';
import { REST_S, STUB, load, log, median, pct, run, type Cell, type Compiler, type Row } from './measure.js';
import { MakeTool, NinjaTool, OsvdTool } from './tools.js';
import { appendTo, dirSizeMb, makeTrees, tuSources, widelyIncludedHeader } from './trees.js';

/** The median cell of each tool over repeated steps (ms and actions of the median run). */
export function medians(runs: { osvd: Cell[]; make: Cell[]; ninja: Cell[] }): { osvdDaemon: Cell; make: Cell; ninja: Cell } {
  const mid = (cells: Cell[]): Cell => [...cells].sort((a, b) => a.ms - b.ms)[Math.floor(cells.length / 2)]!;
  return { osvdDaemon: mid(runs.osvd), make: mid(runs.make), ninja: mid(runs.ninja) };
}

/** An incremental step's times for the goals (osvd through the daemon against ninja), and every run's. */
export function stepRatio(facts: Record<string, number | string>, name: string, cells: { osvdDaemon?: Cell; ninja?: Cell }, runs?: { osvd: Cell[]; make: Cell[]; ninja: Cell[] }): void {
  facts[`${name}OsvdMs`] = cells.osvdDaemon!.ms;
  facts[`${name}NinjaMs`] = cells.ninja!.ms;
  if (runs) for (const k of ['osvd', 'make', 'ninja'] as const) facts[`${name}Runs_${k}`] = runs[k].map((c) => Math.round(c.ms)).join(' ');
}

export interface SizeResult {
  tus: number;
  compiler: Compiler;
  daemonOnly?: boolean;
  /** daemonOnly on a tree an earlier run built (the daemon holds every last run). */
  built?: boolean;
  rows: Row[];
  facts: Record<string, number | string>;
}

export async function benchSize(args: Args, tus: number, compiler: Compiler): Promise<SizeResult> {
  const size = `${compiler} ${tus >= 1000 ? `${tus / 1000}k` : tus}`;
  const rows: Row[] = [];
  const facts: Record<string, number | string> = {};
  const row = (step: string, cells: Omit<Row, 'size' | 'step' | 'load'>): void => {
    rows.push({ size, step, ...cells, load: load() });
    log(`${size} ${step}: ${['osvd', 'osvdDaemon', 'make', 'ninja'].map((k) => { const c = (cells as Record<string, Cell | undefined>)[k]; return c ? `${k} ${c.ms.toFixed(0)} ms${c.ran !== undefined ? ` (${c.ran} ran${c.restored ? `, ${c.restored} restored` : ''})` : ''}` : ''; }).filter(Boolean).join(', ')}`);
  };
  log(`${size}: generating three copies of the tree`);
  const tg = performance.now();
  const t = makeTrees(args.work, tus, compiler, args.jobs);
  facts.generateMs = Math.round(performance.now() - tg);
  const compilerVars = compiler === 'stub' ? ['COMPILER=stub', `STUB=${STUB}`] : ['COMPILER=real'];
  const make = new MakeTool(t.make, args.jobs, compilerVars);
  const ninja = new NinjaTool(t.ninja, args.jobs, t.info, compiler);
  const osvd = new OsvdTool(t.osvd, args.jobs);
  facts.ninjaFileMs = Math.round(ninja.writeFile('all'));
  const actions = t.info.objectsByProfile.all!.length + 2;
  facts.actions = actions;

  // Cold builds. The ideal is the sum of the commands' times over the jobs: ninja's own log for ninja
  // and make (same commands), osvd's recorded durations for osvd.
  const ninjaSince = 0;
  const coldNinja = ninja.build();
  const ninjaSum = ninja.sumOfCommandsMs(ninjaSince);
  let coldMake: Cell | undefined;
  if (tus <= args.makeColdMax) {
    coldMake = make.build();
  } else {
    // The same outputs and depfiles, with ninja's times: make's no-op and edits work on a built tree.
    fs.rmSync(path.join(t.make, 'build'), { recursive: true, force: true });
    run('cp', ['-a', path.join(t.ninja, 'build'), path.join(t.make, 'build')], args.work);
    for (const f of ['.ninja_log', '.ninja_deps']) fs.rmSync(path.join(t.make, t.info.outDir, f), { force: true });
    log(`${size}: make's cold build skipped (--make-cold-max ${args.makeColdMax}); its tree has a copy of ninja's build`);
  }
  const coldOsvd = osvd.oneShot();
  const osvdSum = coldOsvd.report.ran.reduce((s, e) => s + e.durationMs, 0);
  const overhead = (wall: number, sum: number, n: number): number => (wall - sum / args.jobs) / n;
  // Where osvd's overhead is: outside the build (Node's start, the import, the exit), and in it (the
  // builder's own time from its start to its end, against the commands' sum over the jobs).
  const outsideBuild = coldOsvd.ms - coldOsvd.report.durationMs;
  const inBuild = overhead(coldOsvd.report.durationMs, osvdSum, actions);
  coldOsvd.note = `import ${coldOsvd.report.import.ms} ms; overhead ${overhead(coldOsvd.ms, osvdSum, actions).toFixed(2)} ms/action: ${(outsideBuild / actions).toFixed(2)} outside the build (${outsideBuild.toFixed(0)} ms: start, import, exit), ${inBuild.toFixed(2)} in it`;
  if (coldMake) coldMake.note = `overhead ${overhead(coldMake.ms, ninjaSum, actions).toFixed(2)} ms/action`;
  coldNinja.note = `overhead ${overhead(coldNinja.ms, ninjaSum, actions).toFixed(2)} ms/action`;
  row('cold build', { osvd: coldOsvd, make: coldMake, ninja: coldNinja });
  facts.sumOfCommandsMsNinja = ninjaSum;
  facts.sumOfCommandsMsOsvd = osvdSum;
  facts.overheadMsPerActionOsvd = overhead(coldOsvd.ms, osvdSum, actions);
  facts.overheadMsPerActionNinja = overhead(coldNinja.ms, ninjaSum, actions);
  facts.overheadMsPerActionMake = coldMake ? overhead(coldMake.ms, ninjaSum, actions) : NaN;
  facts.outsideBuildMsOsvd = Math.round(outsideBuild);
  facts.overheadInBuildMsPerActionOsvd = inBuild;
  facts.coldRatioOsvdNinja = coldOsvd.ms / coldNinja.ms;

  // No-op builds.
  const reps = tus > 10_000 ? 2 : 3;
  const many = (f: () => Cell): Cell => {
    const cells = Array.from({ length: reps }, f);
    return { ...cells[0], ms: median(cells.map((c) => c.ms)), ran: Math.max(...cells.map((c) => c.ran ?? 0)) };
  };
  const noopMake = many(() => make.build());
  const noopNinja = many(() => ninja.build());
  const noopOneShot = many(() => osvd.oneShot());
  const startMs = await osvd.start();
  facts.daemonStartMs = Math.round(startMs);
  await osvd.build(); // the first build through the daemon (nothing to do) warms it
  const inDaemon: number[] = [];
  for (let i = 0; i < 5; i++) inDaemon.push((await osvd.build()).ms);
  const noopDaemon: Cell = { ms: median(inDaemon), ran: 0, note: 'request round trip' };
  const viaCli = median(Array.from({ length: 3 }, () => osvd.cli(['build', '--quiet']).ms));
  const statusCli = median(Array.from({ length: 5 }, () => osvd.cli(['status']).ms));
  const nodeStart = median(Array.from({ length: 5 }, () => run(process.execPath, ['-e', '0'], t.osvd).ms));
  noopOneShot.note = 'osvd build --no-daemon';
  row('no-op', { osvd: noopOneShot, osvdDaemon: noopDaemon, make: noopMake, ninja: noopNinja });
  row('no-op, osvd build through the daemon (CLI, end to end)', { osvdDaemon: { ms: viaCli, note: `node -e 0: ${nodeStart.toFixed(0)} ms` } });
  row('osvd status (CLI, end to end)', { osvdDaemon: { ms: statusCli, note: `node -e 0: ${nodeStart.toFixed(0)} ms` } });
  facts.noopDaemonMs = noopDaemon.ms;
  facts.noopMakeMs = noopMake.ms;
  facts.noopNinjaMs = noopNinja.ms;
  facts.noopOneShotMs = noopOneShot.ms;

  // Status requests, idle.
  await osvd.statusTimes(50);
  const idle = await osvd.statusTimes(args.requests);
  facts.statusIdleP50 = median(idle);
  facts.statusIdleP99 = pct(idle, 99);
  row('status request in the daemon, idle (p50)', { osvdDaemon: { ms: median(idle), note: `p99 ${pct(idle, 99).toFixed(2)} ms over ${idle.length}` } });

  // One TU edited: the daemon's dirty set (several edits), then the rebuild by each tool.
  const sources = tuSources(t, 9);
  const dirty: number[] = [];
  const seen: number[] = [];
  const tuRebuilds: { osvd: Cell[]; make: Cell[]; ninja: Cell[] } = { osvd: [], make: [], ninja: [] };
  for (const [i, src] of sources.entries()) {
    appendTo(t, src, `\nint bench_edit_${i}(void) { return ${i}; }\n`);
    const d = await osvd.waitDirty();
    dirty.push(d.insideMs);
    seen.push(d.seenMs);
    tuRebuilds.osvd.push(await osvd.build());
    tuRebuilds.make.push(make.build());
    tuRebuilds.ninja.push(ninja.build());
  }
  facts.dirtySetMs = median(dirty);
  facts.dirtySetMaxMs = Math.max(...dirty);
  row('one TU edited: file event -> dirty set (in the daemon)', { osvdDaemon: { ms: median(dirty), note: `max ${Math.max(...dirty).toFixed(2)} ms over ${dirty.length} edits; a client sees it after ${median(seen).toFixed(0)} ms (watcher latency)` } });
  const tu = medians(tuRebuilds);
  row(`one TU edited: rebuild (median of ${sources.length})`, tu);
  stepRatio(facts, 'oneTu', tu, tuRebuilds);
  // The same step as a developer types it: `osvd build` from a new process, through the daemon (after
  // the daemon has seen the edit, as it has long before anyone types).
  const byCli: { osvd: Cell[]; make: Cell[]; ninja: Cell[] } = { osvd: [], make: [], ninja: [] };
  for (const [i, src] of sources.slice(0, 3).entries()) {
    appendTo(t, src, `\nint bench_cli_edit_${i}(void) { return ${i}; }\n`);
    await osvd.waitDirty();
    byCli.osvd.push({ ms: osvd.cli(['build', '--quiet']).ms });
    byCli.make.push(make.build());
    byCli.ninja.push(ninja.build());
  }
  const tuCli = medians(byCli);
  tuCli.osvdDaemon.note = `node -e 0: ${nodeStart.toFixed(0)} ms`;
  row('one TU edited: `osvd build` (CLI, end to end, median of 3)', tuCli);
  facts.oneTuCliMs = tuCli.osvdDaemon.ms;

  // A widely included header edited; status requests while osvd rebuilds.
  const { header, readers } = widelyIncludedHeader(t, args.headerShare);
  facts.header = header;
  facts.headerReaders = readers;
  // Edited four times. The first edit's osvd build is flooded with status requests (their latency
  // during a build is measured there), so it is not timed, for any tool: medians of the other three.
  const headerRebuilds: { osvd: Cell[]; make: Cell[]; ninja: Cell[] } = { osvd: [], make: [], ninja: [] };
  let busy: number[] = [];
  for (let i = 0; i < 4; i++) {
    appendTo(t, header, `\n/* bench edit ${i} */\n`);
    await osvd.waitDirty();
    let done = false;
    const building = osvd.build().finally(() => (done = true));
    if (i === 0) {
      await new Promise((r) => setTimeout(r, 50));
      busy = await osvd.statusTimes(args.requests, () => done);
      await building;
      make.build();
      ninja.build();
      continue;
    }
    headerRebuilds.osvd.push(await building);
    headerRebuilds.make.push(make.build());
    headerRebuilds.ninja.push(ninja.build());
  }
  facts.statusBusyP50 = median(busy);
  facts.statusBusyP99 = pct(busy, 99);
  facts.statusBusyCount = busy.length;
  const headerRow = medians(headerRebuilds);
  row(`header read by ${readers} TUs edited: rebuild (median of 3)`, headerRow);
  stepRatio(facts, 'header', headerRow, headerRebuilds);
  row('status request in the daemon, during that build (p50)', { osvdDaemon: { ms: median(busy), note: `p99 ${pct(busy, 99).toFixed(2)} ms over ${busy.length}` } });

  // A profile switch and back, three times (ninja: build.ninja written again for the profile, timed
  // apart, as osvd's `set` request is); medians of the three.
  if (compiler === 'stub') {
    const switches: Record<string, { osvd: Cell[]; make: Cell[]; ninja: Cell[] }> = {};
    for (let i = 0; i < 3; i++) {
      for (const profile of ['virtio-mmio', 'all']) {
        const ts = performance.now();
        await osvd.client!.request('set', { sets: [`conf_drivers_profile=${profile}`] });
        const setMs = performance.now() - ts;
        const o = await osvd.build();
        o.note = `+ ${setMs.toFixed(0)} ms for osvd set`;
        const m = make.build([`conf_drivers_profile=${profile}`]);
        const regen = ninja.writeFile(profile);
        const n = ninja.build();
        n.note = `+ ${regen.toFixed(0)} ms to write build.ninja`;
        const runs = (switches[profile] ??= { osvd: [], make: [], ninja: [] });
        runs.osvd.push(o);
        runs.make.push(m);
        runs.ninja.push(n);
      }
    }
    for (const [profile, runs] of Object.entries(switches)) {
      const cells = medians(runs);
      row(`profile -> ${profile} (median of ${runs.osvd.length})`, cells);
      stepRatio(facts, profile === 'all' ? 'switchBack' : 'switch', cells, runs);
    }
  }

  const mem = osvd.memory();
  facts.daemonRssMb = Math.round(mem.rssMb);
  facts.daemonPeakRssMb = Math.round(mem.hwmMb);
  facts.daemonRestRssMb = Math.round(await osvd.restingRssMb());
  const stateDir = path.join(t.osvd, 'build/.osvd');
  const dbMb = ['state.db', 'state.db-wal'].reduce((s, f) => s + (fs.existsSync(path.join(stateDir, f)) ? fs.statSync(path.join(stateDir, f)).size : 0), 0) / 2 ** 20;
  facts.databaseMb = Math.round(dbMb * 10) / 10;
  facts.storeMb = Math.round(dirSizeMb(path.join(stateDir, 'store')) * 10) / 10;
  row('daemon memory (RSS now / peak)', { osvdDaemon: { ms: NaN, note: `${mem.rssMb.toFixed(0)} MB / ${mem.hwmMb.toFixed(0)} MB; ${facts.daemonRestRssMb} MB once idle ${REST_S} s; database ${facts.databaseMb} MB, store ${facts.storeMb} MB` } });
  await osvd.stop();
  if (!args.keep) fs.rmSync(path.dirname(t.osvd), { recursive: true, force: true });
  return { tus, compiler, rows, facts };
}
