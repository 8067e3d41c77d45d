import { createHash, type Hash } from 'node:crypto';

/** Content hashes are SHA-256, shortened to 160 bits of hex: plenty for a build cache. */
export const HASH_CHARS = 40;

export function hashBytes(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex').slice(0, HASH_CHARS);
}

/**
 * Hash a structured value. Strings are length-prefixed so that ["ab","c"] and ["a","bc"] differ;
 * object keys are sorted so that insertion order never changes a key. The value's encoding is built
 * in pieces of a few thousand parts, each hashed with one call: a kernel link's key has thousands of
 * parts, and a call into the hash per part cost twice as much as the whole encoding.
 */
export function hashValue(value: unknown): string {
  const h = createHash('sha256');
  const parts: string[] = [];
  encode(parts, value, h);
  return h.update(parts.join('')).digest('hex').slice(0, HASH_CHARS);
}

/** Parts gathered before they are hashed: enough to make the calls few, few enough to keep the text small. */
const PARTS_PER_UPDATE = 4096;

function encode(parts: string[], value: unknown, h: Hash): void {
  if (parts.length >= PARTS_PER_UPDATE) {
    h.update(parts.join(''));
    parts.length = 0;
  }
  if (value === null || value === undefined) {
    parts.push('n;');
  } else if (typeof value === 'string') {
    parts.push(`s${Buffer.byteLength(value)}:`, value);
  } else if (typeof value === 'number' || typeof value === 'boolean') {
    parts.push(`v${String(value)};`);
  } else if (Array.isArray(value)) {
    parts.push(`a${value.length}[`);
    for (const item of value) encode(parts, item, h);
    parts.push(']');
  } else if (typeof value === 'object') {
    const keys = Object.keys(value as Record<string, unknown>).sort();
    parts.push(`o${keys.length}{`);
    for (const k of keys) {
      encode(parts, k, h);
      encode(parts, (value as Record<string, unknown>)[k], h);
    }
    parts.push('}');
  } else {
    throw new TypeError(`cannot hash a ${typeof value}`);
  }
}
