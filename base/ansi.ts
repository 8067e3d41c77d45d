/**
 * Terminal escape sequences (colours, cursor moves) in what a command printed: kept on a terminal
 * that shows colours, removed everywhere else (pipes, the log, the database, JSON), as ninja does.
 */
// CSI sequences (ESC [ params final), OSC sequences (ESC ] ... BEL or ESC \), and two-byte escapes.
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.includes('\x1b') ? text.replace(ESCAPES, '') : text;
}
