import { OsvdError } from '../base/errors.js';

export class DepfileError extends OsvdError {
  constructor(file: string, message: string) {
    super('DEPFILE', message, { file, hint: 'osvd will rerun the action that writes it' });
  }
}

/**
 * Parse a Makefile-syntax depfile as written by `gcc -MD -MP`: `target: dep dep \` lines with
 * continuations, `\ ` for a space in a name, `$$` for a dollar, and (with -MP) empty rules for each
 * header. Returns the prerequisites, in order, without duplicates.
 */
export function parseDepfile(text: string, file = 'depfile'): string[] {
  const deps: string[] = [];
  const seen = new Set<string>();
  let word = '';
  let sawColon = false;
  let inRule = false;
  const flush = (): void => {
    if (word === '') return;
    if (inRule && !seen.has(word)) {
      seen.add(word);
      deps.push(word);
    }
    word = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      const next = text[i + 1];
      if (next === '\n') { flush(); i++; continue; }
      if (next === '\r' && text[i + 2] === '\n') { flush(); i += 2; continue; }
      if (next === ' ' || next === '#' || next === '\\' || next === ':') { word += next; i++; continue; }
      word += c;
      continue;
    }
    if (c === '$' && text[i + 1] === '$') { word += '$'; i++; continue; }
    if (c === '\n') {
      flush();
      inRule = false;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') { flush(); continue; }
    if (c === ':' && !inRule && (text[i + 1] === ' ' || text[i + 1] === '\t' || text[i + 1] === '\n' || text[i + 1] === '\r' || text[i + 1] === undefined)) {
      // A colon ending the target list (not a drive letter or a colon inside a name).
      word = '';
      inRule = true;
      sawColon = true;
      continue;
    }
    if (c === ':' && !inRule && word !== '') {
      word += c;
      continue;
    }
    word += c;
  }
  flush();
  if (!sawColon && text.trim() !== '') throw new DepfileError(file, 'not a depfile: no "target:" rule found');
  return deps;
}
