import { OsvdError, type ErrorDetails } from '../base/errors.js';

/** osv.config.ts is missing, does not load, or has a wrong field. */
export class ConfigError extends OsvdError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('CONFIG', message, details);
  }
}

/** A knob is unknown or has a value the tree does not accept. */
export class KnobError extends OsvdError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('KNOB', message, details);
  }
}

/** The tree's Makefile could not be turned into actions. */
export class ImportError extends OsvdError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('IMPORT', message, details);
  }
}
