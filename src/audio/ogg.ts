/**
 * Ogg page walking: identifies the codec of the first logical stream, reads the Vorbis header,
 * gives the exact duration from the last granule position before decoding, and tells a truncated
 * file (last page cut, or no end-of-stream page) from a whole one.
 */

export type OggCodec = 'vorbis' | 'opus' | 'flac' | 'speex' | 'theora' | 'unknown';

export interface OggWalk {
  codec: OggCodec;
  /** From the Vorbis identification header; 0 for other codecs. */
  sampleRateHz: number;
  numChannels: number;
  /** Granule position of the last complete page of the first stream (samples for Vorbis). */
  lastGranule: number;
  /** The last page of the first stream carries the end-of-stream flag. */
  sawEndOfStream: boolean;
  /** A page header or body runs past the end of the file. */
  lastPageCut: boolean;
  /** Bytes between pages that are not pages (damage). */
  junkBytes: number;
  /** Pages whose CRC does not match (damage). */
  badPages: number;
  /** Granule position of the first audio page of the first stream (after the 3 Vorbis headers). */
  firstAudioGranule: number;
}

/** CRC-32 of Ogg: polynomial 0x04c11db7, not reflected, initial value 0. */
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** CRC of a page, computed with its CRC field (bytes 22..25) taken as zero. */
function pageCrc(b: Uint8Array, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    const byte = i - start >= 22 && i - start < 26 ? 0 : b[i];
    crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ byte) & 0xff]) >>> 0;
  }
  return crc;
}

const isCapture = (b: Uint8Array, p: number): boolean =>
  b[p] === 0x4f && b[p + 1] === 0x67 && b[p + 2] === 0x67 && b[p + 3] === 0x53; // "OggS"

export function oggCodecOf(packet: Uint8Array): OggCodec {
  const s = String.fromCharCode(...packet.subarray(0, 8));
  if (s.startsWith('\x01vorbis')) return 'vorbis';
  if (s.startsWith('OpusHead')) return 'opus';
  if (s.startsWith('\x7fFLAC')) return 'flac';
  if (s.startsWith('Speex   ')) return 'speex';
  if (s.startsWith('\x80theora')) return 'theora';
  return 'unknown';
}

/** `b` starts with "OggS". When `headOnly`, stops after the first page (codec and header only). */
export function walkOgg(b: Uint8Array, headOnly = false): OggWalk {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: OggWalk = {
    codec: 'unknown',
    sampleRateHz: 0,
    numChannels: 0,
    lastGranule: 0,
    sawEndOfStream: false,
    lastPageCut: false,
    junkBytes: 0,
    badPages: 0,
    firstAudioGranule: NaN,
  };
  let headerPacketsLeft = 3; // Vorbis: identification, comment, setup
  let serial: number | undefined;
  let p = 0;
  while (p < b.length) {
    if (!isCapture(b, p)) {
      const q = b.indexOf(0x4f, p + 1);
      let next = -1;
      for (let k = q; k >= 0 && k + 4 <= b.length; k = b.indexOf(0x4f, k + 1)) {
        if (isCapture(b, k)) {
          next = k;
          break;
        }
      }
      if (next < 0) {
        out.junkBytes += b.length - p;
        break;
      }
      out.junkBytes += next - p;
      p = next;
    }
    if (p + 27 > b.length) {
      out.lastPageCut = true;
      break;
    }
    const flags = b[p + 5];
    const granule = Number(view.getBigInt64(p + 6, true));
    const pageSerial = view.getUint32(p + 14, true);
    const numSegments = b[p + 26];
    if (p + 27 + numSegments > b.length) {
      out.lastPageCut = true;
      break;
    }
    let bodyBytes = 0;
    for (let i = 0; i < numSegments; i++) bodyBytes += b[p + 27 + i];
    const body = p + 27 + numSegments;
    if (body + bodyBytes > b.length) {
      out.lastPageCut = true;
      break;
    }
    if (view.getUint32(p + 22, true) !== pageCrc(b, p, body + bodyBytes)) out.badPages++;
    if (serial === undefined) {
      serial = pageSerial;
      const packet = b.subarray(body, body + bodyBytes);
      out.codec = oggCodecOf(packet);
      if (out.codec === 'vorbis' && packet.length >= 16) {
        out.numChannels = packet[11];
        out.sampleRateHz = view.getUint32(body + 12, true);
      }
      if (headOnly) return out;
    }
    if (pageSerial === serial) {
      // -1 marks a page on which no packet ends; it carries no position.
      if (granule >= 0) out.lastGranule = granule;
      if (headerPacketsLeft <= 0 && Number.isNaN(out.firstAudioGranule) && granule >= 0) out.firstAudioGranule = granule;
      // Packets ending on this page: segments shorter than 255 bytes.
      for (let i = 0; i < numSegments && headerPacketsLeft > 0; i++) if (b[p + 27 + i] < 255) headerPacketsLeft--;
      out.sawEndOfStream = (flags & 0x04) !== 0;
    }
    p = body + bodyBytes;
  }
  return out;
}

/**
 * Vorbis channel order (RFC 7845 section 5.1.1.2) to WAV/SMPTE order (FL FR FC LFE BL BR SL SR):
 * `wav[k] = vorbis[VORBIS_TO_WAV[n][k]]`.
 */
export const VORBIS_TO_WAV: Record<number, readonly number[]> = {
  3: [0, 2, 1],
  5: [0, 2, 1, 3, 4],
  6: [0, 2, 1, 5, 3, 4],
  7: [0, 2, 1, 6, 5, 3, 4],
  8: [0, 2, 1, 7, 5, 6, 3, 4],
};
