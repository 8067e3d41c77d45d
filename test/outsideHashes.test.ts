import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../cache/db.js';
import { hashFileContents } from '../cache/fileContentHash.js';
import { FileState } from '../cache/fileState.js';
import { OutsideHashes } from '../cache/outsideHashes.js';

// Every read of a file's bytes, counted (the module's own function, wrapped).
vi.mock('../cache/fileContentHash.js', async (original) => {
  const real = await original<typeof import('../cache/fileContentHash.js')>();
  return { ...real, hashFileContents: vi.fn(real.hashFileContents) };
});
const reads = vi.mocked(hashFileContents);

/**
 * The compilers' hashes outlive a build folder: a new one (another tree, `rm -rf build`) takes them
 * from the user's cache folder while their stat is the same, instead of reading ~70 MB again.
 */
const dirs: string[] = [];
const scratch = (prefix: string): string => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** A build folder of its own: a new state database, as a fresh clone's first build has. */
function freshFiles(memoFile: string): FileState {
  const root = scratch('osvd-outside-root-');
  const { db } = openDatabase(path.join(root, 'state.db'));
  return new FileState(db, root, undefined, new OutsideHashes(memoFile));
}

/** The compiler proper g++ runs: a large file outside any tree, installed long ago. */
const cc1plus = execFileSync('g++', ['-print-prog-name=cc1plus'], { encoding: 'utf8' }).trim();
const readsOf = (file: string): number => reads.mock.calls.filter(([f]) => f === file).length;

describe('hashes of large files outside the tree, across build folders', () => {
  let memoFile: string;
  beforeEach(() => {
    memoFile = path.join(scratch('osvd-xdg-'), 'osvd', 'outside-hashes.json');
    reads.mockClear();
  });

  it('a second build folder takes the compiler hash from the memo, reading nothing; a stat that differs is read again', () => {
    expect(path.isAbsolute(cc1plus) && fs.statSync(cc1plus).size).toBeGreaterThan(1 << 20);
    const truth = hashFileContents(cc1plus);
    reads.mockClear();
    expect(freshFiles(memoFile).hash(cc1plus)).toBe(truth);
    expect(readsOf(cc1plus)).toBe(1);
    const memo = JSON.parse(fs.readFileSync(memoFile, 'utf8')) as Record<string, { stat: string; hash: string }>;
    expect(Object.keys(memo)).toEqual([cc1plus]);
    expect(memo[cc1plus]!.hash).toBe(truth);

    expect(freshFiles(memoFile).hash(cc1plus)).toBe(truth);
    expect(readsOf(cc1plus)).toBe(1);

    // The same path with another stat (an upgrade in place changes its times): read again, not trusted.
    memo[cc1plus] = { ...memo[cc1plus]!, stat: memo[cc1plus]!.stat.replace(/:(\d+)$/, (_, c: string) => `:${BigInt(c) + 1n}`), hash: 'f'.repeat(40) };
    fs.writeFileSync(memoFile, JSON.stringify(memo));
    expect(freshFiles(memoFile).hash(cc1plus)).toBe(truth);
    expect(readsOf(cc1plus)).toBe(2);
  });

  it('a file changed within two seconds, a small file and a file in the tree are not kept; a malformed memo is written afresh', () => {
    const outside = scratch('osvd-outside-files-');
    const fresh = path.join(outside, 'just-written.a');
    fs.writeFileSync(fresh, Buffer.alloc(512 * 1024, 7));
    const small = path.join(outside, 'small.h');
    fs.writeFileSync(small, 'int x;\n');
    fs.mkdirSync(path.dirname(memoFile), { recursive: true });
    fs.writeFileSync(memoFile, '{ not json');
    const files = freshFiles(memoFile);
    expect(files.hash(fresh)).toBe(hashFileContents(fresh));
    expect(files.hash(small)).toBe(hashFileContents(small));
    // Nothing was kept, and the malformed file is as it was (nothing to write).
    expect(fs.readFileSync(memoFile, 'utf8')).toBe('{ not json');
    expect(files.hash(cc1plus)).toBe(hashFileContents(cc1plus));
    expect(Object.keys(JSON.parse(fs.readFileSync(memoFile, 'utf8')) as object)).toEqual([cc1plus]);
    // A large file inside a tree (a relative path) is the state database's alone.
    const tree = scratch('osvd-outside-tree-');
    fs.copyFileSync(cc1plus, path.join(tree, 'big.bin'));
    const { db } = openDatabase(path.join(tree, 'state.db'));
    const inTree = new FileState(db, tree, undefined, new OutsideHashes(memoFile));
    expect(inTree.hash('big.bin')).toBe(hashFileContents(cc1plus));
    expect(Object.keys(JSON.parse(fs.readFileSync(memoFile, 'utf8')) as object)).toEqual([cc1plus]);
  });
});
