/**
 * Errors that only exist at the cloud boundary. Their `name` is what Step Functions matches in
 * Retry/Catch (`errorType` of a Lambda error), so the names are part of the deployed contract.
 */

/** Storage or network trouble that a later attempt may not meet; the workflow retries these. */
export class TransientError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransientError';
  }
}

/** A function was deployed with missing or malformed environment; re-running will not help. */
export class ConfigurationError extends Error {
  public constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

export const TRANSIENT_ERROR_NAMES = ['TransientError'] as const;
