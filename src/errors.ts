/**
 * Typed errors. Every error that can reach a user carries a stable `code` and a message a user
 * can act on; adapters (CLI, Lambda) print or store `message` and never a stack trace.
 */

export const InputErrorCode = {
  NOT_FOUND: 'NOT_FOUND',
  EMPTY: 'EMPTY',
  NOT_AUDIO: 'NOT_AUDIO',
  UNSUPPORTED_CODEC: 'UNSUPPORTED_CODEC',
  TRUNCATED: 'TRUNCATED',
  TOO_LONG: 'TOO_LONG',
  TOO_LARGE: 'TOO_LARGE',
} as const;
export type InputErrorCode = (typeof InputErrorCode)[keyof typeof InputErrorCode];

export class StemscribeError extends Error {
  /** Which pipeline stage raised it: decode, separate, transcribe, postprocess, encode, ... */
  public readonly stage: string;
  public constructor(message: string, stage: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'StemscribeError';
    this.stage = stage;
  }
}

/** The input file is the problem; re-running will not help, a different file will. */
export class InputError extends StemscribeError {
  public readonly code: InputErrorCode;
  public constructor(code: InputErrorCode, message: string, options?: ErrorOptions) {
    super(message, 'decode', options);
    this.name = 'InputError';
    this.code = code;
  }
}

/** A model file is missing, corrupt or does not match its manifest. */
export class ModelError extends StemscribeError {
  public constructor(message: string, stage: string, options?: ErrorOptions) {
    super(message, stage, options);
    this.name = 'ModelError';
  }
}

export const isStemscribeError = (e: unknown): e is StemscribeError => e instanceof StemscribeError;
