import { describe, expect, it } from 'vitest';
import { shellWords, wordSpans } from '../osv/shellWords.js';
import { prng } from '../bench/prng.js';

/**
 * The tokenizer slices runs of plain characters and memoizes: it must split exactly as the simple
 * character-by-character splitter it replaced (kept here as the oracle), and its offsets must point at
 * the words they belong to.
 */
function oracle(command: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < command.length) word += command[++i];
      else word += c;
      continue;
    }
    if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      continue;
    }
    if (c === '\\' && i + 1 < command.length) {
      const next = command[++i]!;
      if (next !== '\n') {
        word += next;
        inWord = true;
      }
      continue;
    }
    if (/\s/.test(c) || ';|&<>()'.includes(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      if (!/\s/.test(c)) words.push(c);
      continue;
    }
    word += c;
    inWord = true;
  }
  if (inWord) words.push(word);
  return words;
}

const PIECES = [...' \t\n\\\'";|&<>()=,$-', '\\\n', '\u00a0', '\u2028', '\ufeff', 'é', '\ud83d', 'g++', '-c', '-o', 'build/a.o', 'x', 'a b', "'q r'", '"s\\"t"', '-DX="1 2"'];

function randomCommands(seed: number, count: number): string[] {
  const random = prng(seed);
  const out: string[] = [];
  for (let c = 0; c < count; c++) {
    let s = '';
    for (let n = Math.floor(random() * 40); n > 0; n--) s += PIECES[Math.floor(random() * PIECES.length)];
    out.push(s);
  }
  return out;
}

describe('shell words', () => {
  it('split as the character-by-character splitter on 20,000 random commands', () => {
    const bad: string[] = [];
    for (const c of randomCommands(0x5e11, 20_000)) {
      const want = oracle(c);
      // Twice: the second answer comes from the memo.
      for (let k = 0; k < 2; k++) if (JSON.stringify(shellWords(c)) !== JSON.stringify(want)) bad.push(JSON.stringify(c));
      if (JSON.stringify(wordSpans(c).map((s) => s.text)) !== JSON.stringify(want)) bad.push(`spans ${JSON.stringify(c)}`);
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('give each word the offsets of its text in the command', () => {
    const bad: string[] = [];
    for (const c of randomCommands(0x0ff5e7, 5_000)) {
      let last = 0;
      for (const s of wordSpans(c)) {
        const again = oracle(c.slice(s.start, s.end));
        const ok = s.start >= last && s.end > s.start && (s.operator ? c.slice(s.start, s.end) === s.text : again.length === 1 && again[0] === s.text);
        if (!ok) bad.push(`${JSON.stringify(c)} ${JSON.stringify(s)}`);
        last = s.end;
      }
    }
    expect(bad.slice(0, 5)).toEqual([]);
  });

  it('split a compile line, quotes and operators', () => {
    expect(shellWords(`a 'b c' "d\\"e" f>g; h`)).toEqual(['a', 'b c', 'd"e', 'f', '>', 'g', ';', 'h']);
    expect(wordSpans(`CC='g++ -O2' x\\\n  -c`).map((s) => [s.text, s.start, s.end])).toEqual([
      ['CC=g++ -O2', 0, 12],
      ['x', 13, 16],
      ['-c', 18, 20],
    ]);
    expect(shellWords(`echo '' "" \\`)).toEqual(['echo', '', '', '\\']);
  });
});
