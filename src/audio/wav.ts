/**
 * WAV (RIFF/RF64) reading and writing, by hand: the format is small and a careful parser lets us
 * tell a truncated file (data chunk shorter than its header says) from a damaged or unsupported
 * one, which generic parsers do not report.
 */
import type { AudioData } from '../types.js';
import { inputError, truncated, unsupportedCodec } from './input-error.js';

const FORMAT_PCM = 0x0001;
const FORMAT_FLOAT = 0x0003;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Names of WAV codecs users meet, for the "not supported" message. */
const WAV_CODEC_NAMES: Record<number, string> = {
  0x0002: 'Microsoft ADPCM',
  0x0006: 'A-law',
  0x0007: 'mu-law',
  0x0011: 'IMA ADPCM',
  0x0022: 'TrueSpeech',
  0x0031: 'GSM 6.10',
  0x0040: 'G.721 ADPCM',
  0x0050: 'MPEG',
  0x0055: 'MP3',
  0x0064: 'G.726 ADPCM',
  0x00ff: 'AAC',
  0x0160: 'WMA',
  0x0161: 'WMA',
  0x0162: 'WMA Pro',
  0x0163: 'WMA Lossless',
  0x1610: 'AAC',
  0x2000: 'AC-3',
  0x2001: 'DTS',
};

export interface WavInfo {
  /** Resolved codec tag (the sub-format for WAVE_FORMAT_EXTENSIBLE). */
  formatTag: number;
  numChannels: number;
  sampleRateHz: number;
  /** Bytes per sample of one channel (container size, e.g. 3 for 24-bit). */
  bytesPerSample: number;
  dataOffset: number;
  /** Whole frames present in the file (after clamping to the declared size). */
  numFrames: number;
  /** Frames the header declares; NaN when the writer could not know (streamed WAV). */
  declaredFrames: number;
}

const ascii = (b: Uint8Array, at: number): string =>
  String.fromCharCode(b[at], b[at + 1], b[at + 2], b[at + 3]);

/** Data sizes writers use when they stream and cannot seek back (0, sox's 0x7ffff000, -1). */
const isPlaceholderSize = (n: number): boolean => n === 0 || n === 0xffffffff || n === 0x7ffff000;

/** Parses the header and checks it; throws `InputError` for unsupported codecs and truncation. */
export function parseWav(bytes: Uint8Array, fileName: string): WavInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const isRf64 = ascii(bytes, 0) === 'RF64';
  let ds64DataBytes = NaN;
  let fmt: { tag: number; channels: number; rate: number; blockAlign: number; bits: number } | undefined;
  let pos = 12;
  while (pos + 8 <= bytes.length) {
    const id = ascii(bytes, pos);
    const size = view.getUint32(pos + 4, true);
    const body = pos + 8;
    if (id === 'ds64' && body + 16 <= bytes.length) {
      ds64DataBytes = Number(view.getBigUint64(body + 8, true));
    } else if (id === 'fmt ') {
      if (size < 16 || body + 16 > bytes.length) throw truncated(fileName, 'WAV');
      let tag = view.getUint16(body, true);
      if (tag === FORMAT_EXTENSIBLE) {
        // The first two bytes of the sub-format GUID are the codec tag.
        if (size < 26 || body + 26 > bytes.length) throw truncated(fileName, 'WAV');
        tag = view.getUint16(body + 24, true);
      }
      fmt = {
        tag,
        channels: view.getUint16(body + 2, true),
        rate: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true),
        bits: view.getUint16(body + 14, true),
      };
    } else if (id === 'data') {
      if (!fmt) {
        throw inputError(fileName, 'NOT_AUDIO', 'the WAV file has no format chunk before its audio data, so it cannot be read; export it again.');
      }
      return checkFormat(fileName, fmt, body, dataBytes(size, ds64DataBytes, isRf64), bytes.length - body);
    }
    pos = body + size + (size & 1);
  }
  throw truncated(fileName, 'WAV');
}

function dataBytes(size: number, ds64: number, isRf64: boolean): number {
  if (isRf64 && size === 0xffffffff && Number.isFinite(ds64)) return ds64;
  return isPlaceholderSize(size) ? NaN : size;
}

function checkFormat(
  fileName: string,
  fmt: { tag: number; channels: number; rate: number; blockAlign: number; bits: number },
  dataOffset: number,
  declaredBytes: number,
  presentBytes: number,
): WavInfo {
  const { tag, channels, rate, blockAlign, bits } = fmt;
  if (tag !== FORMAT_PCM && tag !== FORMAT_FLOAT) {
    const name = WAV_CODEC_NAMES[tag] ?? `codec 0x${tag.toString(16).padStart(4, '0')}`;
    throw unsupportedCodec(fileName, `WAV with ${name} audio`);
  }
  const bytesPerSample = channels > 0 ? blockAlign / channels : 0;
  const intOk = tag === FORMAT_PCM && [1, 2, 3, 4].includes(bytesPerSample) && bits <= 8 * bytesPerSample;
  const floatOk = tag === FORMAT_FLOAT && (bytesPerSample === 4 || bytesPerSample === 8);
  if (channels === 0 || rate === 0 || !(intOk || floatOk)) {
    if (channels === 0 || rate === 0 || !Number.isInteger(bytesPerSample)) {
      throw inputError(fileName, 'NOT_AUDIO', `the WAV header is invalid (${channels} channels, ${rate} Hz, block size ${blockAlign}); export the file again.`);
    }
    throw unsupportedCodec(fileName, `WAV with ${bits}-bit ${tag === FORMAT_FLOAT ? 'float' : 'integer'} samples`);
  }
  const declaredFrames = Math.floor(declaredBytes / blockAlign);
  const presentFrames = Math.floor(presentBytes / blockAlign);
  if (Number.isFinite(declaredBytes) && presentBytes < declaredBytes) {
    throw truncated(fileName, 'WAV', declaredFrames / rate, presentFrames / rate);
  }
  return {
    formatTag: tag,
    numChannels: channels,
    sampleRateHz: rate,
    bytesPerSample,
    dataOffset,
    numFrames: Number.isFinite(declaredFrames) ? declaredFrames : presentFrames,
    declaredFrames,
  };
}

