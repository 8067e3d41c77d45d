import type { Socket } from 'node:net';
import { BuildInterruptedError } from '../graph/errors.js';
import type { LockHolder } from './session.js';

/** What the client of a build controls: stopping it, and hearing whom it waits for. */
export interface BuildControl {
  readonly signal?: AbortSignal;
  readonly onWait?: (holder: LockHolder | undefined) => void;
}

/**
 * The builds clients asked the daemon for, by connection: a build stops when its client goes away
 * (Ctrl-C on `osvd build`, a killed client) or asks to cancel it, as make stops when its terminal's
 * Ctrl-C reaches it. `osvd build --detach` asks for a build that is not tied to its client.
 */
export class ClientBuilds {
  private readonly byClient = new Map<Socket, Map<number, AbortController>>();

  /** Run `build` for request `id` of `socket`, stopped through its signal when the client goes away. */
  async run<T>(socket: Socket, id: number, build: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    let mine = this.byClient.get(socket);
    if (!mine) {
      const builds = (mine = new Map());
      this.byClient.set(socket, builds);
      socket.once('close', () => {
        this.byClient.delete(socket);
        for (const c of builds.values()) c.abort(new BuildInterruptedError('the client that asked for the build went away: the build was interrupted'));
      });
    }
    if (socket.destroyed) controller.abort(new BuildInterruptedError('the client that asked for the build went away'));
    mine.set(id, controller);
    try {
      return await build(controller.signal);
    } finally {
      mine.delete(id);
    }
  }

  /** The client asks to stop one of its builds (`osvd build` got Ctrl-C and waits for the build to end). */
  cancel(socket: Socket, id: number): void {
    this.byClient.get(socket)?.get(id)?.abort(new BuildInterruptedError('the build was interrupted (Ctrl-C)'));
  }
}
