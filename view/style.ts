import type { NodeKind, PictureNode } from './picture.js';

/** The colours of the pictures, one place for the DOT, the SVG and the report. */

/** Fill by state: what ran is warm, what was restored or is up to date is cool or grey. */
export const STATE_FILL: Record<PictureNode['state'], string> = {
  ran: '#fde2a7',
  failed: '#f7a6a6',
  restored: '#bfe0f7',
  upToDate: '#e8e8e8',
  run: '#fde2a7',
  restore: '#bfe0f7',
  pending: '#fff3d6',
  changed: '#d9f2d0',
};

export const KIND_SHAPE: Record<NodeKind, 'box' | 'folder' | 'note' | 'hexagon'> = {
  compile: 'box',
  generate: 'box',
  link: 'box',
  other: 'box',
  group: 'folder',
  file: 'note',
  knob: 'hexagon',
};

export const CRITICAL = '#c0392b';
