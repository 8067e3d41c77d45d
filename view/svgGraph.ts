import dagre from '@dagrejs/dagre';
import type { Picture, PictureNode } from './picture.js';
import { CRITICAL, KIND_SHAPE, STATE_FILL } from './style.js';
import { FONT_PX, LINE_PX, escapeXml, textWidth } from './text.js';

/**
 * The picture drawn as SVG: dagre places the nodes and routes the edges (left to right, in the
 * direction the build flows), and the SVG is written here, so the file needs nothing but a browser.
 */

const PAD_X = 8;
const PAD_Y = 5;

export interface SvgOptions {
  /** Prefixes the ids inside the SVG, so that several can sit in one HTML page. */
  readonly idPrefix?: string;
  /** Include a <style> element (a file of its own); a page that styles its SVGs itself leaves it out. */
  readonly standalone?: boolean;
}

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function toSvg(picture: Picture, options: SvgOptions = {}): string {
  const prefix = options.idPrefix ?? 'osvd';
  const layout = new dagre.graphlib.Graph({ directed: true });
  layout.setGraph({ rankdir: 'LR', nodesep: 14, ranksep: 56, edgesep: 8, marginx: 12, marginy: 12 });
  layout.setDefaultEdgeLabel(() => ({}));
  for (const id of picture.nodes()) {
    const n = picture.node(id)!;
    layout.setNode(id, { width: Math.max(...n.lines.map(textWidth)) + 2 * PAD_X, height: n.lines.length * LINE_PX + 2 * PAD_Y });
  }
  for (const e of picture.edges()) {
    const label = picture.edge(e)!.label;
    layout.setEdge(e.v, e.w, label ? { width: textWidth(label) + 4, height: LINE_PX, labelpos: 'c' } : {});
  }
  dagre.layout(layout);
  const size = layout.graph();
  const width = Math.ceil(size.width ?? 0);
  const height = Math.ceil(size.height ?? 0);

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="osvd-graph" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="monospace" font-size="${FONT_PX}">`);
  if (options.standalone !== false) out.push(`<style>${GRAPH_CSS}</style>`);
  out.push(
    `<defs><marker id="${prefix}-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#777"/></marker>` +
      `<marker id="${prefix}-arrow-critical" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="${CRITICAL}"/></marker></defs>`,
  );
  out.push('<g class="edges">');
  for (const e of picture.edges()) {
    const data = picture.edge(e)!;
    const placed = layout.edge(e) as { points?: { x: number; y: number }[]; x?: number; y?: number };
    // An edge that only orders (no change named, not critical) stays in the background: at OSv's
    // scale every compile waits for the generated headers, and those edges would hide the others.
    const cls = data.critical ? 'edge critical' : data.label ? 'edge' : 'edge plain';
    const marker = data.critical ? `${prefix}-arrow-critical` : `${prefix}-arrow`;
    const strokeWidth = data.critical ? 2.5 : (data.label ? 1.2 : 0.7) * Math.min(3, 1 + Math.log10(data.count));
    out.push(`<g class="${cls}" data-from="${escapeXml(e.v)}" data-to="${escapeXml(e.w)}" data-count="${data.count}">`);
    out.push(`<path d="${pathOf(placed.points ?? [])}" fill="none" stroke-width="${fmt(strokeWidth)}" marker-end="url(#${marker})"/>`);
    if (data.label && placed.x !== undefined && placed.y !== undefined) {
      out.push(`<text class="edge-label" x="${fmt(placed.x)}" y="${fmt(placed.y + FONT_PX / 3)}" text-anchor="middle">${escapeXml(data.label)}</text>`);
    }
    out.push('</g>');
  }
  out.push('</g><g class="nodes">');
  for (const id of picture.nodes()) {
    const n = picture.node(id)!;
    const box = layout.node(id) as Box;
    out.push(nodeSvg(id, n, box));
  }
  out.push('</g></svg>');
  return out.join('\n') + '\n';
}

function nodeSvg(id: string, n: PictureNode, box: Box): string {
  const classes = ['node', `kind-${n.kind}`, `state-${n.state}`, ...(n.critical ? ['critical'] : [])];
  const attrs = [`class="${classes.join(' ')}"`, `data-id="${escapeXml(id)}"`, `data-members="${n.members.length}"`];
  if (n.output !== undefined) attrs.push(`data-output="${escapeXml(n.output)}"`);
  if (n.durationMs !== undefined) attrs.push(`data-duration-ms="${Math.round(n.durationMs)}"`);
  const w = box.width;
  const h = box.height;
  const x0 = -w / 2;
  const y0 = -h / 2;
  const fill = STATE_FILL[n.state];
  let shape: string;
  switch (KIND_SHAPE[n.kind]) {
    case 'folder':
      shape = `<rect class="stack" x="${fmt(x0 + 3)}" y="${fmt(y0 - 3)}" width="${fmt(w)}" height="${fmt(h)}" rx="3" fill="${fill}"/><rect class="shape" x="${fmt(x0)}" y="${fmt(y0)}" width="${fmt(w)}" height="${fmt(h)}" rx="3" fill="${fill}"/>`;
      break;
    case 'hexagon': {
      const d = Math.min(10, h / 2);
      const pts = [
        [x0, 0],
        [x0 + d, y0],
        [x0 + w - d, y0],
        [x0 + w, 0],
        [x0 + w - d, y0 + h],
        [x0 + d, y0 + h],
      ];
      shape = `<polygon class="shape" points="${pts.map(([px, py]) => `${fmt(px!)},${fmt(py!)}`).join(' ')}" fill="${fill}"/>`;
      break;
    }
    case 'note':
      shape = `<rect class="shape" x="${fmt(x0)}" y="${fmt(y0)}" width="${fmt(w)}" height="${fmt(h)}" stroke-dasharray="4 2" fill="${fill}"/>`;
      break;
    default:
      shape = `<rect class="shape" x="${fmt(x0)}" y="${fmt(y0)}" width="${fmt(w)}" height="${fmt(h)}" rx="5" fill="${fill}"/>`;
  }
  const firstBaseline = y0 + PAD_Y + LINE_PX - (LINE_PX - FONT_PX) / 2 - 1;
  const text = n.lines
    .map((line, i) => `<tspan x="0" y="${fmt(firstBaseline + i * LINE_PX)}"${i === 0 ? ' font-weight="bold"' : ''}>${escapeXml(line)}</tspan>`)
    .join('');
  return `<g ${attrs.join(' ')} transform="translate(${fmt(box.x)},${fmt(box.y)})"><title>${escapeXml(n.title)}</title>${shape}<text text-anchor="middle">${text}</text></g>`;
}

/** A smooth path through dagre's points (quadratic curves through the midpoints). */
function pathOf(points: readonly { x: number; y: number }[]): string {
  if (points.length === 0) return '';
  const p = points;
  let d = `M${fmt(p[0]!.x)},${fmt(p[0]!.y)}`;
  for (let i = 1; i < p.length - 1; i++) {
    const mx = (p[i]!.x + p[i + 1]!.x) / 2;
    const my = (p[i]!.y + p[i + 1]!.y) / 2;
    d += `Q${fmt(p[i]!.x)},${fmt(p[i]!.y)} ${fmt(mx)},${fmt(my)}`;
  }
  const last = p[p.length - 1]!;
  return `${d}L${fmt(last.x)},${fmt(last.y)}`;
}

function fmt(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** The graph's styles: inside a standalone SVG file, or once in the report's page. */
export const GRAPH_CSS = [
  '.osvd-graph .edge path{stroke:#555}',
  '.osvd-graph .edge.plain path{stroke:#bbb}',
  `.osvd-graph .edge.critical path{stroke:${CRITICAL}}`,
  '.osvd-graph .edge-label{fill:#444;font-size:10px;paint-order:stroke;stroke:#fff;stroke-width:3px}',
  '.osvd-graph .node .shape,.osvd-graph .node .stack{stroke:#555;stroke-width:1}',
  `.osvd-graph .node.critical .shape{stroke:${CRITICAL};stroke-width:2.5}`,
  '.osvd-graph .node text{fill:#111}',
].join('');