/** Decodes the samples `parseWav` described into planar float PCM (ints scaled by 2^-(bits-1)). */
export function decodeWavSamples(bytes: Uint8Array, info: WavInfo): AudioData {
  const { numChannels: nc, numFrames: n, bytesPerSample: bps, dataOffset, formatTag } = info;
  const channels = Array.from({ length: nc }, () => new Float32Array(n));
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, n * nc * bps);
  for (let c = 0; c < nc; c++) {
    const out = channels[c];
    const stride = nc * bps;
    let p = c * bps;
    if (formatTag === FORMAT_FLOAT && bps === 4) {
      for (let i = 0; i < n; i++, p += stride) out[i] = view.getFloat32(p, true);
    } else if (formatTag === FORMAT_FLOAT) {
      for (let i = 0; i < n; i++, p += stride) out[i] = view.getFloat64(p, true);
    } else if (bps === 2) {
      for (let i = 0; i < n; i++, p += stride) out[i] = view.getInt16(p, true) / 32768;
    } else if (bps === 3) {
      for (let i = 0; i < n; i++, p += stride) {
        const v = view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16);
        out[i] = v / 8388608;
      }
    } else if (bps === 4) {
      for (let i = 0; i < n; i++, p += stride) out[i] = view.getInt32(p, true) / 2147483648;
    } else {
      // 8-bit WAV is unsigned with 128 as zero.
      for (let i = 0; i < n; i++, p += stride) out[i] = (view.getUint8(p) - 128) / 128;
    }
  }
  return { sampleRateHz: info.sampleRateHz, channels };
}

export interface EncodeWavOptions {
  /** `pcm16` (default): compact, for stems people listen to. `float32`: lossless, for passing audio between stages. */
  format?: 'pcm16' | 'float32';
}

/**
 * Writes a canonical little-endian WAV. pcm16 rounds to nearest and clips (no dither, so the output
 * is deterministic); float32 writes the samples bit for bit, with the `fact` chunk the spec asks
 * of non-PCM WAV, and round-trips exactly through `decodeAudio`.
 */
export function encodeWav(audio: AudioData, opts?: EncodeWavOptions): Uint8Array {
  const isFloat = opts?.format === 'float32';
  const nc = audio.channels.length;
  if (nc === 0) throw new RangeError('encodeWav: audio has no channels');
  const n = audio.channels[0].length;
  for (const ch of audio.channels) {
    if (ch.length !== n) throw new RangeError('encodeWav: channels differ in length');
  }
  const bps = isFloat ? 4 : 2;
  const dataBytes = n * nc * bps;
  const fmtBytes = isFloat ? 18 : 16;
  const headerBytes = 12 + 8 + fmtBytes + (isFloat ? 12 : 0) + 8;
  if (headerBytes + dataBytes > 0xffffffff) throw new RangeError('encodeWav: audio too long for a WAV file (4 GiB)');
  const out = new Uint8Array(headerBytes + dataBytes);
  const v = new DataView(out.buffer);
  const putAscii = (at: number, s: string): void => {
    for (let i = 0; i < 4; i++) out[at + i] = s.charCodeAt(i);
  };
  putAscii(0, 'RIFF');
  v.setUint32(4, out.length - 8, true);
  putAscii(8, 'WAVE');
  putAscii(12, 'fmt ');
  v.setUint32(16, fmtBytes, true);
  v.setUint16(20, isFloat ? FORMAT_FLOAT : FORMAT_PCM, true);
  v.setUint16(22, nc, true);
  v.setUint32(24, audio.sampleRateHz, true);
  v.setUint32(28, audio.sampleRateHz * nc * bps, true);
  v.setUint16(32, nc * bps, true);
  v.setUint16(34, 8 * bps, true);
  let pos = 36;
  if (isFloat) {
    v.setUint16(pos, 0, true); // cbSize
    putAscii(pos + 2, 'fact');
    v.setUint32(pos + 6, 4, true);
    v.setUint32(pos + 10, n, true);
    pos += 14;
  }
  putAscii(pos, 'data');
  v.setUint32(pos + 4, dataBytes, true);
  pos += 8;
  // Interleave into an aligned typed array, then copy the bytes: the data offset is not aligned.
  if (isFloat) {
    const inter = new Float32Array(n * nc);
    audio.channels.forEach((ch, c) => {
      for (let i = 0, j = c; i < n; i++, j += nc) inter[j] = ch[i];
    });
    writeLittleEndian(out, pos, inter);
  } else {
    const inter = new Int16Array(n * nc);
    audio.channels.forEach((ch, c) => {
      for (let i = 0, j = c; i < n; i++, j += nc) {
        const s = Math.round(ch[i] * 32768);
        inter[j] = s > 32767 ? 32767 : s < -32768 ? -32768 : s;
      }
    });
    writeLittleEndian(out, pos, inter);
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function writeLittleEndian(out: Uint8Array, at: number, data: Float32Array | Int16Array): void {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN) {
    out.set(raw, at);
    return;
  }
  const w = data.BYTES_PER_ELEMENT;
  for (let i = 0; i < raw.length; i += w) for (let k = 0; k < w; k++) out[at + i + k] = raw[i + w - 1 - k];
}
