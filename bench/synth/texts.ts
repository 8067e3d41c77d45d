/**
 * The text of a synthetic tree's sources: each header and each translation unit, with its #include
 * lines and the small functions that use what it includes. The shape comes from generateTree
 * (generate.ts); here it is only written out as C and C++.
 */
import path from 'node:path';
import { DRIVERS } from './scripts.js';
import type { Header, Rng, Tu } from './shape.js';

const DRIVERS_CONFIG = 'osv/drivers_config.h';

/** How `from` (a file at fromPath) includes header h. */
function includeLine(h: Header, fromPath: string): string {
  const fromDir = path.posix.dirname(fromPath);
  const hDir = path.posix.dirname(h.path);
  if (h.folder && hDir === (fromDir === '.' ? '.' : fromDir) && !h.path.startsWith('include/')) return `#include "${path.posix.basename(h.path)}"`;
  if (h.path.startsWith('include/api/')) return `#include <${h.path.slice('include/api/'.length)}>`;
  if (h.path.startsWith('include/')) return `#include <${h.path.slice('include/'.length)}>`;
  return `#include <${h.path}>`;
}

/** An expression using header h's inline function on x. */
function mixCall(h: Header, x: string): string {
  if (h.popularMix) return `${h.popularMix}(${x})`;
  return h.lang === 'c' ? `${h.sym}_mix(${x})` : `${h.sym}::mix<long>(${x})`;
}

export function headerText(h: Header, rng: Rng): string {
  const guard = `SYNTH_${h.path.replace(/[^A-Za-z0-9]/g, '_').toUpperCase()}`;
  const k = rng.range(3, 997);
  const lines: string[] = [
    `/* ${h.path}: synthetic ${h.lang === 'c' ? 'C' : 'C++'} header (level ${h.level}) of the ${h.group.name} code. */`,
    `#ifndef ${guard}`,
    `#define ${guard}`,
    '',
    ...h.includes.map((g) => includeLine(g, h.path)),
    '',
  ];
  const inner = h.includes.filter((g) => g.popularMix || g.level > 0);
  const mixes = inner.map((g) => ` + ${mixCall(g, 'x')}`).join('');
  const api = h.owner ? `${h.sym}_api` : undefined;
  if (h.lang === 'c') {
    lines.push(
      `#define ${h.sym.toUpperCase()}_MAGIC ${k}L`,
      '',
      `struct ${h.sym}_s {`,
      '    u32 flags;',
      '    u64 value;',
      '};',
      '',
      `static inline long ${h.sym}_mix(long x)`,
      '{',
      `    return (x ^ ${h.sym.toUpperCase()}_MAGIC) * ${rng.range(2, 9)}${mixes};`,
      '}',
      '',
    );
    if (api) lines.push('__BEGIN_DECLS', `long ${api}(long x);`, '__END_DECLS', '');
  } else {
    lines.push(
      `namespace ${h.sym} {`,
      '',
      `constexpr long magic = ${k};`,
      '',
      'struct state {',
      '    long value;',
      '    long get() const { return value * magic; }',
      '};',
      '',
      'template <typename T>',
      'inline T mix(T x)',
      '{',
      `    return state{x}.get() + ${rng.range(1, 99)}${mixes};`,
      '}',
      '',
      `} // namespace ${h.sym}`,
      '',
    );
    if (api) lines.push(`long ${api}(long x);`, '');
  }
  lines.push(`#endif /* ${guard} */`, '');
  return lines.join('\n');
}

export function tuText(t: Tu, seed: number, rng: Rng): string {
  const cxx = t.lang === 'cxx';
  const lines: string[] = [
    `/* ${t.path}: synthetic ${cxx ? 'C++' : 'C'} translation unit of the ${t.folder.group.name} code${t.driver ? ` (driver ${t.driver})` : ''}; tree seed ${seed}. */`,
  ];
  for (const h of t.popular) lines.push(`#include <${h.path.slice('include/'.length)}>`);
  for (const h of t.direct) lines.push(includeLine(h, t.path));
  if (t.driversConfig) lines.push(`#include <${DRIVERS_CONFIG}>`);
  lines.push('');

  const k1 = rng.range(2, 31);
  const k2 = rng.range(1, 1000);
  if (cxx) {
    lines.push('namespace {', '', `struct ${t.sym}_state {`, '    long v;', `    long step(long x) const { return v * x + ${k2}; }`, '};', '', '} // namespace', '');
  } else {
    lines.push(`static long ${t.sym}_step(long x)`, '{', `    return x * ${k1} + ${k2};`, '}', '');
  }
  const uses = [...t.popular.filter((h) => h.popularMix), ...t.direct];
  const nf = rng.range(2, 4);
  for (let f = 0; f < nf; f++) {
    const mine = uses.filter((_, i) => i % nf === f);
    const exportIt = f === 0 && t.exported;
    const sig = `long ${t.sym}_f${f}(long x)`;
    lines.push(exportIt ? `${cxx ? 'extern "C" ' : ''}OSV_API ${sig}` : sig, '{');
    if (cxx) lines.push(`    ${t.sym}_state s{${k1}};`, '    long acc = s.step(x);');
    else lines.push(`    long acc = ${t.sym}_step(x);`);
    for (const h of mine) lines.push(`    acc += ${mixCall(h, 'acc')};`);
    for (const h of [...t.calls].filter((_, i) => i % nf === f)) lines.push(`    acc += ${h.sym}_api(acc);`);
    if (f > 0) lines.push(`    acc ^= ${t.sym}_f${f - 1}(x);`);
    lines.push('    return acc;', '}', '');
  }
  for (const h of t.owns) {
    lines.push(`long ${h.sym}_api(long x)`, '{', `    return ${mixCall(h, 'x')} + ${rng.range(1, 50)};`, '}', '');
  }
  if (t.driversConfig) {
    lines.push(`long ${t.sym}_drivers(void)`, '{', '    long n = 0;');
    DRIVERS.forEach((d, i) => {
      if (i % 3 === t.index % 3) lines.push(`#if CONF_drivers_${d}`, `    n += ${i + 1};`, '#endif');
    });
    lines.push('    return n;', '}', '');
  }
  return lines.filter((l, i, all) => !(l === '' && all[i - 1] === '')).join('\n');
}
