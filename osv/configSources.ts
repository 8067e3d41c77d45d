import fs from 'node:fs';
import path from 'node:path';

/**
 * What an osv.config.ts reads besides itself, found in its text: the modules of its own folder it
 * imports (and theirs), and whether it may read anything else (the environment, the clock, other
 * modules). The answer is conservative: a word like `process` in a comment counts as a read.
 */
export interface ConfigSources {
  /** The config file and the relative modules it imports, transitively (absolute paths). */
  readonly files: readonly string[];
  /** Why its value may differ while those files do not (it is then never cached), if it may. */
  readonly readsOutside?: string;
}

/** Names through which JavaScript reaches state outside its own source files. */
const OUTSIDE = /\b(process|globalThis|global|require|eval|Function|Date|Math\.random|performance|fetch|Deno|Bun|import\.meta|import\s*\()/;
const IMPORT = /\b(?:import|export)\b[^'"`;]*?\bfrom\s*(['"])([^'"]+)\1|\bimport\s*(['"])([^'"]+)\3/g;

export function configSources(file: string): ConfigSources {
  const files: string[] = [];
  const queue = [path.resolve(file)];
  while (queue.length) {
    const f = queue.shift()!;
    if (files.includes(f)) continue;
    files.push(f);
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      return { files, readsOutside: `it imports ${f}, which cannot be read` };
    }
    const outside = OUTSIDE.exec(text);
    if (outside) return { files, readsOutside: `${path.basename(f)} names '${outside[1]!.replace(/\s+/g, '')}'` };
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[2] ?? m[4]!;
      if (spec === 'osvd' || spec === 'osvd/config') continue;
      if (!spec.startsWith('./') && !spec.startsWith('../')) return { files, readsOutside: `${path.basename(f)} imports '${spec}'` };
      queue.push(path.resolve(path.dirname(f), spec));
    }
  }
  return { files };
}
