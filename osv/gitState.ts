import fs from 'node:fs';
import path from 'node:path';
import type { Action } from '../graph/action.js';

/**
 * OSv's version.h comes from `git describe` (scripts/gen-version-header runs osv-version.sh), which
 * make runs on every build. osvd keys an action that runs git on the files git describe reads: HEAD,
 * the branch it names, packed-refs and the tags. A commit, a checkout or a new tag changes one of them
 * and the generator reruns (it rewrites version.h only when the version changed); nothing else does.
 */

/** The files of the tree's own repository that `git describe` reads, relative to the root when inside it. */
export function gitStateFiles(root: string): string[] {
  const dotGit = path.join(root, '.git');
  let gitDir = dotGit;
  try {
    if (fs.statSync(dotGit).isFile()) {
      // A worktree or submodule: `.git` is a file naming the real folder.
      const named = /^gitdir:\s*(.+)$/m.exec(fs.readFileSync(dotGit, 'utf8'))?.[1]?.trim();
      if (!named) return [];
      gitDir = path.resolve(root, named);
    }
  } catch {
    return [];
  }
  let common = gitDir;
  try {
    common = path.resolve(gitDir, fs.readFileSync(path.join(gitDir, 'commondir'), 'utf8').trim());
  } catch {
    // not a linked worktree
  }
  const files = [path.join(gitDir, 'HEAD'), path.join(common, 'packed-refs')];
  try {
    const head = fs.readFileSync(path.join(gitDir, 'HEAD'), 'utf8');
    const ref = /^ref:\s*(\S+)/.exec(head)?.[1];
    if (ref && !ref.includes('..')) files.push(path.join(common, ref));
  } catch {
    return [];
  }
  const tags = path.join(common, 'refs', 'tags');
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else files.push(p);
    }
  };
  // A new tag is a new file: a new input, so the action's key changes when the graph is next loaded.
  walk(tags);
  return [...new Set(files)].map((f) => {
    const rel = path.relative(root, f);
    return rel.startsWith('..') || path.isAbsolute(rel) ? f : rel;
  });
}

/**
 * Whether an action runs git: a script of the tree that its commands name, or a script beside it that
 * such a script names (gen-version-header runs `dirname $0`/osv-version.sh), calls `git`. Returns the
 * scripts read to find out (they are inputs of the action too), or undefined when it does not run git.
 */
export function gitScripts(action: Action, scriptText: (word: string) => string | undefined): string[] | undefined {
  if (action.kind === 'compile' || action.kind === 'link') return undefined;
  const read: string[] = [];
  // Words naming what the action writes are no scripts of it (version.h is a text file of the tree too).
  const seen = new Set<string>(action.outputs);
  let git = false;
  const scan = (word: string, depth: number): void => {
    if (seen.has(word)) return;
    seen.add(word);
    const text = scriptText(word);
    if (text === undefined) return;
    read.push(path.posix.normalize(word));
    if (/(^|[\s;|&(`$])git\s/m.test(text)) git = true;
    if (depth === 0) return;
    const dir = path.posix.dirname(word);
    for (const m of text.matchAll(/[\w.+-]+\.(?:sh|py|pl)\b/g)) scan(path.posix.join(dir, m[0]), depth - 1);
  };
  for (const command of action.commands) {
    if (/(^|[\s;|&(`])git\s/.test(command)) git = true;
    for (const word of command.split(/[\s;|&()'"`]+/)) if (word) scan(word, 1);
  }
  return git ? read : undefined;
}
