/**
 * MPEG audio (MP3, and layers I/II) frame walking. Decoding is mpg123's (wasm); walking the frame
 * headers ourselves gives the exact duration before decoding and tells a truncated file (last
 * frame cut, or fewer frames than the Xing/VBRI header counts) from a whole one, which the
 * decoder does not report.
 */

export interface MpegFrameHeader {
  /** 1, 2 or 2.5 */
  version: 1 | 2 | 2.5;
  layer: 1 | 2 | 3;
  sampleRateHz: number;
  numChannels: 1 | 2;
  frameBytes: number;
  samplesPerFrame: number;
}

const BITRATES_KBPS: Record<string, readonly number[]> = {
  'v1l1': [0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448],
  'v1l2': [0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384],
  'v1l3': [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320],
  'v2l1': [0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256],
  'v2l2': [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
};
const SAMPLE_RATES: Record<number, readonly number[]> = {
  1: [44100, 48000, 32000],
  2: [22050, 24000, 16000],
  2.5: [11025, 12000, 8000],
};

/** Parses a 4-byte MPEG audio frame header at `at`; undefined when it is not one (or free-format). */
export function parseMpegHeader(b: Uint8Array, at: number): MpegFrameHeader | undefined {
  if (at + 4 > b.length || b[at] !== 0xff || (b[at + 1] & 0xe0) !== 0xe0) return undefined;
  const versionBits = (b[at + 1] >> 3) & 3;
  const layerBits = (b[at + 1] >> 1) & 3;
  const bitrateIndex = b[at + 2] >> 4;
  const rateIndex = (b[at + 2] >> 2) & 3;
  if (versionBits === 1 || layerBits === 0 || bitrateIndex === 0 || bitrateIndex === 15 || rateIndex === 3) {
    return undefined;
  }
  const version = versionBits === 3 ? 1 : versionBits === 2 ? 2 : 2.5;
  const layer = (4 - layerBits) as 1 | 2 | 3;
  const key = version === 1 ? `v1l${layer}` : layer === 1 ? 'v2l1' : 'v2l2';
  const bitrate = BITRATES_KBPS[key][bitrateIndex] * 1000;
  const sampleRateHz = SAMPLE_RATES[version][rateIndex];
  const padding = (b[at + 2] >> 1) & 1;
  const numChannels = b[at + 3] >> 6 === 3 ? 1 : 2;
  let frameBytes: number;
  let samplesPerFrame: number;
  if (layer === 1) {
    frameBytes = (Math.floor((12 * bitrate) / sampleRateHz) + padding) * 4;
    samplesPerFrame = 384;
  } else if (layer === 2 || version === 1) {
    frameBytes = Math.floor((144 * bitrate) / sampleRateHz) + padding;
    samplesPerFrame = 1152;
  } else {
    frameBytes = Math.floor((72 * bitrate) / sampleRateHz) + padding;
    samplesPerFrame = 576;
  }
  return { version, layer, sampleRateHz, numChannels, frameBytes, samplesPerFrame };
}

const sameStream = (a: MpegFrameHeader, b: MpegFrameHeader): boolean =>
  a.version === b.version && a.layer === b.layer && a.sampleRateHz === b.sampleRateHz;

/**
 * Offset of the first frame that is followed by two more consistent frames (or by the end of a
 * short file), searching `from` .. `from + maxScan`; -1 when there is none. Three frames in a row
 * make a false positive on non-audio bytes vanishingly rare.
 */
export function findMpegStart(b: Uint8Array, from: number, maxScan: number): number {
  const end = Math.min(b.length - 4, from + maxScan);
  for (let p = from; p <= end; p++) {
    if (b[p] !== 0xff) continue;
    const h0 = parseMpegHeader(b, p);
    if (!h0) continue;
    let q = p + h0.frameBytes;
    let ok = true;
    for (let k = 0; k < 2 && ok; k++) {
      if (q >= b.length && p === from) break; // a whole, tiny file at the expected place
      const h = parseMpegHeader(b, q);
      ok = h !== undefined && sameStream(h0, h);
      if (h) q += h.frameBytes;
    }
    if (ok) return p;
  }
  return -1;
}

export interface MpegWalk {
  first: MpegFrameHeader;
  /** Audio frames (the Xing/Info/VBRI frame excluded). */
  numFrames: number;
  /** Frames the Xing/Info/VBRI header announces, NaN when there is none. */
  declaredFrames: number;
  /** Encoder delay + padding from the LAME tag, samples (0 when unknown). */
  gaplessTrimSamples: number;
  /** True when the last frame runs past the end of the file. */
  lastFrameCut: boolean;
  /** Bytes skipped to regain frame sync (junk or damage inside the stream). */
  junkBytes: number;
}

/** Walks all frame headers from `start` (a verified frame). */
export function walkMpegFrames(b: Uint8Array, start: number): MpegWalk {
  const first = parseMpegHeader(b, start);
  if (!first) throw new Error('walkMpegFrames: no frame at start');
  const xing = readXing(b, start, first);
  let p = xing ? start + first.frameBytes : start;
  let numFrames = 0;
  let lastFrameCut = false;
  let junkBytes = 0;
  const end = b.length;
  while (p < end) {
    const h = parseMpegHeader(b, p);
    if (h && sameStream(first, h)) {
      if (p + h.frameBytes > end) {
        lastFrameCut = true;
        break;
      }
      numFrames++;
      p += h.frameBytes;
      continue;
    }
    if (isTrailingTag(b, p)) break;
    // Lost sync: look for the next run of good frames.
    const q = findMpegStart(b, p + 1, end - p);
    if (q < 0) {
      junkBytes += end - p;
      break;
    }
    junkBytes += q - p;
    p = q;
  }
  return {
    first,
    numFrames,
    declaredFrames: xing?.frames ?? NaN,
    gaplessTrimSamples: xing?.trimSamples ?? 0,
    lastFrameCut,
    junkBytes,
  };
}

/** ID3v1 ("TAG"), APEv2 ("APETAGEX") and Lyrics3 tags live after the last frame. */
function isTrailingTag(b: Uint8Array, p: number): boolean {
  const s = String.fromCharCode(...b.subarray(p, p + 8));
  return s.startsWith('TAG') || s === 'APETAGEX' || s.startsWith('LYRICS');
}

function readXing(
  b: Uint8Array,
  at: number,
  h: MpegFrameHeader,
): { frames: number; trimSamples: number } | undefined {
  const u32 = (p: number): number => ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
  const tag = (p: number): string => String.fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3]);
  const sideInfo = h.version === 1 ? (h.numChannels === 1 ? 17 : 32) : h.numChannels === 1 ? 9 : 17;
  const x = at + 4 + sideInfo;
  if (x + 8 <= b.length && (tag(x) === 'Xing' || tag(x) === 'Info')) {
    const flags = u32(x + 4);
    let p = x + 8;
    const frames = flags & 1 ? u32(p) : NaN;
    if (flags & 1) p += 4;
    if (flags & 2) p += 4;
    if (flags & 4) p += 100;
    if (flags & 8) p += 4;
    let trimSamples = 0;
    if (p + 24 <= b.length && tag(p) === 'LAME') {
      const d = p + 21;
      trimSamples = ((b[d] << 4) | (b[d + 1] >> 4)) + (((b[d + 1] & 0x0f) << 8) | b[d + 2]);
    }
    return { frames, trimSamples };
  }
  const v = at + 4 + 32;
  if (v + 18 <= b.length && tag(v) === 'VBRI') return { frames: u32(v + 14), trimSamples: 0 };
  return undefined;
}
