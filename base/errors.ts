/**
 * Typed errors shared by every layer. Each carries a stable `code`, and where it applies the
 * file and field that are wrong and a hint saying what to do; the original error is kept as `cause`.
 */
export interface ErrorDetails {
  file?: string;
  field?: string;
  hint?: string;
  cause?: unknown;
}

export class OsvdError extends Error {
  readonly code: string;
  readonly file?: string;
  readonly field?: string;
  readonly hint?: string;

  constructor(code: string, message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = code;
    this.file = details.file;
    this.field = details.field;
    this.hint = details.hint;
  }

  /** One short paragraph for the terminal: what, where, what to do. */
  describe(): string {
    const where = [this.file, this.field].filter(Boolean).join(': ');
    let text = where ? `${where}: ${this.message}` : this.message;
    if (this.hint) text += `\n  hint: ${this.hint}`;
    return text;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, file: this.file, field: this.field, hint: this.hint };
  }
}

/** A tool osvd or the build needs (make, g++, sh) cannot be run. */
export class ToolMissingError extends OsvdError {
  constructor(tool: string, details: ErrorDetails = {}) {
    super('TOOL_MISSING', `cannot run '${tool}': it is not installed or not on PATH`, {
      hint: details.hint ?? `install ${tool} (on Debian: apt-get install ${tool === 'make' ? 'make' : tool === 'g++' ? 'g++' : 'binutils'})`,
      ...details,
    });
  }
}

/**
 * The state database failed while in use: a page `quick_check` did not read is corrupt (`corrupt`:
 * then it is moved aside and a new one made, as when it fails its check on open), or the disk
 * failed under it.
 */
export class StateDatabaseError extends OsvdError {
  readonly corrupt: boolean;

  constructor(message: string, details: ErrorDetails & { corrupt: boolean }) {
    super('STATE_DB', message, details);
    this.corrupt = details.corrupt;
  }
}

export function isOsvdError(err: unknown): err is OsvdError {
  return err instanceof OsvdError;
}
