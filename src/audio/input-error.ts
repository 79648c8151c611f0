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
    `${what} is not supported; stemscribe reads ${SUPPORTED_FORMATS}: convert the file to one of those.`,
  );
}

/** `promisedSec`/`presentSec` may be NaN or absent when unknown. */
export function truncated(fileName: string, what: string, promisedSec = NaN, presentSec = NaN): InputError {
  let amounts = '';
  if (Number.isFinite(promisedSec) && Number.isFinite(presentSec)) {
    const [promised, present] = formatDistinct(promisedSec, presentSec);
    amounts = ` (its header promises ${promised} of audio, only ${present} is there)`;
  } else if (Number.isFinite(presentSec)) {
    amounts = ` (it stops after ${formatDuration(presentSec)} of audio)`;
  }
  return inputError(
    fileName,
    'TRUNCATED',
    `the ${what} file is truncated or damaged${amounts}; upload or export the complete file again.`,
  );
}

/** Both durations, with just enough decimals to tell them apart. */
export function formatDistinct(a: number, b: number): [string, string] {
  let digits = 2;
  while (digits < 6 && formatDuration(a, digits) === formatDuration(b, digits)) digits++;
  return [formatDuration(a, digits), formatDuration(b, digits)];
}

/** 3.25 -> "3.25 s", 75.4 -> "1:15" (`digits` decimals under a minute, `digits` - 2 above). */
export function formatDuration(sec: number, digits = 2): string {
  if (Number(sec.toFixed(digits)) < 60) return `${sec.toFixed(digits)} s`;
  const d = Math.max(0, digits - 2);
  const rounded = Number(sec.toFixed(d));
  const m = Math.floor(rounded / 60);
  const s = (rounded - 60 * m).toFixed(d);
  return `${m}:${s.padStart(d > 0 ? 3 + d : 2, '0')}`;
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}
