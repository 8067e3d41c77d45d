/**
 * Splitting a recipe's command into shell words, honouring quotes and backslashes (no expansion).
 * Approximate shell splitting is enough: the commands themselves always run unchanged through /bin/sh.
 * The import splits every command of every recipe several times (its program, the words that name
 * files, what it writes, the variables it reads): the split is memoized for the last commands, and
 * runs of plain characters are sliced, not added one character at a time.
 */

export interface WordSpan {
  /** The word with its quotes and backslashes removed. */
  readonly text: string;
  /** Where it stands in the command: [start, end). */
  readonly start: number;
  readonly end: number;
  /** A shell operator (`;`, `|`, `&`, `<`, `>`, `(`, `)`) rather than a word. */
  readonly operator: boolean;
}

const enum Class {
  Plain = 0,
  Space = 1,
  Operator = 2,
  Quote = 3,
  Backslash = 4,
}

/** The class of each ASCII character; above 127, only what `\s` matches is a space. */
const ASCII = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  ASCII[c] = /\s/.test(ch) ? Class.Space : ';|&<>()'.includes(ch) ? Class.Operator : ch === '"' || ch === "'" ? Class.Quote : ch === '\\' ? Class.Backslash : Class.Plain;
}

function classOf(code: number): Class {
  return code < 128 ? (ASCII[code] as Class) : /\s/.test(String.fromCharCode(code)) ? Class.Space : Class.Plain;
}

/**
 * The words of a command with their offsets. A quoted empty string is a word; a backslash before a
 * newline joins lines and starts no word.
 */
export function wordSpans(command: string): WordSpan[] {
  const spans: WordSpan[] = [];
  const n = command.length;
  let text = '';
  let start = -1;
  let i = 0;
  const end = (at: number): void => {
    if (start >= 0) spans.push({ text, start, end: at, operator: false });
    text = '';
    start = -1;
  };
  while (i < n) {
    const code = command.charCodeAt(i);
    const cls = classOf(code);
    if (cls === Class.Plain) {
      let j = i + 1;
      while (j < n && classOf(command.charCodeAt(j)) === Class.Plain) j++;
      if (start < 0) {
        start = i;
        text = command.slice(i, j);
      } else text += command.slice(i, j);
      i = j;
    } else if (cls === Class.Space) {
      end(i);
      i++;
    } else if (cls === Class.Operator) {
      end(i);
      spans.push({ text: command[i]!, start: i, end: i + 1, operator: true });
      i++;
    } else if (cls === Class.Quote) {
      if (start < 0) start = i;
      i = quoted(command, i, code, (piece) => (text += piece));
    } else if (i + 1 < n) {
      // A backslash: the next character as it is, or nothing for a newline.
      if (command.charCodeAt(i + 1) !== 10) {
        if (start < 0) start = i;
        text += command[i + 1];
      }
      i += 2;
    } else {
      // A backslash that ends the command is an ordinary character.
      if (start < 0) start = i;
      text += '\\';
      i++;
    }
  }
  end(n);
  return spans;
}

/** A quoted part from its opening quote at `open`: its text to `add`, and where the scan goes on. */
function quoted(command: string, open: number, quote: number, add: (piece: string) => void): number {
  const n = command.length;
  let from = open + 1;
  let i = from;
  while (i < n) {
    const c = command.charCodeAt(i);
    if (c === quote) {
      add(command.slice(from, i));
      return i + 1;
    }
    // Inside double quotes a backslash takes the next character as it is.
    if (c === 92 && quote === 34 && i + 1 < n) {
      add(command.slice(from, i) + command[i + 1]);
      i += 2;
      from = i;
      continue;
    }
    i++;
  }
  // An unterminated quote runs to the end.
  add(command.slice(from, n));
  return n;
}

const MEMO_SIZE = 64;
const memo = new Map<string, readonly string[]>();

/** A command's words (operators as words of their own); the same command again is not split again. */
export function shellWords(command: string): readonly string[] {
  let words = memo.get(command);
  if (words === undefined) {
    words = wordSpans(command).map((s) => s.text);
    if (memo.size >= MEMO_SIZE) memo.delete(memo.keys().next().value!);
    memo.set(command, words);
  }
  return words;
}
