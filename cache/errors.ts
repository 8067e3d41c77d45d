import { OsvdError, type ErrorDetails } from '../base/errors.js';

export class CacheError extends OsvdError {
  constructor(message: string, details: ErrorDetails = {}) {
    super('CACHE', message, details);
  }
}
