import { OsvdError, type ErrorDetails } from '../base/errors.js';

/** The build graph itself is inconsistent (a cycle, two actions writing one file). */
export class GraphError extends OsvdError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('GRAPH', message, details);
  }
}
