/**
 * Container detection from the bytes themselves (never the file name): a misnamed file still
 * decodes, and a PDF named song.mp3 gets told it is a PDF.
 */
import { findMpegStart, parseMpegHeader } from './mpeg.js';
import { oggCodecOf, type OggCodec } from './ogg.js';

export type Sniffed =
  | { kind: 'wav'; offset: number }
  | { kind: 'flac'; offset: number }
  | { kind: 'mp3'; offset: number }
  | { kind: 'ogg'; codec: OggCodec }
  /** A known audio (or video) container or codec that we do not decode; `what` names it. */
  | { kind: 'unsupported'; what: string }
  /** Not audio; `looksLike` names what it seems to be, when we can tell. */
  | { kind: 'not-audio'; looksLike?: string };

const text = (b: Uint8Array, at: number, n: number): string =>
  at + n <= b.length ? String.fromCharCode(...b.subarray(at, at + n)) : '';

/** Bytes of ID3v2 tags at `at` (several may be stacked), 0 when none. */
function id3Length(b: Uint8Array, at: number): number {
  let p = at;
  while (text(b, p, 3) === 'ID3' && p + 10 <= b.length) {
    const size = ((b[p + 6] & 0x7f) << 21) | ((b[p + 7] & 0x7f) << 14) | ((b[p + 8] & 0x7f) << 7) | (b[p + 9] & 0x7f);
    const footer = b[p + 5] & 0x10 ? 10 : 0;
    p += 10 + size + footer;
  }
  return p - at;
}

/** ADTS (raw AAC) sync: 12 bits set, layer 00. */
const isAdts = (b: Uint8Array, p: number): boolean =>
  p + 7 <= b.length && b[p] === 0xff && (b[p + 1] & 0xf6) === 0xf0;

const MP4_BRANDS: Record<string, string> = {
  'M4A ': 'M4A (AAC or ALAC in MP4)',
  'M4B ': 'M4B audiobook (AAC in MP4)',
  'M4P ': 'M4P (protected AAC)',
  'qt  ': 'QuickTime (MOV)',
  '3gp4': '3GP',
  '3gp5': '3GP',
};

export function sniff(b: Uint8Array): Sniffed {
  const id3 = id3Length(b, 0);
  const at = Math.min(id3, b.length);
  const m4 = text(b, at, 4);
  if (m4 === 'RIFF' || m4 === 'RF64') {
    const form = text(b, at + 8, 4);
    if (form === 'WAVE') return { kind: 'wav', offset: at };
    if (form === 'AVI ') return { kind: 'unsupported', what: 'an AVI video file' };
    if (form === 'WEBP') return { kind: 'not-audio', looksLike: 'a WebP image' };
    if (form === '') return { kind: 'wav', offset: at }; // cut inside the header: let the WAV reader say so
    return { kind: 'not-audio', looksLike: `a RIFF ${form.trim()} file` };
  }
  if (m4 === 'fLaC') return { kind: 'flac', offset: at };
  if (m4 === 'OggS') return { kind: 'ogg', codec: oggCodecOf(firstOggPacket(b, at)) };
  if (m4 === 'FORM') {
    const form = text(b, at + 8, 4);
    if (form === 'AIFF' || form === 'AIFC') return { kind: 'unsupported', what: 'AIFF' };
  }
  if (text(b, at + 4, 4) === 'ftyp') {
    const brand = text(b, at + 8, 4);
    return { kind: 'unsupported', what: MP4_BRANDS[brand] ?? 'MP4/M4A (AAC or ALAC audio)' };
  }
  if (b[at] === 0x1a && b[at + 1] === 0x45 && b[at + 2] === 0xdf && b[at + 3] === 0xa3) {
    return { kind: 'unsupported', what: 'WebM/Matroska (usually Opus or AAC audio)' };
  }
  const simple: [string, string][] = [
    ['caff', 'Core Audio Format (CAF)'],
    ['.snd', 'Sun/NeXT AU'],
    ['wvpk', 'WavPack'],
    ['MAC ', "Monkey's Audio (APE)"],
    ['#!AM', 'AMR'],
    ['TTA1', 'TTA'],
    ['MPCK', 'Musepack'],
    ['DSD ', 'DSD (DSF)'],
    ['FRM8', 'DSD (DFF)'],
  ];
  for (const [magic, what] of simple) if (m4 === magic) return { kind: 'unsupported', what };
  if (b[at] === 0x30 && b[at + 1] === 0x26 && b[at + 2] === 0xb2 && b[at + 3] === 0x75) {
    return { kind: 'unsupported', what: 'WMA/ASF' };
  }
  // MPEG audio: a verified frame right after the tags, else a run of frames after some junk.
  const h = parseMpegHeader(b, at);
  if (h && findMpegStart(b, at, 0) === at) return { kind: 'mp3', offset: at };
  if (isAdts(b, at)) return { kind: 'unsupported', what: 'AAC (ADTS)' };
  const notAudio = whatIsIt(b, at);
  if (notAudio) return { kind: 'not-audio', looksLike: notAudio };
  const later = findMpegStart(b, at, 64 * 1024);
  if (later >= 0) return { kind: 'mp3', offset: later };
  return { kind: 'not-audio' };
}

function firstOggPacket(b: Uint8Array, at: number): Uint8Array {
  const nseg = b[at + 26] ?? 0;
  let len = 0;
  for (let i = 0; i < nseg; i++) len += b[at + 27 + i] ?? 0;
  return b.subarray(at + 27 + nseg, at + 27 + nseg + len);
}

/** Common non-audio files, so the message can say what the file is. */
function whatIsIt(b: Uint8Array, at: number): string | undefined {
  const m = text(b, at, 8);
  if (m.startsWith('%PDF')) return 'a PDF document';
  if (m.startsWith('\x89PNG')) return 'a PNG image';
  if (b[at] === 0xff && b[at + 1] === 0xd8 && b[at + 2] === 0xff) return 'a JPEG image';
  if (m.startsWith('GIF8')) return 'a GIF image';
  if (m.startsWith('PK\x03\x04')) return 'a ZIP archive (or an Office document)';
  if (m.startsWith('MThd')) return 'a MIDI file (stemscribe needs recorded audio, not MIDI)';
  if (m.startsWith('\x1f\x8b')) return 'a gzip archive';
  if (m.startsWith('Rar!')) return 'a RAR archive';
  if (m.startsWith('7z\xbc\xaf')) return 'a 7-Zip archive';
  if (m.startsWith('\x7fELF')) return 'a program';
  if (looksLikeText(b.subarray(at, at + 4096))) return 'a text file';
  return undefined;
}

function looksLikeText(b: Uint8Array): boolean {
  if (b.length === 0) return false;
  let bad = 0;
  for (const c of b) if (c < 9 || (c > 13 && c < 32) || c === 127) bad++;
  // UTF-8 multibyte sequences are >= 0x80 and count as text here.
  return bad === 0;
}
