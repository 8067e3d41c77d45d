/**
 * The nouns of a build: an Action reads input files and writes output files by running commands.
 * Paths are relative to the tree's root, or absolute when they lie outside it (host headers).
 */
export type ActionKind = 'generate' | 'compile' | 'link' | 'other';

export interface Action {
  /** Stable identity: the make target that produced it (an output path, or a phony target's name). */
  readonly id: string;
  readonly kind: ActionKind;
  /** Each command is run as `/bin/sh -c <command>`, one after the other, as make runs recipe lines. */
  readonly commands: readonly string[];
  /** Working folder, relative to the root ('.' for the root itself). */
  readonly cwd: string;
  /** The full environment the commands run with. */
  readonly env: Readonly<Record<string, string>>;
  /** The part of `env` the action reads, and therefore the part its key covers. */
  readonly keyEnv: Readonly<Record<string, string>>;
  /** Files whose content the action reads, as declared (the depfile adds more after a run). */
  readonly inputs: readonly string[];
  /**
   * Files the action reads that its trace checks, as it checks the depfile's headers, instead of its
   * pre-key. A Makefile names some headers beside those the depfile will name (OSv's runtime.o and
   * ctype-data.h); once a depfile exists, make's database no longer tells the two apart, so an import
   * keys on neither, whether or not a depfile existed when it ran. Only for an action with a depfile.
   */
  readonly tracedInputs?: readonly string[];
  /** Actions that must finish first although none of their outputs is a declared input (make's order-only). */
  readonly orderAfter: readonly string[];
  /** Files the action writes. A phony action may write none. */
  readonly outputs: readonly string[];
  /**
   * The commands may write files under the build folder that `outputs` does not name (a script that
   * writes into a folder, `cd dir; tool`): the builder learns them from what the action wrote, and they
   * are recorded, restored and explained as its outputs.
   */
  readonly outputsOpen?: boolean;
  /** The depfile the action writes (also listed in `outputs`), naming the headers it read. */
  readonly depfile?: string;
  /** For a compile: the translation unit, for messages. */
  readonly source?: string;
}

/** How a file looked when an action last finished: its path and content hash. */
export type FileHash = readonly [path: string, hash: string];

/** What an action wrote: enough to check the file on disk and to restore it from the store. */
export interface OutputRecord {
  readonly path: string;
  /** A content hash, `dir` for a folder, or `link:<target>` for a symbolic link. */
  readonly hash: string;
  readonly mode: number;
  readonly size: number;
}

/**
 * Opaque name/value pairs describing the configuration an action ran under (for OSv: the knobs).
 * graph/ never interprets them; it only reports which ones changed since an action last ran.
 */
export type BuildContext = Readonly<Record<string, string>>;
