/**
 * Decoding of user uploads into planar float PCM at the file's own sample rate, all channels kept
 * (multichannel in WAV/SMPTE order). WAV is read by hand (./wav.ts); FLAC, MP3 and Ogg Vorbis by
 * the wasm builds of libFLAC, mpg123 and libvorbis from npm (no ffmpeg).
 *
 * Every bad input throws `InputError` with one line naming the file, what is wrong and what to do.
 * The cheap checks (size, container, codec, header duration, truncation visible in the container
 * structure) run before any decoding; `probeAudio` runs only those.
 */
import { FLACDecoder } from '@wasm-audio-decoders/flac';
import { OggVorbisDecoder } from '@wasm-audio-decoders/ogg-vorbis';
import { MPEGDecoder } from 'mpg123-decoder';
import type { InputError } from '../errors.js';
import type { AudioData } from '../types.js';
import { parseFlacHeader, type FlacInfo } from './flac.js';
import {
  SUPPORTED_FORMATS,
  formatBytes,
  formatDistinct,
  formatDuration,
  inputError,
  truncated,
  unsupportedCodec,
} from './input-error.js';
import { resolveLimits, type InputLimits } from './limits.js';
import { walkMpegFrames, type MpegWalk } from './mpeg.js';
import { VORBIS_TO_WAV, walkOgg, type OggWalk } from './ogg.js';
import { sniff } from './sniff.js';
import { decodeWavSamples, parseWav, type WavInfo } from './wav.js';

export type AudioFormat = 'wav' | 'flac' | 'mp3' | 'ogg-vorbis';

export interface AudioProbe {
  format: AudioFormat;
  sampleRateHz: number;
  numChannels: number;
  /** From the header (exact for WAV, FLAC, Ogg; frame count for MP3); NaN only if unknowable. */
  durationSec: number;
}

export interface DecodeOptions {
  /** Used in error messages only; the format is detected from the bytes. */
  fileName?: string;
  limits?: Partial<InputLimits>;
}

type Checked =
  | { probe: AudioProbe; format: 'wav'; wav: WavInfo; offset: number }
  | { probe: AudioProbe; format: 'flac'; flac: FlacInfo; offset: number }
  | { probe: AudioProbe; format: 'mp3'; mpeg: MpegWalk; offset: number }
  | { probe: AudioProbe; format: 'ogg-vorbis'; ogg: OggWalk };

/**
 * Format, rate, channels and duration from the headers, with every check that needs no decoding:
 * empty, too large, not audio, unsupported codec, too long, and truncation where the container
 * shows it (WAV data chunk, MP3 frames vs Xing count or a cut last frame, Ogg pages and CRCs).
 * A FLAC cut inside its frames is only found by `decodeAudio`: finding the last frame without
 * decoding means scanning for a sync code that audio bytes can imitate.
 */
export async function probeAudio(bytes: Uint8Array, opts?: DecodeOptions): Promise<AudioProbe> {
  return check(bytes, opts?.fileName ?? 'input', resolveLimits(opts?.limits)).probe;
}

export async function decodeAudio(bytes: Uint8Array, opts?: DecodeOptions): Promise<AudioData> {
  const fileName = opts?.fileName ?? 'input';
  const limits = resolveLimits(opts?.limits);
  const c = check(bytes, fileName, limits);
  let audio: AudioData;
  switch (c.format) {
    case 'wav':
      audio = decodeWavSamples(bytes.subarray(c.offset), c.wav);
      break;
    case 'flac':
      audio = await decodeFlac(bytes.subarray(c.offset), c.flac, fileName);
      break;
    case 'mp3':
      audio = await decodeMp3(bytes.subarray(c.offset), c.mpeg, fileName);
      break;
    case 'ogg-vorbis':
      audio = await decodeVorbis(bytes, c.ogg, fileName);
      break;
  }
  const numFrames = audio.channels[0]?.length ?? 0;
  if (numFrames === 0) throw noSamples(fileName);
  checkDuration(fileName, numFrames / audio.sampleRateHz, limits);
  return audio;
}

