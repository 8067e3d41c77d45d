import type { LoadedGraph, Session } from './session.js';
import { CompileCommandsFile, type WrittenCompileCommands } from '../osv/compileCommands.js';

/** The setting recording, per build folder, what compile_commands.json was last written from. */
const COMPILE_COMMANDS = 'compile-commands';

/**
 * What a build leaves to do that no answer needs: wait for the store's copies and keep it within its
 * cap, and write compile_commands.json. At 1,000 TUs, writing that file again after a profile switch
 * took 12 ms of the daemon's answer; the store's copies, as long as the largest output takes to copy.
 * The daemon answers first and tidies up after (the next build, and the build lock, wait for it); a
 * command, before it ends.
 */
export class Housekeeping {
  private readonly compileCommands: CompileCommandsFile;
  /** The daemon's housekeeping after its last build, which the next build waits for. */
  private tidying: Promise<void> = Promise.resolve();

  constructor(private readonly session: Session) {
    this.compileCommands = new CompileCommandsFile({
      get: (outDir) => session.settings.get<WrittenCompileCommands>(`${COMPILE_COMMANDS}:${outDir}`),
      set: (outDir, written) => session.settings.set(`${COMPILE_COMMANDS}:${outDir}`, written),
    });
  }

  /** After a daemon's build: once its answer is sent. */
  later(loaded: LoadedGraph): void {
    this.tidying = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.tidy(loaded)).catch((err: unknown) => this.session.log.warn({ err }, 'tidying after the build failed'));
  }

  /** After a command's build, before it reports. */
  now(loaded: LoadedGraph): Promise<void> {
    return this.tidy(loaded);
  }

  /** Resolves once the last build's housekeeping is done; it never fails. */
  async idle(): Promise<void> {
    await this.tidying;
  }

  /** The database was replaced: compile_commands.json is written anew at the next build. */
  forget(): void {
    this.compileCommands.forget();
  }

  private async tidy(loaded: LoadedGraph): Promise<void> {
    const { store, log, counters } = this.session;
    await store.settled();
    this.writeCompileCommands(loaded);
    const troubles = store.takeTroubles();
    if (troubles.length) log.warn({ troubles }, 'the store could not keep or restore some outputs (the build went on without it)');
    try {
      const evicted = store.evict();
      if (evicted) {
        log.info({ evicted }, 'the store evicted its least recently used outputs');
        counters.add({ evicted });
      }
    } catch (err) {
      log.warn({ err }, 'the store could not evict (the build is not affected)');
    }
    try {
      this.session.checkpoint();
    } catch (err) {
      log.warn({ err }, 'the database could not copy its write-ahead log (SQLite does it later itself)');
    }
  }

  /**
   * compile_commands.json for the knobs of what is now in the build folder, so clangd sees the flags
   * these objects had. Every build ends here, one with nothing to do included: osvd writes the file
   * itself, not through an action, so no trace says whether it is current (a process killed after
   * its last action but before this line leaves the file of other knobs, every action up to date).
   */
  writeCompileCommands(loaded: LoadedGraph): void {
    try {
      this.compileCommands.update(loaded.project.root, loaded.project.outDir, loaded.graph, () => [...loaded.graph.actions.values()], this.session.scratchDir);
    } catch (err) {
      this.session.log.warn({ err }, 'could not write compile_commands.json');
    }
  }
}
