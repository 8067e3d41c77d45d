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
  return plainDeps(text) ?? parseDepfileByChar(text, file);
}

/**
 * What gcc writes when no name needs escaping (no `$`, tab or carriage return, and every backslash
 * continues a line after a blank): the list parseDepfileByChar gives, split a line at a time instead
 * of grown a character at a time (an import of a built OSv tree reads 1,353 depfiles; every compile
 * reads its own). Undefined for any other text, which parseDepfileByChar reads.
 */
function plainDeps(text: string): string[] | undefined {
  if (NOT_PLAIN.test(text)) return undefined;
  const deps: string[] = [];
  const seen = new Set<string>();
  let sawColon = false;
  for (const line of text.replaceAll(' \\\n', '  ').split('\n')) {
    // The targets end at the first colon followed by a blank or the line's end; a line without one
    // names no prerequisite.
    let colon = line.indexOf(':');
    while (colon >= 0 && colon + 1 < line.length && line.charCodeAt(colon + 1) !== SPACE) colon = line.indexOf(':', colon + 1);
    if (colon < 0) continue;
    sawColon = true;
    for (const word of line.slice(colon + 1).split(' ')) {
      if (word !== '' && !seen.has(word)) {
        seen.add(word);
        deps.push(word);
      }
    }
  }
  return sawColon || text.trim() === '' ? deps : undefined;
}

/** What plainDeps leaves to parseDepfileByChar: `$`, a tab, a CR, a backslash that is not a blank's line continuation. */
const NOT_PLAIN = /[$\t\r]|(?:^|[^ ])\\|\\(?!\n)/;
const SPACE = 32;

/** The depfile read a character at a time, with every escape (see parseDepfile). */
export function parseDepfileByChar(text: string, file = 'depfile'): string[] {
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