function check(bytes: Uint8Array, fileName: string, limits: InputLimits): Checked {
  if (bytes.length === 0) {
    throw inputError(fileName, 'EMPTY', 'the file is empty (0 bytes); check that the upload or export finished.');
  }
  if (bytes.length > limits.maxBytes) {
    throw inputError(
      fileName,
      'TOO_LARGE',
      `the file is ${formatBytes(bytes.length)}, over the ${formatBytes(limits.maxBytes)} limit; ` +
        'trim it or convert it to FLAC or MP3.',
    );
  }
  const s = sniff(bytes);
  let c: Checked;
  switch (s.kind) {
    case 'not-audio':
      throw inputError(
        fileName,
        'NOT_AUDIO',
        `this is not an audio file${s.looksLike ? ` (it looks like ${s.looksLike})` : ''}; ` +
          `stemscribe reads ${SUPPORTED_FORMATS}.`,
      );
    case 'unsupported':
      throw unsupportedCodec(fileName, s.what);
    case 'ogg':
      if (s.codec !== 'vorbis') {
        const names = { opus: 'Ogg Opus', flac: 'Ogg FLAC', speex: 'Ogg Speex', theora: 'Ogg video (Theora)', unknown: 'This Ogg stream' } as const;
        throw unsupportedCodec(fileName, names[s.codec]);
      }
      c = checkOgg(bytes, fileName);
      break;
    case 'wav': {
      const wav = parseWav(bytes.subarray(s.offset), fileName);
      const probe: AudioProbe = {
        format: 'wav',
        sampleRateHz: wav.sampleRateHz,
        numChannels: wav.numChannels,
        durationSec: wav.numFrames / wav.sampleRateHz,
      };
      c = { probe, format: 'wav', wav, offset: s.offset };
      break;
    }
    case 'flac':
      c = checkFlac(bytes, s.offset, fileName);
      break;
    case 'mp3':
      c = checkMp3(bytes, s.offset, fileName);
      break;
  }
  if (c.probe.durationSec === 0) throw noSamples(fileName);
  checkDuration(fileName, c.probe.durationSec, limits);
  return c;
}

const noSamples = (fileName: string): InputError =>
  inputError(fileName, 'EMPTY', 'the file contains no audio samples; export the recording again.');

function checkDuration(fileName: string, durationSec: number, limits: InputLimits): void {
  if (durationSec > limits.maxDurationSec) {
    const [length, limit] = formatDistinct(durationSec, limits.maxDurationSec);
    throw inputError(
      fileName,
      'TOO_LONG',
      `the audio is ${length} long, over the ${limit} limit; trim it to at most ${formatDuration(limits.maxDurationSec)}.`,
    );
  }
}

function checkFlac(bytes: Uint8Array, offset: number, fileName: string): Checked {
  const flac = parseFlacHeader(bytes.subarray(offset));
  if (!flac || !Number.isFinite(flac.audioOffset) || flac.sampleRateHz === 0) throw truncated(fileName, 'FLAC');
  const probe: AudioProbe = {
    format: 'flac',
    sampleRateHz: flac.sampleRateHz,
    numChannels: flac.numChannels,
    durationSec: flac.totalSamples > 0 ? flac.totalSamples / flac.sampleRateHz : NaN,
  };
  return { probe, format: 'flac', flac, offset };
}

function checkMp3(bytes: Uint8Array, offset: number, fileName: string): Checked {
  const mpeg = walkMpegFrames(bytes, offset);
  const { first } = mpeg;
  const samples = Math.max(0, mpeg.numFrames * first.samplesPerFrame - mpeg.gaplessTrimSamples);
  const durationSec = samples / first.sampleRateHz;
  // One frame of slack: writers disagree on whether the count includes the Xing frame itself.
  const missingFrames = Number.isFinite(mpeg.declaredFrames) && mpeg.numFrames + 1 < mpeg.declaredFrames;
  if (mpeg.lastFrameCut || missingFrames) {
    const promised = Number.isFinite(mpeg.declaredFrames)
      ? (mpeg.declaredFrames * first.samplesPerFrame - mpeg.gaplessTrimSamples) / first.sampleRateHz
      : NaN;
    throw truncated(fileName, 'MP3', promised, durationSec);
  }
  const probe: AudioProbe = { format: 'mp3', sampleRateHz: first.sampleRateHz, numChannels: first.numChannels, durationSec };
  return { probe, format: 'mp3', mpeg, offset };
}

