import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Action } from '../graph/action.js';
import { criticalChain } from '../graph/criticalPath.js';
import { BuildGraph } from '../graph/graph.js';
import { folderAt, groupingDepth } from '../view/folders.js';
import { launchBrowser, type Browser } from './browser.js';
import { build, copyExample, OUT, osvd, removeCopies, startDaemon, stopDaemons, type BuildJson } from './helpers.js';

/** The pictures: `osvd graph` (DOT, SVG), `osvd report` (HTML in a real Chromium) and its trace file. */

function action(id: string, inputs: string[] = [], extra: Partial<Action> = {}): Action {
  return { id, kind: 'compile', commands: [`cc -o ${id}`], cwd: '.', env: {}, keyEnv: {}, inputs, orderAfter: [], outputs: [id], ...extra };
}

describe('critical path and folders (pure)', () => {
  it('the critical path is the dependent chain with the largest summed duration, through actions that did not run', () => {
    const g = new BuildGraph([
      action('gen.h', [], { kind: 'generate' }),
      action('a.o', ['gen.h']),
      action('b.o', ['gen.h']),
      action('c.o', ['c.c']),
      action('lib.a', ['a.o', 'b.o'], { kind: 'link' }),
      action('k.elf', ['lib.a', 'c.o'], { kind: 'link' }),
    ]);
    // b.o ends last, but a.o took longer: the chain goes through a.o. lib.a did not run (up to date).
    const times: Record<string, { startMs: number; endMs: number }> = {
      'gen.h': { startMs: 0, endMs: 10 },
      'a.o': { startMs: 10, endMs: 310 },
      'b.o': { startMs: 310, endMs: 400 },
      'c.o': { startMs: 0, endMs: 250 },
      'k.elf': { startMs: 400, endMs: 450 },
    };
    expect(criticalChain(g, (id) => times[id])).toEqual(['gen.h', 'a.o', 'k.elf']);
    expect(criticalChain(g, () => undefined)).toEqual([]);
  });

  it('groups by the deepest folder depth that fits, one group per space at depth 0', () => {
    const items = [
      { space: 'compiles', folder: 'musl/src/string' },
      { space: 'compiles', folder: 'musl/src/stdio' },
      { space: 'compiles', folder: 'core' },
      { space: 'files', folder: 'core' },
    ];
    expect(groupingDepth(1, items, 5)).toBeUndefined();
    expect(groupingDepth(1, items, 4)).toBe(2);
    expect(groupingDepth(1, items, 3)).toBe(0);
    expect(folderAt('musl/src/string', 2)).toBe('musl/src');
    expect(folderAt('/usr/include/sys', 1)).toBe('/usr');
    expect(folderAt('.', 3)).toBe('.');
  });
});

interface PictureJson {
  actions: number;
  groupedAtDepth?: number;
  nodes: { id: string; kind: string; state: string; lines: string[]; output?: string; members: number; durationMs?: number }[];
  edges: { from: string; to: string; label: string; count: number }[];
}

interface TraceJson {
  displayTimeUnit: string;
  traceEvents: { name: string; ph: string; pid: number; tid: number; ts?: number; dur?: number; cat?: string; args?: Record<string, unknown> }[];
}

