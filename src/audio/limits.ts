/** Limits on what the decode stage accepts. Checked before decoding wherever the header allows. */
export interface InputLimits {
  /** Largest accepted file, bytes. */
  maxBytes: number;
  /** Longest accepted audio, seconds. */
  maxDurationSec: number;
}

/**
 * 256 MiB holds 20 minutes of CD-quality WAV (20 min x 44.1 kHz x 2 ch x 2 B = 212 MB) and any
 * compressed song; 20 minutes covers nearly every song while keeping the decoded float stereo
 * (about 420 MB at 44.1 kHz) and the separator's working set within a 4 GB machine or Lambda.
 */
export const DEFAULT_INPUT_LIMITS: InputLimits = {
  maxBytes: 256 * 1024 * 1024,
  maxDurationSec: 20 * 60,
};

export function resolveLimits(limits?: Partial<InputLimits>): InputLimits {
  return {
    maxBytes: limits?.maxBytes ?? DEFAULT_INPUT_LIMITS.maxBytes,
    maxDurationSec: limits?.maxDurationSec ?? DEFAULT_INPUT_LIMITS.maxDurationSec,
  };
}
