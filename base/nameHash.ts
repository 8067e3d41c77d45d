/**
 * A short, stable, non-cryptographic hash (64-bit FNV-1a) for naming files after paths. It exists so
 * that the fast client path need not load node:crypto (several milliseconds) just to name a file.
 */
export function nameHash(text: string): string {
  let h = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h.toString(16).padStart(16, '0');
}
