import { createHash } from 'node:crypto';

/**
 * What osvd keeps under one key in a shared cache's action area: the verifying traces of one action
 * (as the local trace store keeps them per pre-key), each with the outputs it wrote and the full
 * SHA-256 of each output, by which the blobs are found in the CAS.
 *
 * On the wire the entry is a Remote Execution API `ActionResult` with one output file, `ENTRY_FILE`,
 * whose contents (inlined, with their digest) are the entry as JSON. bazel-remote checks what is put
 * under /ac/ as an ActionResult unless told not to (`--disable_http_ac_validation`), and answers 404 for
 * one whose blobs it lacks: this shape passes with its defaults; plain file servers store it as it is.
 */

export const ENTRY_FILE = 'osvd-action-entry.json';
const ENTRY_VERSION = 1;
/** Traces kept per entry: configurations a team builds side by side (branches, header edits). */
export const TRACES_PER_ENTRY = 8;

export interface SharedOutput {
  readonly path: string;
  /** osvd's content hash (`dir`, `link:<target>`), as in OutputRecord. */
  readonly hash: string;
  /** For a file: the full SHA-256 of its bytes, its name in the CAS (osvd's hash is its prefix). */
  readonly sha256?: string;
  readonly mode: number;
  readonly size: number;
}

export interface SharedTrace {
  /** Discovered dependencies with their hashes: paths relative to the tree's root, or absolute (host headers). */
  readonly deps: readonly (readonly [string, string])[];
  readonly outputs: readonly SharedOutput[];
  readonly durationMs: number;
}

export interface ActionEntry {
  readonly traces: readonly SharedTrace[];
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** The entry as an ActionResult's bytes. */
export function encodeEntry(entry: ActionEntry): Buffer {
  const json = Buffer.from(JSON.stringify({ osvd: ENTRY_VERSION, traces: entry.traces }));
  const digest = Buffer.concat([field(1, Buffer.from(sha256(json))), varintField(2, json.length)]);
  const outputFile = Buffer.concat([field(1, Buffer.from(ENTRY_FILE)), field(2, digest), field(5, json)]);
  return field(2, outputFile);
}

/**
 * The entry in an ActionResult's bytes, or a reason it is not one (garbage, a digest that does not
 * match its contents, a shape osvd did not write). Fields osvd does not use (the worker metadata
 * bazel-remote adds) are skipped. `contents` is absent when a server moved them to the CAS: then the
 * digest to fetch them by is returned.
 */
export function decodeEntry(bytes: Uint8Array): { entry: ActionEntry } | { inCas: { hash: string; size: number } } | { garbage: string } {
  try {
    for (const [num, value] of fields(bytes)) {
      if (num !== 2 || typeof value === 'number') continue;
      let path = '';
      let contents: Uint8Array | undefined;
      let digest: { hash: string; size: number } | undefined;
      for (const [n, v] of fields(value)) {
        if (n === 1 && typeof v !== 'number') path = Buffer.from(v).toString('utf8');
        else if (n === 5 && typeof v !== 'number') contents = v;
        else if (n === 2 && typeof v !== 'number') digest = decodeDigest(v);
      }
      if (path !== ENTRY_FILE) continue;
      if (!digest) return { garbage: 'the entry has no digest' };
      if (!contents || contents.length === 0) return { inCas: digest };
      return parseEntryJson(contents, digest);
    }
    return { garbage: `no ${ENTRY_FILE} in the action result` };
  } catch (err) {
    return { garbage: (err as Error).message };
  }
}

/** The entry's JSON, checked against the digest that names it and against the shape osvd writes. */
export function parseEntryJson(json: Uint8Array, digest: { hash: string; size: number }): { entry: ActionEntry } | { garbage: string } {
  if (json.length !== digest.size || sha256(json) !== digest.hash) return { garbage: 'the entry does not match its digest' };
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(json).toString('utf8'));
  } catch {
    return { garbage: 'the entry is not JSON' };
  }
  const v = value as { osvd?: unknown; traces?: unknown };
  if (typeof v !== 'object' || v === null || v.osvd !== ENTRY_VERSION || !Array.isArray(v.traces)) return { garbage: 'not an osvd action entry' };
  if (!v.traces.every(isTrace)) return { garbage: 'a trace of the entry is malformed' };
  return { entry: { traces: v.traces as SharedTrace[] } };
}

const HASH = /^[0-9a-f]{40}$/;
const SHA256 = /^[0-9a-f]{64}$/;

function isTrace(t: unknown): boolean {
  const x = t as SharedTrace;
  if (typeof x !== 'object' || x === null || !Array.isArray(x.deps) || !Array.isArray(x.outputs)) return false;
  if (!(Number.isInteger(x.durationMs) && x.durationMs >= 0)) return false;
  if (!x.deps.every((d) => Array.isArray(d) && d.length === 2 && typeof d[0] === 'string' && d[0] !== '' && typeof d[1] === 'string')) return false;
  return x.outputs.length > 0 && x.outputs.every(isOutput);
}

function isOutput(o: SharedOutput): boolean {
  if (typeof o !== 'object' || o === null || typeof o.path !== 'string' || typeof o.hash !== 'string') return false;
  if (!(Number.isInteger(o.mode) && o.mode >= 0 && o.mode <= 0o7777 && Number.isInteger(o.size) && o.size >= 0)) return false;
  if (o.hash === 'dir') return o.sha256 === undefined;
  // A link's target must stay relative: an entry from elsewhere never points into this machine's folders.
  if (o.hash.startsWith('link:')) return o.sha256 === undefined && o.hash.length > 5 && !o.hash.startsWith('link:/');
  return HASH.test(o.hash) && typeof o.sha256 === 'string' && SHA256.test(o.sha256) && o.sha256.startsWith(o.hash);
}

function decodeDigest(bytes: Uint8Array): { hash: string; size: number } {
  let hash = '';
  let size = 0;
  for (const [n, v] of fields(bytes)) {
    if (n === 1 && typeof v !== 'number') hash = Buffer.from(v).toString('utf8');
    else if (n === 2 && typeof v === 'number') size = v;
  }
  if (!SHA256.test(hash)) throw new Error('a digest is not a SHA-256');
  return { hash, size };
}

// Protocol buffers' wire format, as much as an ActionResult needs: varints and length-delimited fields.

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return Buffer.from(out);
}

function field(num: number, bytes: Uint8Array): Buffer {
  return Buffer.concat([varint((num << 3) | 2), varint(bytes.length), bytes]);
}

function varintField(num: number, n: number): Buffer {
  return Buffer.concat([varint(num << 3), varint(n)]);
}

/** The fields of a message: numbers for varints, bytes for length-delimited ones; fixed-width ones are skipped. */
function* fields(buf: Uint8Array): Generator<[number, number | Uint8Array]> {
  let i = 0;
  const readVarint = (): number => {
    let n = 0;
    let scale = 1;
    for (let k = 0; k < 10; k++) {
      if (i >= buf.length) throw new Error('truncated varint');
      const b = buf[i++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      scale *= 0x80;
    }
    throw new Error('varint too long');
  };
  while (i < buf.length) {
    const tag = readVarint();
    const num = Math.floor(tag / 8);
    const wire = tag % 8;
    if (num === 0) throw new Error('field number 0');
    if (wire === 0) yield [num, readVarint()];
    else if (wire === 2) {
      const len = readVarint();
      if (i + len > buf.length) throw new Error('truncated field');
      yield [num, buf.subarray(i, i + len)];
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unknown wire type ${wire}`);
    if (i > buf.length) throw new Error('truncated field');
  }
}
