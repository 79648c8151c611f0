/**
 * Every kind of bad input gets its own InputError code and one line that names the file and says
 * what to do. Truncated variants are cut from the good fixtures here.
 */
import { describe, expect, it } from 'vitest';
import { decodeAudio, probeAudio } from '../../src/audio/decode.js';
import { formatDistinct } from '../../src/audio/input-error.js';
import { encodeWav } from '../../src/audio/wav.js';
import { InputError, type InputErrorCode } from '../../src/errors.js';
import { fixture } from './fixtures.js';

async function decodeError(bytes: Uint8Array, fileName: string, limits?: { maxBytes?: number; maxDurationSec?: number }): Promise<InputError> {
  try {
    await decodeAudio(bytes, { fileName, limits });
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error(`${fileName} decoded without error`);
}

async function expectInputError(
  bytes: Uint8Array,
  fileName: string,
  code: InputErrorCode,
  mentions: RegExp[] = [],
  limits?: { maxBytes?: number; maxDurationSec?: number },
): Promise<InputError> {
  const e = await decodeError(bytes, fileName, limits);
  expect(e.code, e.message).toBe(code);
  expect(e.stage).toBe('decode');
  expect(e.message.startsWith(`${fileName}: `)).toBe(true);
  expect(e.message).not.toMatch(/\n/);
  for (const m of mentions) expect(e.message).toMatch(m);
  return e;
}

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const cut = (b: Uint8Array, fraction: number): Uint8Array => b.slice(0, Math.floor(b.length * fraction));
const SUPPORTED = /WAV .*FLAC, MP3 and Ogg Vorbis/;

describe('EMPTY', () => {
  it('a 0-byte file', async () => {
    await expectInputError(new Uint8Array(0), 'upload.wav', 'EMPTY', [/empty/]);
    await expect(probeAudio(new Uint8Array(0), { fileName: 'x.mp3' })).rejects.toMatchObject({ code: 'EMPTY' });
  });
  it('a valid WAV with no samples', async () => {
    const wav = encodeWav({ sampleRateHz: 44100, channels: [new Float32Array(0)] });
    await expectInputError(wav, 'nothing.wav', 'EMPTY', [/no audio/]);
    await expect(probeAudio(wav, { fileName: 'nothing.wav' })).rejects.toMatchObject({ code: 'EMPTY' });
  });
});

describe('NOT_AUDIO', () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const jpeg = new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
  let seed = 12345;
  const noise = Uint8Array.from({ length: 50_000 }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 24) & 0xff);
  const cases: [string, Uint8Array, RegExp][] = [
    ['lyrics.txt', ascii('Verse 1\nI walked along the river\n'.repeat(20)), /text file/],
    ['score.pdf', ascii('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n'), /PDF document/],
    ['cover.png', png, /PNG image/],
    ['cover.mp3', jpeg, /JPEG image/],
    ['song.mid', ascii('MThd\0\0\0\x06\0\x01\0\x02\x01\xe0MTrk'), /MIDI file/],
    ['noise.bin', noise, /not an audio file/],
    ['zeros.wav', new Uint8Array(4096), /not an audio file/],
  ];
  for (const [name, bytes, what] of cases) {
    it(name, async () => {
      await expectInputError(bytes, name, 'NOT_AUDIO', [what, SUPPORTED]);
      await expect(probeAudio(bytes, { fileName: name })).rejects.toMatchObject({ code: 'NOT_AUDIO' });
    });
  }
});

describe('UNSUPPORTED_CODEC names the codec and what is supported', () => {
  // Only the first bytes matter for these: real M4A/ADTS/WebM files start the same way.
  const m4a = new Uint8Array([0, 0, 0, 0x20, ...ascii('ftypM4A '), 0, 0, 2, 0, ...ascii('M4A mp42isom'), 0, 0, 0, 8, ...ascii('free')]);
  const adts = new Uint8Array([0xff, 0xf1, 0x50, 0x80, 0x02, 0x1f, 0xfc, ...new Array(64).fill(0)]);
  const webm = new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, ...new Array(32).fill(0)]);
  const aiff = new Uint8Array([...ascii('FORM'), 0, 0, 0, 100, ...ascii('AIFFCOMM'), ...new Array(30).fill(0)]);
  const cases: [string, Uint8Array, RegExp][] = [
    ['voice.wav', fixture('bad-mulaw.wav'), /WAV with mu-law audio/],
    ['adpcm.wav', fixture('bad-ima-adpcm.wav'), /WAV with IMA ADPCM audio/],
    ['track.opus', fixture('bad-opus.opus'), /Ogg Opus/],
    ['track.m4a', m4a, /M4A \(AAC or ALAC in MP4\)/],
    ['track.aac', adts, /AAC \(ADTS\)/],
    ['track.webm', webm, /WebM/],
    ['track.aiff', aiff, /AIFF/],
  ];
  for (const [name, bytes, what] of cases) {
    it(name, async () => {
      await expectInputError(bytes, name, 'UNSUPPORTED_CODEC', [what, /not supported/, SUPPORTED]);
      await expect(probeAudio(bytes, { fileName: name })).rejects.toMatchObject({ code: 'UNSUPPORTED_CODEC' });
    });
  }
});