function checkOgg(bytes: Uint8Array, fileName: string): Checked {
  const ogg = walkOgg(bytes);
  if (ogg.sampleRateHz === 0 || ogg.numChannels === 0) throw truncated(fileName, 'Ogg Vorbis');
  const durationSec = ogg.lastGranule / ogg.sampleRateHz;
  if (ogg.badPages > 0 || ogg.junkBytes > 0) throw truncated(fileName, 'Ogg Vorbis');
  if (ogg.lastPageCut || !ogg.sawEndOfStream) throw truncated(fileName, 'Ogg Vorbis', NaN, durationSec);
  const probe: AudioProbe = {
    format: 'ogg-vorbis',
    sampleRateHz: ogg.sampleRateHz,
    numChannels: ogg.numChannels,
    durationSec,
  };
  return { probe, format: 'ogg-vorbis', ogg };
}

interface Decoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
  errors: unknown[];
}

/** The decoders may return views on a larger buffer; keep exactly `n` samples per channel. */
const trimTo = (channelData: Float32Array[], n: number): Float32Array[] =>
  channelData.map((ch) => (ch.length === n ? ch : ch.slice(0, n)));

async function decodeFlac(bytes: Uint8Array, info: FlacInfo, fileName: string): Promise<AudioData> {
  const decoder = new FLACDecoder();
  let r: Decoded;
  try {
    await decoder.ready;
    r = await decoder.decodeFile(bytes);
  } finally {
    decoder.free();
  }
  const promisedSec = info.totalSamples / info.sampleRateHz;
  const presentSec = r.samplesDecoded / info.sampleRateHz;
  if (r.errors.length > 0) throw truncated(fileName, 'FLAC', info.totalSamples > 0 ? promisedSec : NaN, presentSec);
  if (info.totalSamples > 0 && r.samplesDecoded < info.totalSamples) {
    throw truncated(fileName, 'FLAC', promisedSec, presentSec);
  }
  const channels = trimTo(r.channelData, r.samplesDecoded);
  // libFLAC's wasm wrapper scales by 2^(bits-1) - 1; rescale to 2^(bits-1) like WAV and the rest
  // of the world, so a FLAC and the WAV it came from decode to identical samples. Float32 holds
  // every integer sample of up to 24 bits, so rounding recovers them exactly.
  if (info.bitsPerSample <= 24) {
    const full = 2 ** (info.bitsPerSample - 1);
    const scaledBy = full - 1;
    for (const ch of channels) for (let i = 0; i < ch.length; i++) ch[i] = Math.round(ch[i] * scaledBy) / full;
  }
  return { sampleRateHz: info.sampleRateHz, channels };
}

async function decodeMp3(bytes: Uint8Array, walk: MpegWalk, fileName: string): Promise<AudioData> {
  const decoder = new MPEGDecoder();
  let r: Decoded;
  // mpg123-decoder logs stream errors with console.error; keep them out of the user's terminal
  // (the one-line InputError says what matters). decode() is synchronous, so nothing else runs
  // while the logger is swapped.
  const logError = console.error;
  const logged: unknown[] = [];
  try {
    await decoder.ready;
    console.error = (...args: unknown[]): void => void logged.push(args);
    r = decoder.decode(bytes);
  } finally {
    console.error = logError;
    decoder.free();
  }
  if (r.samplesDecoded === 0 && walk.numFrames > 0) throw truncated(fileName, 'MP3');
  // The decoder always returns two channels; a mono stream is duplicated, so keep one.
  const channels = trimTo(r.channelData, r.samplesDecoded).slice(0, walk.first.numChannels);
  return { sampleRateHz: r.sampleRate, channels };
}

async function decodeVorbis(bytes: Uint8Array, walk: OggWalk, fileName: string): Promise<AudioData> {
  const decoder = new OggVorbisDecoder();
  let r: Decoded;
  try {
    await decoder.ready;
    r = await decoder.decodeFile(bytes);
  } finally {
    decoder.free();
  }
  const promisedSec = walk.lastGranule / walk.sampleRateHz;
  const presentSec = r.samplesDecoded / walk.sampleRateHz;
  // A whole stream decodes to (nearly) its last granule position; a stream cut from a longer one
  // may start at a later granule, so count from the first audio page's position. Damage inside
  // the stream loses packets.
  const first = Number.isFinite(walk.firstAudioGranule) ? walk.firstAudioGranule : 0;
  if (r.errors.length > 0 || r.samplesDecoded < walk.lastGranule - first - 4096) {
    throw truncated(fileName, 'Ogg Vorbis', promisedSec, presentSec);
  }
  let channels = trimTo(r.channelData, r.samplesDecoded);
  const order = VORBIS_TO_WAV[channels.length];
  if (order) channels = order.map((k) => channels[k]);
  return { sampleRateHz: r.sampleRate, channels };
}
