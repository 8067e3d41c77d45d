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
  /** The program one of the commands runs whose content, not its path, is part of the key (a compiler). */
  readonly tool?: ToolUse;
  /** For a compile: how to preprocess its translation unit with the same flags (see preprocessCutoff.ts). */
  readonly preprocess?: PreprocessRecipe;
}

/**
 * A program named in a command whose identity is its content (ccache's compiler_check): an upgraded
 * compiler at the same path changes the key, the same compiler at another path does not.
 */
export interface ToolUse {
  /** Which of `commands` runs it. */
  readonly command: number;
  /** Where that command names it, as [start, end) offsets: the key leaves the name out. */
  readonly name: readonly [number, number];
  /**
   * The files it is made of, in a fixed order (a compiler driver, the compilers proper and the
   * assembler it runs), each after the symbolic links that lead to it; also among `inputs`, so they
   * are hashed and watched like any input. The key covers their contents, not their paths.
   */
  readonly files: readonly string[];
}

/**
 * How to run one command of a compile as a preprocessor: that command without some of its words
 * (the object and depfile flags), with `append` added. The result writes the preprocessed translation
 * unit to standard output, and fails where that output cannot stand for the object (gcc: __DATE__,
 * __TIME__, __TIMESTAMP__). Ranges rather than a second command line: a 50,000-TU graph keeps them all.
 */
export interface PreprocessRecipe {
  readonly command: number;
  /** [start, end) offsets into that command, as consecutive pairs, in order. */
  readonly omit: readonly number[];
  readonly append: string;
  /** Output containing this says the object reads more than the output shows (gas's `.incbin`): never skip. */
  readonly refuseIf?: string;
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

/** The output a user recognises an action by: its first output, or its name when it writes none. */
export function primaryOutput(action: Action): string {
  return action.outputs[0] ?? action.id;
}
