/** Small helpers the pictures share: escaping for XML and DOT, durations, and text sizes. */

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A DOT quoted string (newlines become DOT's centred line breaks). */
export function dotString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/** 0.04 s, 1.3 s, 12 s, 5 min 3 s: a make user's units, not milliseconds. */
export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(ms < 100 ? 3 : ms < 1000 ? 2 : 1)} s`;
  if (ms < 60_000) return `${Math.round(ms / 1000)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${s % 60} s`;
}

/**
 * The pictures draw text in a monospace font, so a line's width is its length times one advance
 * (DejaVu Sans Mono and Liberation Mono: 0.6 em); the layout needs sizes before any browser runs.
 */
export const FONT_PX = 11;
export const CHAR_PX = FONT_PX * 0.6;
export const LINE_PX = 14;

export function textWidth(line: string): number {
  return Math.ceil(line.length * CHAR_PX);
}

export function basename(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(i + 1);
}

export function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
}
