import { createHash } from 'node:crypto';

/** Content hashes are SHA-256, shortened to 160 bits of hex: plenty for a build cache. */
const HASH_CHARS = 40;

export function hashBytes(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex').slice(0, HASH_CHARS);
}

/**
 * Hash a structured value. Strings are length-prefixed so that ["ab","c"] and ["a","bc"] differ;
 * object keys are sorted so that insertion order never changes a key.
 */
export function hashValue(value: unknown): string {
  const h = createHash('sha256');
  feed(h, value);
  return h.digest('hex').slice(0, HASH_CHARS);
}

function feed(h: ReturnType<typeof createHash>, value: unknown): void {
  if (value === null || value === undefined) {
    h.update('n;');
  } else if (typeof value === 'string') {
    h.update(`s${Buffer.byteLength(value)}:`).update(value);
  } else if (typeof value === 'number' || typeof value === 'boolean') {
    h.update(`v${String(value)};`);
  } else if (Array.isArray(value)) {
    h.update(`a${value.length}[`);
    for (const item of value) feed(h, item);
    h.update(']');
  } else if (typeof value === 'object') {
    const keys = Object.keys(value as Record<string, unknown>).sort();
    h.update(`o${keys.length}{`);
    for (const k of keys) {
      feed(h, k);
      feed(h, (value as Record<string, unknown>)[k]);
    }
    h.update('}');
  } else {
    throw new TypeError(`cannot hash a ${typeof value}`);
  }
}
