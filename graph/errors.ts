import { OsvdError, type ErrorDetails } from '../base/errors.js';

/** The build graph itself is inconsistent (a cycle, two actions writing one file). */
export class GraphError extends OsvdError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('GRAPH', message, details);
  }
}

/** The build was stopped before its end (Ctrl-C, its client went away, the daemon stopping). */
export class BuildInterruptedError extends OsvdError {
  constructor(message = 'the build was interrupted: its commands were killed, what they had not finished is not recorded') {
    super('INTERRUPTED', message);
  }
}
