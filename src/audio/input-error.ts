/** Builds the one-line, user-actionable `InputError`s of the decode stage. */
import { InputError, type InputErrorCode } from '../errors.js';

export const SUPPORTED_FORMATS =
  'WAV (16/24/32-bit PCM, 8-bit, 32/64-bit float), FLAC, MP3 and Ogg Vorbis';

/** `detail` is a sentence fragment saying what is wrong and what to do, without the file name. */
export function inputError(fileName: string, code: InputErrorCode, detail: string, cause?: unknown): InputError {
  const message = `${fileName}: ${detail}`.replace(/\s+/g, ' ');
  return new InputError(code, message, cause === undefined ? undefined : { cause });
}

export function unsupportedCodec(fileName: string, what: string): InputError {
  return inputError(
    fileName,
    'UNSUPPORTED_CODEC',
    `${what} is not supported; convert it to one of ${SUPPORTED_FORMATS}.`,
  );
}

/** `promisedSec`/`presentSec` may be NaN or absent when unknown. */
export function truncated(fileName: string, what: string, promisedSec = NaN, presentSec = NaN): InputError {
  let amounts = '';
  if (Number.isFinite(promisedSec) && Number.isFinite(presentSec)) {
    let digits = 2;
    while (digits < 6 && formatDuration(promisedSec, digits) === formatDuration(presentSec, digits)) digits++;
    amounts = ` (its header promises ${formatDuration(promisedSec, digits)} of audio, only ${formatDuration(presentSec, digits)} is there)`;
  } else if (Number.isFinite(presentSec)) {
    amounts = ` (it stops after ${formatDuration(presentSec)} of audio)`;
  }
  return inputError(
    fileName,
    'TRUNCATED',
    `the ${what} file is truncated or damaged${amounts}; upload or export the complete file again.`,
  );
}

/** 75.5 -> "1:15.5", 3.25 -> "3.25 s". */
export function formatDuration(sec: number, digits = 2): string {
  if (sec < 60) return `${sec.toFixed(digits)} s`;
  const m = Math.floor(sec / 60);
  const s = sec - 60 * m;
  const d = Math.max(1, digits - 1);
  return `${m}:${s.toFixed(d).padStart(3 + d, '0')}`;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