describe('TRUNCATED', () => {
  const files = ['sine-s16.wav', 'sine-f32.wav', 'sine-s16.flac', 'sine-s24.flac', 'sine-22k.mp3', 'sine-44k-mono-notag.mp3', 'sine.ogg', 'surround-6ch.ogg'];
  for (const name of files) {
    for (const fraction of [0.5, 0.97]) {
      it(`${name} cut to ${fraction * 100}%`, async () => {
        await expectInputError(cut(fixture(name), fraction), name, 'TRUNCATED', [/truncated/, /complete file/]);
      });
    }
  }

  it('says how much is missing when the header tells', async () => {
    await expectInputError(cut(fixture('sine-s16.wav'), 0.5), 'a.wav', 'TRUNCATED', [/promises 0\.20 s of audio, only 0\.10 s/]);
    await expectInputError(cut(fixture('sine-s16.flac'), 0.5), 'a.flac', 'TRUNCATED', [/promises 0\.20 s/]);
  });

  it('a WAV cut inside its header', async () => {
    await expectInputError(fixture('sine-s16.wav').slice(0, 30), 'head.wav', 'TRUNCATED');
    await expectInputError(fixture('sine-s16.wav').slice(0, 40), 'head.wav', 'TRUNCATED');
  });

  it('an MP3 cut exactly at a frame boundary (caught by the Info tag frame count)', async () => {
    const mp3 = fixture('sine-22k.mp3');
    // Frames of this 64 kbit/s 22.05 kHz file are 208 or 209 bytes: walk them to a boundary.
    let p = 0;
    for (let k = 0; k < 8; k++) p += frameBytes(mp3, p);
    expect(mp3[p]).toBe(0xff); // the next frame starts here
    await expectInputError(mp3.slice(0, p), 'cut.mp3', 'TRUNCATED');
  });

  it('an Ogg file cut exactly at a page boundary (no end-of-stream page)', async () => {
    const ogg = fixture('sine.ogg');
    const pages: number[] = [];
    for (let i = 0; i + 4 <= ogg.length; i++) if (ogg[i] === 0x4f && ogg[i + 1] === 0x67 && ogg[i + 2] === 0x67 && ogg[i + 3] === 0x53) pages.push(i);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    await expectInputError(ogg.slice(0, pages[pages.length - 1]), 'cut.ogg', 'TRUNCATED');
  });

  it('a FLAC file damaged in the middle', async () => {
    const flac = fixture('sine-s16.flac').slice();
    for (let i = 0; i < 200; i++) flac[2000 + i] ^= 0x5a;
    await expectInputError(flac, 'damaged.flac', 'TRUNCATED', [/damaged/]);
  });

  it('an Ogg Vorbis file damaged in the middle (page CRC), found by probe too', async () => {
    const ogg = fixture('sine.ogg').slice();
    const mid = ogg.length >> 1;
    for (let i = 0; i < 16; i++) ogg[mid + i] ^= 0x5a;
    await expectInputError(ogg, 'damaged.ogg', 'TRUNCATED', [/damaged/]);
    await expect(probeAudio(ogg, { fileName: 'damaged.ogg' })).rejects.toMatchObject({ code: 'TRUNCATED' });
  });

  it('probeAudio catches the truncation it can see without decoding (WAV, MP3, Ogg)', async () => {
    for (const name of ['sine-s16.wav', 'sine-22k.mp3', 'sine.ogg']) {
      await expect(probeAudio(cut(fixture(name), 0.5), { fileName: name })).rejects.toMatchObject({ code: 'TRUNCATED' });
    }
  });
});

/** Length of the MPEG-2 layer III 22.05 kHz frame at p. */
function frameBytes(b: Uint8Array, p: number): number {
  const bitrateKbps = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160][b[p + 2] >> 4];
  const padding = (b[p + 2] >> 1) & 1;
  return Math.floor((72 * bitrateKbps * 1000) / 22050) + padding;
}

describe('TOO_LARGE and TOO_LONG are checked before decoding', () => {
  it('a file over the byte limit', async () => {
    const e = await expectInputError(fixture('sine-s16.flac'), 'big.flac', 'TOO_LARGE', [/limit/], { maxBytes: 1000 });
    expect(e.message).toMatch(/4\.\d KiB, over the 1000 bytes limit/);
    await expect(probeAudio(fixture('sine.ogg'), { fileName: 'big.ogg', limits: { maxBytes: 1000 } })).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });

  for (const name of ['sine-s16.wav', 'sine-s16.flac', 'sine-22k.mp3', 'sine-44k-mono-notag.mp3', 'sine.ogg']) {
    it(`${name} longer than the duration limit`, async () => {
      await expectInputError(fixture(name), name, 'TOO_LONG', [/0\.20 s long|0\.2\d s long/, /over the 0\.10 s limit/], { maxDurationSec: 0.1 });
      await expect(probeAudio(fixture(name), { fileName: name, limits: { maxDurationSec: 0.1 } })).rejects.toMatchObject({ code: 'TOO_LONG' });
    });
  }

  it('messages print durations with enough digits to tell length and limit apart', () => {
    expect(formatDistinct(1200.4, 1200)).toEqual(['20:00.4', '20:00.0']);
    expect(formatDistinct(1500, 1200)).toEqual(['25:00', '20:00']);
    expect(formatDistinct(0.2, 0.1)).toEqual(['0.20 s', '0.10 s']);
  });

  it('the limits are not hit by ordinary files', async () => {
    await expect(decodeAudio(fixture('sine-s16.wav'), { fileName: 'ok.wav', limits: { maxBytes: 20_000, maxDurationSec: 0.3 } })).resolves.toBeTruthy();
  });
});
