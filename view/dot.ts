import type { Picture } from './picture.js';
import { CRITICAL, KIND_SHAPE, STATE_FILL } from './style.js';
import { dotString } from './text.js';

/** The picture as Graphviz DOT (`osvd graph | dot -Tsvg`), with the same labels as osvd's own SVG. */
export function toDot(picture: Picture): string {
  const out = [
    'digraph osvd {',
    '  rankdir=LR;',
    '  node [shape=box, style="rounded,filled", fontname="monospace", fontsize=10];',
    '  edge [fontname="monospace", fontsize=9, color="#bbbbbb"];',
  ];
  for (const id of picture.nodes()) {
    const n = picture.node(id)!;
    const attrs = [`label=${dotString(n.lines.join('\n'))}`, `tooltip=${dotString(n.title)}`, `fillcolor="${STATE_FILL[n.state]}"`];
    if (KIND_SHAPE[n.kind] !== 'box') attrs.push(`shape=${KIND_SHAPE[n.kind]}`, 'style=filled');
    if (n.critical) attrs.push(`color="${CRITICAL}"`, 'penwidth=2.5');
    out.push(`  ${dotString(id)} [${attrs.join(', ')}];`);
  }
  for (const e of picture.edges()) {
    const label = picture.edge(e)!;
    const attrs: string[] = [];
    if (label.label) attrs.push(`label=${dotString(label.label)}`, 'color="#555555"');
    if (label.count > 1) attrs.push(`penwidth=${Math.min(3, 1 + Math.log10(label.count)).toFixed(1)}`);
    if (label.critical) attrs.push(`color="${CRITICAL}"`, 'penwidth=2.5');
    out.push(`  ${dotString(e.v)} -> ${dotString(e.w)}${attrs.length ? ` [${attrs.join(', ')}]` : ''};`);
  }
  out.push('}');
  return out.join('\n') + '\n';
}