function json<T>(root: string, args: string[]): T {
  const r = osvd(root, [...args, '--json']);
  if (r.code !== 0) throw new Error(`osvd ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describe('osvd graph, osvd report and the trace, on the example tree', () => {
  let browser: Browser;
  let root: string;
  let cold: BuildJson & { criticalPath: string[]; ran: (BuildJson['ran'][number] & { time: { slot: number; startMs: number; endMs: number } })[] };

  beforeAll(async () => {
    browser = await launchBrowser();
    root = copyExample();
    cold = build(root) as typeof cold;
    expect(cold.ok).toBe(true);
  });
  afterAll(async () => {
    await browser?.close();
    stopDaemons();
    removeCopies();
  });

  it('the report page draws every action of the build on its job slot and marks the critical path of build --json', async () => {
    const html = path.join(root, 'report.html');
    const written = json<{ ok: boolean; html: string; actions: number; criticalPath: number }>(root, ['report', '-o', html]);
    expect(written).toMatchObject({ ok: true, html, actions: cold.ran.length, criticalPath: cold.criticalPath.length });
    const { page, requests, errors } = await browser.open(html);
    const bars = await page.locator('.timeline rect.bar').evaluateAll((els) =>
      els.map((el) => {
        const box = el.getBoundingClientRect();
        return { output: el.getAttribute('data-output')!, slot: el.getAttribute('data-slot')!, critical: el.classList.contains('critical'), x: Number(el.getAttribute('x')), width: box.width, height: box.height };
      }),
    );
    expect(bars.length).toBe(cold.ran.length);
    expect(bars.map((b) => b.output).sort()).toEqual(cold.ran.map((e) => e.output).sort());
    for (const b of bars) {
      expect(b.width).toBeGreaterThan(0);
      expect(b.height).toBeGreaterThan(0);
      expect(b.slot).toBe(String(cold.ran.find((e) => e.output === b.output)!.time.slot));
    }
    const critical = bars.filter((b) => b.critical).sort((a, b) => a.x - b.x);
    expect(critical.map((b) => b.output)).toEqual(cold.criticalPath);
    expect(await page.locator('#critical-path li').count()).toBe(cold.criticalPath.length);
    // What ran and why: one node per action (55 fit without grouping), the critical ones outlined.
    expect(await page.locator('#graph g.node').count()).toBe(cold.ran.length);
    expect(await page.locator('#graph g.node.critical').count()).toBe(cold.criticalPath.length);
    expect(await page.locator('#actions tbody tr').count()).toBe(cold.ran.length);
    expect(await page.locator('#restores').textContent()).toContain('Nothing was restored');
    // Clicking a bar selects its row.
    await page.locator('.timeline rect.bar.critical').last().click({ force: true });
    expect(await page.locator('#actions tr.selected').getAttribute('data-id')).toBe(cold.criticalPath.at(-1));
    expect(requests).toEqual([`file://${html}`]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('the trace has one complete event per action on its slot, tracks that never overlap, and metadata naming the slots', () => {
    const file = path.join(root, 'trace.json');
    expect(osvd(root, ['report', '-o', path.join(root, 'r2.html'), '--trace', file]).code).toBe(0);
    const trace = JSON.parse(fs.readFileSync(file, 'utf8')) as TraceJson;
    expect(trace.displayTimeUnit).toBe('ms');
    const complete = trace.traceEvents.filter((e) => e.ph === 'X');
    expect(complete.length).toBe(cold.ran.length);
    for (const e of cold.ran) {
      const events = complete.filter((x) => x.name === e.output);
      expect(events.length).toBe(1);
      const x = events[0]!;
      expect(x.pid).toBe(1);
      expect(x.tid).toBe(e.time.slot + 1);
      expect(Math.abs(x.ts! / 1000 - e.time.startMs)).toBeLessThanOrEqual(1);
      expect(Math.abs((x.ts! + x.dur!) / 1000 - e.time.endMs)).toBeLessThanOrEqual(1);
      expect(x.cat!.split(',')).toEqual([e.kind, 'ran', ...(cold.criticalPath.includes(e.output) ? ['critical'] : [])]);
    }
    const tids = [...new Set(complete.map((e) => e.tid))].sort();
    for (const tid of tids) {
      const track = complete.filter((e) => e.tid === tid).sort((a, b) => a.ts! - b.ts!);
      for (let i = 1; i < track.length; i++) expect(track[i]!.ts!).toBeGreaterThanOrEqual(track[i - 1]!.ts! + track[i - 1]!.dur!);
      const name = trace.traceEvents.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.tid === tid);
      expect(name?.args).toEqual({ name: `job slot ${tid}` });
    }
    // Each action on the critical path starts after the one before it ended (it depended on it).
    const chain = cold.criticalPath.map((o) => complete.find((e) => e.name === o)!);
    for (let i = 1; i < chain.length; i++) expect(chain[i]!.ts!).toBeGreaterThanOrEqual(chain[i - 1]!.ts! + chain[i - 1]!.dur!);
  });

  it('osvd graph --svg draws every action with its duration, and the SVG parses', async () => {
    const svg = path.join(root, 'graph.svg');
    const r = osvd(root, ['graph', '--svg', svg]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`osvd: wrote graph.svg: ${cold.ran.length} actions in ${cold.ran.length} nodes\n`);
    const { page, errors } = await browser.open(svg);
    const parsed = await page.evaluate((text) => {
      const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
      const nodes = [...doc.querySelectorAll('g.node')];
      return {
        parseErrors: doc.getElementsByTagName('parsererror').length,
        root: doc.documentElement.nodeName,
        outputs: nodes.map((n) => n.getAttribute('data-output')),
        durations: nodes.map((n) => n.getAttribute('data-duration-ms')),
        labels: nodes.map((n) => n.querySelector('text')!.textContent),
        edges: doc.querySelectorAll('g.edge').length,
        drawn: document.querySelectorAll('g.node').length,
      };
    }, fs.readFileSync(svg, 'utf8'));
    expect(parsed.parseErrors).toBe(0);
    expect(parsed.root).toBe('svg');
    expect(parsed.outputs.sort()).toEqual(cold.ran.map((e) => e.output).sort());
    expect(parsed.drawn).toBe(cold.ran.length);
    expect(parsed.durations.every((d) => d !== null && Number(d) >= 0)).toBe(true);
    expect(parsed.labels.every((l) => / s · up to date$/.test(l!))).toBe(true);
    const dot = osvd(root, ['graph']).stdout;
    expect(parsed.edges).toBe(dot.split('\n').filter((l) => l.includes(' -> ')).length);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('osvd graph TARGET draws what it needs; --max-nodes groups compiles by folder', () => {
    const target = json<PictureJson>(root, ['graph', `${OUT}/loader.o`]);
    // loader.o waits for the build folder and the generated headers (order-only prerequisites in the Makefile).
    const gen = `${OUT}/gen/include/osv`;
    expect(target.nodes.map((n) => n.output).sort()).toEqual([OUT, gen, `${gen}/drivers_config.h`, `${gen}/version.h`, `${OUT}/loader.o`]);
    expect(target.edges.map((e) => `${e.from} -> ${e.to}`).sort()).toEqual(
      [OUT, 'perhaps-modify-drivers-config-h', 'perhaps-modify-syscalls-h', 'perhaps-modify-version-h'].map((from) => `${from} -> ${OUT}/loader.o`),
    );

    const compiles = cold.ran.filter((e) => e.kind === 'compile').map((e) => path.dirname(path.relative(OUT, e.output)));
    const byFolder = new Map<string, number>();
    for (const f of compiles) byFolder.set(f, (byFolder.get(f) ?? 0) + 1);
    const others = cold.ran.length - compiles.length;
    const grouped = json<PictureJson>(root, ['graph', '--max-nodes', String(others + byFolder.size)]);
    expect(grouped.groupedAtDepth).toBe(2);
    const groups = grouped.nodes.filter((n) => n.kind === 'group');
    const singles = grouped.nodes.filter((n) => n.kind === 'compile');
    expect(groups.length + singles.length).toBe(byFolder.size);
    for (const g of groups) expect(g.members).toBe(byFolder.get(g.lines[0]!.replace(/\/$/, '')));
    expect(groups.reduce((n, g) => n + g.members, 0) + singles.length).toBe(compiles.length);
    expect(grouped.nodes.length).toBe(others + byFolder.size);
    // Each object goes to one link (the kernel or libsolaris.so): one edge from each folder stands for them.
    const links = new Set(grouped.nodes.filter((n) => n.kind === 'link').map((n) => n.id));
    for (const g of groups) {
      const out = grouped.edges.filter((e) => e.from === g.id && links.has(e.to));
      expect(out.reduce((n, e) => n + e.count, 0)).toBe(g.members);
    }
  });

  it('after a profile switch, --stale draws the knob, the header generator and what waits on it; the report shows the reasons on the edges', async () => {
    const stale = json<PictureJson>(root, ['graph', '--stale', '--set', 'conf_drivers_profile=virtio-mmio']);
    const status = json<{ dirty: { run: number; restore: number; pending: number } }>(root, ['status', '--set', 'conf_drivers_profile=virtio-mmio']);
    const actions = stale.nodes.filter((n) => n.output !== undefined);
    expect(actions.length).toBe(status.dirty.run + status.dirty.restore + status.dirty.pending);
    expect(stale.nodes.find((n) => n.id === 'knob:conf_drivers_profile')!.lines).toEqual(['conf_drivers_profile: all -> virtio-mmio']);
    expect(stale.edges).toContainEqual({ from: 'knob:conf_drivers_profile', to: 'perhaps-modify-drivers-config-h', label: 'environment', count: 1 });
    // Every stale compile but bootfs.o reads drivers_config.h; bootfs.o embeds bootfs.bin, whose manifest step reruns on any knob change.
    const waiting = actions.filter((n) => n.kind === 'compile' && n.id !== `${OUT}/bootfs.o`);
    expect(waiting.length).toBe(5);
    for (const n of waiting) expect(stale.edges).toContainEqual({ from: 'perhaps-modify-drivers-config-h', to: n.id, label: 'rebuilt drivers_config.h', count: 1 });
    expect(stale.edges).toContainEqual({ from: `${OUT}/bootfs.bin`, to: `${OUT}/bootfs.o`, label: 'rebuilt bootfs.bin', count: 1 });

    const switched = build(root, 'conf_drivers_profile=virtio-mmio') as typeof cold;
    expect(switched.ok).toBe(true);
    const html = path.join(root, 'switch.html');
    expect(osvd(root, ['report', '-o', html]).code).toBe(0);
    const { page, errors } = await browser.open(html);
    const recompiled = switched.ran.filter((e) => e.kind === 'compile').map((e) => e.output);
    expect(recompiled.length).toBeGreaterThan(0);
    const labels = await page.locator('#graph g.edge').evaluateAll((els) => els.map((e) => ({ from: e.getAttribute('data-from'), to: e.getAttribute('data-to'), label: e.querySelector('text')?.textContent ?? '' })));
    for (const o of recompiled) expect(labels).toContainEqual({ from: 'perhaps-modify-drivers-config-h', to: o, label: 'modified drivers_config.h' });
    expect(await page.locator('.timeline rect.bar').count()).toBe(switched.ran.length + switched.restored.length);
    expect(await page.locator('.timeline rect.bar.critical').count()).toBe(switched.criticalPath.length);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a failed compile is a red bar, and its compiler output is under its name in the warnings', async () => {
    const broken = copyExample();
    fs.appendFileSync(path.join(broken, 'core/sched.cc'), '\nint osvd_broken( {\n');
    const r = build(broken);
    expect(r.ok).toBe(false);
    expect(r.failed.map((f) => f.output)).toEqual([`${OUT}/core/sched.o`]);
    const html = path.join(broken, 'failed.html');
    expect(osvd(broken, ['report', '-o', html]).code).toBe(0);
    const { page, errors } = await browser.open(html);
    expect(await page.locator('h1').textContent()).toMatch(/^osvd build failed in /);
    expect(await page.locator('.timeline rect.bar.state-failed').evaluateAll((els) => els.map((e) => e.getAttribute('data-output')))).toEqual([`${OUT}/core/sched.o`]);
    expect(await page.locator('.timeline rect.bar').count()).toBe(r.ran.length + r.failed.length);
    const warning = page.locator(`#warnings details[data-id="${OUT}/core/sched.o"]`);
    expect(await warning.count()).toBe(1);
    expect(await warning.locator('pre').textContent()).toContain(r.failed[0]!.message.split('\n')[0]);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('a build through the daemon records the same timeline: the report and the trace of it', () => {
    const tree = copyExample();
    startDaemon(tree);
    const r = build(tree) as typeof cold;
    expect(r).toMatchObject({ ok: true, via: 'daemon' });
    expect(r.criticalPath.length).toBeGreaterThan(0);
    const trace = path.join(tree, 'daemon-trace.json');
    const written = json<{ actions: number; criticalPath: number; trace: string }>(tree, ['report', '-o', path.join(tree, 'daemon.html'), '--trace', trace]);
    expect(written).toMatchObject({ actions: r.ran.length, criticalPath: r.criticalPath.length, trace });
    const events = (JSON.parse(fs.readFileSync(trace, 'utf8')) as TraceJson).traceEvents.filter((e) => e.ph === 'X');
    expect(events.map((e) => `${e.name} ${e.tid}`).sort()).toEqual(r.ran.map((e) => `${e.output} ${e.time.slot + 1}`).sort());
  });

  it('refuses bad input with exit 2: no build yet, a bad --max-nodes, an unknown target, a trace of a build that ran nothing', () => {
    const fresh = copyExample();
    const none = osvd(fresh, ['report']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no build of this tree is recorded yet');
    const bad = osvd(root, ['graph', '--max-nodes', 'many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("'--max-nodes many' is not a whole number");
    const unknown = osvd(root, ['graph', 'no/such.o']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("TARGET: 'no/such.o' is neither an output nor a source");
    expect(build(root).ok).toBe(true);
    expect(build(root).ran).toEqual([]);
    const nothing = osvd(root, ['report', '--trace', path.join(root, 'none.json')]);
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('the last build ran nothing and restored nothing: there is nothing to trace');
    expect(fs.existsSync(path.join(root, 'none.json'))).toBe(false);
  });
});
