/**
 * Why the build keeps its own graph (graph/graph.ts, Maps and lists) and graphlib only draws pictures:
 * the same work on both at OSv's shape and beyond. The graph has `--tus` compiles, each after two
 * generated headers, and one link that reads them all (3 edges per compile: 100k edges at 33,334).
 * Measured: building the graph with its topological order (BuildGraph orders while it checks for
 * cycles), everything upstream of the link, everything downstream of a header, each action's
 * predecessors once (what the scheduler and the plan do). Prints the median of `--runs` runs of each and the ratio graphlib / osvd.
 *
 * With --expose-gc it also prints the heap each graph keeps.
 *
 *   node --expose-gc dist/bench/graphlib.js [--tus 33334] [--runs 5]
 */
import { alg, Graph } from '@dagrejs/graphlib';
import type { Action } from '../graph/action.js';
import { BuildGraph } from '../graph/graph.js';

function argOf(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

function actions(tus: number): Action[] {
  const base = { commands: ['true'], cwd: '.', env: {}, keyEnv: {}, orderAfter: [] as string[] };
  const list: Action[] = [
    { ...base, id: 'gen/a.h', kind: 'generate', inputs: [], outputs: ['gen/a.h'] },
    { ...base, id: 'gen/b.h', kind: 'generate', inputs: [], outputs: ['gen/b.h'] },
  ];
  const objects: string[] = [];
  for (let i = 0; i < tus; i++) {
    const o = `obj/d${i % 97}/f${i}.o`;
    objects.push(o);
    list.push({ ...base, id: o, kind: 'compile', inputs: [`src/d${i % 97}/f${i}.c`, 'gen/a.h', 'gen/b.h'], outputs: [o] });
  }
  list.push({ ...base, id: 'loader.elf', kind: 'link', inputs: objects, outputs: ['loader.elf'] });
  return list;
}

/** The same graph in graphlib: one node per action, one edge per producer -> consumer. */
function graphlibOf(list: readonly Action[]): Graph {
  const g = new Graph({ directed: true });
  const producer = new Map<string, string>();
  for (const a of list) {
    g.setNode(a.id);
    for (const o of a.outputs) producer.set(o, a.id);
  }
  for (const a of list) {
    for (const i of a.inputs) {
      const p = producer.get(i);
      if (p !== undefined) g.setEdge(p, a.id);
    }
  }
  return g;
}

function walk(start: string, next: (id: string) => readonly string[] | undefined): number {
  const seen = new Set<string>();
  const stack = [...(next(start) ?? [])];
  while (stack.length) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const n of next(id) ?? []) stack.push(n);
  }
  return seen.size;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

/** The heap a value keeps, measured around its making with a full collection before and after. */
function heapKept(make: () => unknown): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = make();
  gc();
  const after = process.memoryUsage().heapUsed;
  if (kept === undefined) throw new Error('unreachable');
  return after - before;
}

function main(): void {
  const tus = argOf('--tus', 33_334);
  const runs = argOf('--runs', 5);
  const list = actions(tus);
  const rows: Record<string, { osvd: number[]; graphlib: number[] }> = {
    'graph + topological order': { osvd: [], graphlib: [] },
    'upstream of the link': { osvd: [], graphlib: [] },
    'downstream of a header': { osvd: [], graphlib: [] },
    'every predecessor list': { osvd: [], graphlib: [] },
  };
  let edges = 0;
  for (let r = 0; r < runs; r++) {
    let ours!: BuildGraph;
    let theirs!: Graph;
    rows['graph + topological order']!.osvd.push(time(() => (ours = new BuildGraph(list)).topologicalOrder()));
    rows['graph + topological order']!.graphlib.push(time(() => alg.topsort((theirs = graphlibOf(list)))));
    edges = theirs.edgeCount();
    rows['upstream of the link']!.osvd.push(time(() => ours.upstreamOf('loader.elf')));
    rows['upstream of the link']!.graphlib.push(time(() => walk('loader.elf', (id) => theirs.predecessors(id) as string[] | undefined)));
    rows['downstream of a header']!.osvd.push(time(() => ours.downstreamOf('gen/a.h')));
    rows['downstream of a header']!.graphlib.push(time(() => walk('gen/a.h', (id) => theirs.successors(id) as string[] | undefined)));
    rows['every predecessor list']!.osvd.push(time(() => list.reduce((n, a) => n + ours.predecessors(a.id).length, 0)));
    rows['every predecessor list']!.graphlib.push(time(() => list.reduce((n, a) => n + (theirs.predecessors(a.id) as string[]).length, 0)));
  }
  process.stdout.write(`${list.length} actions, ${edges} edges, median of ${runs} runs (Node ${process.version})\n`);
  process.stdout.write(`${'work'.padEnd(26)}${'osvd (Map/list)'.padStart(17)}${'graphlib'.padStart(12)}${'ratio'.padStart(9)}\n`);
  let ours = 0;
  let theirs = 0;
  for (const [name, r] of Object.entries(rows)) {
    const a = median(r.osvd);
    const b = median(r.graphlib);
    ours += a;
    theirs += b;
    process.stdout.write(`${name.padEnd(26)}${`${a.toFixed(1)} ms`.padStart(17)}${`${b.toFixed(1)} ms`.padStart(12)}${`${(b / a).toFixed(1)}x`.padStart(9)}\n`);
  }
  process.stdout.write(`${'all of it'.padEnd(26)}${`${ours.toFixed(1)} ms`.padStart(17)}${`${theirs.toFixed(1)} ms`.padStart(12)}${`${(theirs / ours).toFixed(1)}x`.padStart(9)}\n`);
  const oursHeap = heapKept(() => new BuildGraph(list));
  const theirsHeap = heapKept(() => graphlibOf(list));
  if (oursHeap !== undefined && theirsHeap !== undefined) {
    const mb = (n: number): string => `${(n / 1024 ** 2).toFixed(1)} MB`;
    process.stdout.write(`${'heap kept by the graph'.padEnd(26)}${mb(oursHeap).padStart(17)}${mb(theirsHeap).padStart(12)}${`${(theirsHeap / oursHeap).toFixed(1)}x`.padStart(9)}\n`);
  }
}

main();
