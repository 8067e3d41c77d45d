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

/** Longest line a client accepts: a status or build answer is not huge. */
export const MAX_LINE = 16 * 1024 * 1024;
/** Longest request the daemon accepts: requests are small (a method, a path, a few knobs). */
export const MAX_REQUEST = 1024 * 1024;

/**
 * Split a socket's bytes into JSON lines; a line that does not parse is reported, not thrown. A line
 * over `max` bytes is reported as fatal and the rest of what comes on that socket is dropped (the caller closes it).
 */
export function readLines(socket: Socket, onMessage: (msg: unknown) => void, onBad: (why: string, fatal: boolean) => void, max = MAX_LINE): void {
  let buffer = '';
  socket.setEncoding('utf8');
  const onData = (chunk: string): void => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.length > max) return tooLong();
      if (line.trim() === '') continue;
      let msg: unknown;
      try {
        msg = JSON.parse(line);
      } catch {
        onBad('a request that is not JSON', false);
        continue;
      }
      onMessage(msg);
      if (socket.destroyed) return;
    }
    if (buffer.length > max) tooLong();
  };
  const tooLong = (): void => {
    buffer = '';
    // Read the rest and drop it (a sender blocked on a full socket would never see the answer).
    socket.off('data', onData);
    socket.on('data', () => undefined);
    onBad(`a request longer than ${max} bytes`, true);
  };
  socket.on('data', onData);
}

export function send(socket: Socket, msg: Reply | Request): void {
  if (!socket.destroyed) socket.write(JSON.stringify(msg) + '\n');
}
