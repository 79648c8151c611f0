import { StemscribeError } from '../errors.js';

/**
 * The data handed to a metric is malformed (negative or reversed note times, mismatched shapes,
 * silent reference sources, ...). Messages follow mir_eval's wording so users of either tool
 * recognise them.
 */
export class EvalInputError extends StemscribeError {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, 'eval', options);
    this.name = 'EvalInputError';
  }
}
