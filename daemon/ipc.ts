import type { Socket } from 'node:net';

/**
 * The daemon's protocol: newline-delimited JSON over a Unix socket. A client sends
 * `{id, method, params}`; the daemon answers `{id, result}` or `{id, error}`, and may send
 * `{id, event}` lines before the answer (build progress).
 */
export interface Request {
  id: number;
  method: string;
  params?: Record<string, unknown>;
}

export interface ErrorBody {
  code: string;
  message: string;
  file?: string;
  field?: string;
  hint?: string;
}

export type Reply = { id: number; result: unknown } | { id: number; error: ErrorBody } | { id: number; event: unknown };

/** Longest line either side accepts: a request is small, a status or build answer is not huge. */
export const MAX_LINE = 16 * 1024 * 1024;

/** Split a socket's bytes into JSON lines; a line over `max` bytes or that does not parse is reported, not thrown. */
export function readLines(socket: Socket, onMessage: (msg: unknown) => void, onBad: (why: string) => void, max = MAX_LINE): void {
  let buffer = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.trim() === '') continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        onBad('a request that is not JSON');
        continue;
      }
      onMessage(msg);
    }
    if (buffer.length > max) {
      buffer = '';
      onBad(`a request longer than ${max} bytes`);
    }
  });
}

export function send(socket: Socket, msg: Reply | Request): void {
  if (!socket.destroyed) socket.write(JSON.stringify(msg) + '\n');
}
