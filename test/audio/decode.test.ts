import { describe, expect, it } from 'vitest';
import { decodeAudio, probeAudio } from '../../src/audio/decode.js';
import { isSilent, peakDbfs } from '../../src/audio/level.js';
import { encodeWav } from '../../src/audio/wav.js';
import { SOURCE_FRAMES, SOURCE_RATE_HZ, dominantTone, fixture, snrDb, sourceFloat, sourceInt16 } from './fixtures.js';

describe('decodeAudio: lossless formats give the exact source samples', () => {
  const exact = ['sine-s16.wav', 'sine-s24.wav', 'sine-s32.wav', 'sine-f32.wav', 'sine-s16.flac', 'sine-s24.flac'];
  for (const name of exact) {
    it(name, async () => {
      const audio = await decodeAudio(fixture(name), { fileName: name });
      expect(audio.sampleRateHz).toBe(SOURCE_RATE_HZ);
      expect(audio.channels).toHaveLength(2);
      for (const c of [0, 1] as const) {
        expect(audio.channels[c]).toEqual(sourceFloat(c));
      }
    });
  }

  it('sine-u8.wav (8-bit unsigned) within one 8-bit step', async () => {
    const audio = await decodeAudio(fixture('sine-u8.wav'));
    expect(audio.channels).toHaveLength(2);
    for (const c of [0, 1] as const) {
      const ref = sourceFloat(c);
      const got = audio.channels[c];
      expect(got.length).toBe(SOURCE_FRAMES);
      let maxErr = 0;
      for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(got[i] - ref[i]));
      expect(maxErr).toBeLessThanOrEqual(1 / 128);
      expect(got.some((v, i) => v !== ref[i])).toBe(true); // really 8-bit, not a copy of the 16-bit file
    }
  });
});

describe('decodeAudio: lossy formats match the source closely', () => {
  it('MP3 (MPEG-2 layer III with LAME tag): gapless, sample-aligned, both channels', async () => {
    const audio = await decodeAudio(fixture('sine-22k.mp3'));
    expect(audio.sampleRateHz).toBe(22050);
    expect(audio.channels).toHaveLength(2);
    expect(audio.channels[0].length).toBe(SOURCE_FRAMES);
    for (const c of [0, 1] as const) {
      expect(snrDb(audio.channels[c], sourceFloat(c), 200, SOURCE_FRAMES - 200)).toBeGreaterThan(20);
    }
  });

  it('MP3 without an Info tag (MPEG-1 mono 44.1 kHz): one channel, the tone after the encoder delay', async () => {
    const audio = await decodeAudio(fixture('sine-44k-mono-notag.mp3'));
    expect(audio.sampleRateHz).toBe(44100);
    expect(audio.channels).toHaveLength(1);
    const x = audio.channels[0];
    // Without the tag the encoder delay stays in: whole frames of 1152 samples.
    expect(x.length % 1152).toBe(0);
    expect(x.length).toBeGreaterThanOrEqual(0.2 * 44100);
    // Source downmixed by sox: (440 Hz at 0.5 + 1 kHz at 0.25) / 2. Find the delay, then compare.
    const ref = new Float32Array(8820);
    for (let i = 0; i < ref.length; i++) {
      ref[i] = (0.5 * Math.sin((2 * Math.PI * 440 * i) / 44100) + 0.25 * Math.sin((2 * Math.PI * 1000 * i) / 44100)) / 2;
    }
    let bestLag = 0;
    let bestSnr = -Infinity;
    for (let lag = 0; lag < 2400; lag++) {
      const s = snrDb(x.subarray(lag), ref, 500, 8000);
      if (s > bestSnr) [bestSnr, bestLag] = [s, lag];
    }
    expect(bestSnr).toBeGreaterThan(20);
    expect(bestLag).toBeGreaterThan(500); // the encoder delay really is there
  });

  it('Ogg Vorbis: sample-aligned, both channels', async () => {
    const audio = await decodeAudio(fixture('sine.ogg'));
    expect(audio.sampleRateHz).toBe(22050);
    expect(audio.channels).toHaveLength(2);
    expect(audio.channels[0].length).toBe(SOURCE_FRAMES);
    for (const c of [0, 1] as const) {
      expect(snrDb(audio.channels[c], sourceFloat(c), 200, SOURCE_FRAMES - 200)).toBeGreaterThan(20);
    }
  });
});

describe('decodeAudio: six channels come out in WAV order (FL FR FC LFE BL BR)', () => {
  const tones = [300, 500, 700, 100, 1100, 1300];
  for (const name of ['surround-6ch.flac', 'surround-6ch.ogg']) {
    it(name, async () => {
      const audio = await decodeAudio(fixture(name));
      expect(audio.sampleRateHz).toBe(16000);
      expect(audio.channels.map((ch) => dominantTone(ch, 16000, tones))).toEqual(tones);
    });
  }
});

describe('decodeAudio: other inputs that must work', () => {
  it('decodes silence without error (the pipeline warns, decoding does not fail)', async () => {
    const audio = await decodeAudio(fixture('silence.flac'), { fileName: 'silence.flac' });
    expect(audio.channels).toHaveLength(2);
    expect(audio.channels[0].length).toBe(11025);
    expect(peakDbfs(audio)).toBeLessThan(-80); // sox dithers its silence to +-1 LSB
    expect(isSilent(audio)).toBe(true);
  });

  it('detects the format from the bytes, not the file name', async () => {
    const audio = await decodeAudio(fixture('sine-s16.flac'), { fileName: 'song.mp3' });
    expect(audio.channels[0]).toEqual(sourceFloat(0));
  });

  it('reads WAV with an ID3 tag before it and chunks between fmt and data', async () => {
    const wav = fixture('sine-s16.wav');
    // Insert a LIST chunk (odd size, so with a pad byte) after fmt: RIFF header 12 + fmt 8+16.
    const list = new Uint8Array([...'LIST'].map((c) => c.charCodeAt(0)).concat([3, 0, 0, 0, 1, 2, 3, 0]));
    const withList = new Uint8Array(wav.length + list.length);
    withList.set(wav.subarray(0, 36));
    withList.set(list, 36);
    withList.set(wav.subarray(36), 36 + list.length);
    new DataView(withList.buffer).setUint32(4, withList.length - 8, true);
    // A 20-byte ID3v2 tag (10-byte header, size 10 as a syncsafe integer) in front.
    const id3 = new Uint8Array(20);
    id3.set([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 10]);
    const tagged = new Uint8Array(id3.length + withList.length);
    tagged.set(id3);
    tagged.set(withList, id3.length);
    const audio = await decodeAudio(tagged);
    expect(audio.channels[1]).toEqual(sourceFloat(1));
  });

  it('skips ID3v2 tags before MP3 and FLAC, and junk before the first MP3 frame', async () => {
    const id3 = new Uint8Array(30);
    id3.set([0x49, 0x44, 0x33, 3, 0, 0, 0, 0, 0, 20]); // ID3v2.3, 20-byte body
    const prefixed = (prefix: Uint8Array, file: Uint8Array): Uint8Array => {
      const out = new Uint8Array(prefix.length + file.length);
      out.set(prefix);
      out.set(file, prefix.length);
      return out;
    };
    const mp3 = await decodeAudio(fixture('sine-22k.mp3'));
    const taggedMp3 = await decodeAudio(prefixed(id3, fixture('sine-22k.mp3')));
    expect(taggedMp3.channels[0]).toEqual(mp3.channels[0]);
    const junk = new Uint8Array(1000).fill(0x20);
    const junkMp3 = await decodeAudio(prefixed(junk, fixture('sine-44k-mono-notag.mp3')));
    expect(junkMp3.channels[0]).toEqual((await decodeAudio(fixture('sine-44k-mono-notag.mp3'))).channels[0]);
    const taggedFlac = await decodeAudio(prefixed(id3, fixture('sine-s16.flac')));
    expect(taggedFlac.channels[1]).toEqual(sourceFloat(1));
  });

  it('reads a streamed WAV whose sizes are placeholders, using the bytes present', async () => {
    const wav = fixture('sine-s16.wav').slice();
    const v = new DataView(wav.buffer);
    v.setUint32(4, 0xffffffff, true);
    v.setUint32(40, 0xffffffff, true); // data chunk size (data header at 36 in this file)
    expect(String.fromCharCode(...wav.subarray(36, 40))).toBe('data');
    const audio = await decodeAudio(wav);
    expect(audio.channels[0]).toEqual(sourceFloat(0));
  });

  it('reads RF64 (64-bit sizes in a ds64 chunk) and checks its size like WAV', async () => {
    const wav = fixture('sine-s16.wav'); // RIFF(12) fmt(8+16) data(8) samples
    const samples = wav.subarray(44);
    const rf64 = new Uint8Array(12 + 36 + 24 + 8 + samples.length);
    const v = new DataView(rf64.buffer);
    const put = (at: number, s4: string): void => rf64.set(Uint8Array.from(s4, (c) => c.charCodeAt(0)), at);
    put(0, 'RF64');
    v.setUint32(4, 0xffffffff, true);
    put(8, 'WAVE');
    put(12, 'ds64');
    v.setUint32(16, 28, true);
    v.setBigUint64(20, BigInt(rf64.length - 8), true);
    v.setBigUint64(28, BigInt(samples.length), true);
    v.setBigUint64(36, BigInt(samples.length / 4), true);
    v.setUint32(44, 0, true);
    rf64.set(wav.subarray(12, 36), 48); // fmt chunk
    put(72, 'data');
    v.setUint32(76, 0xffffffff, true);
    rf64.set(samples, 80);
    const audio = await decodeAudio(rf64, { fileName: 'big.rf64' });
    expect(audio.channels[0]).toEqual(sourceFloat(0));
    await expect(decodeAudio(rf64.slice(0, 2000), { fileName: 'cut.rf64' })).rejects.toMatchObject({ code: 'TRUNCATED' });
  });

  it('round-trips float32 WAV exactly, including values outside [-1, 1]', async () => {
    const ch = Float32Array.from({ length: 1001 }, (_, i) => Math.sin(i * 0.37) * 1.7 + 1e-30 * i);
    const audio = { sampleRateHz: 48000, channels: [ch, ch.map((v) => -v / 3)] };
    const back = await decodeAudio(encodeWav(audio, { format: 'float32' }));
    expect(back.sampleRateHz).toBe(48000);
    expect(back.channels[0]).toEqual(audio.channels[0]);
    expect(back.channels[1]).toEqual(audio.channels[1]);
  });

  it('round-trips pcm16 WAV to within half a step, clipping out-of-range values', async () => {
    const src = sourceInt16(0);
    const audio = { sampleRateHz: 22050, channels: [Float32Array.from(src, (v) => v / 32768)] };
    const back = await decodeAudio(encodeWav(audio));
    expect(back.channels[0]).toEqual(audio.channels[0]); // 16-bit values survive exactly
    const loud = await decodeAudio(encodeWav({ sampleRateHz: 8000, channels: [new Float32Array([2, -2, 0.5])] }));
    expect(Array.from(loud.channels[0])).toEqual([32767 / 32768, -1, 0.5]);
  });
});

describe('probeAudio', () => {
  const cases: [string, string, number, number, number][] = [
    ['sine-s24.wav', 'wav', 22050, 2, 0.2],
    ['sine-s16.flac', 'flac', 22050, 2, 0.2],
    ['sine-22k.mp3', 'mp3', 22050, 2, 0.2],
    ['sine-44k-mono-notag.mp3', 'mp3', 44100, 1, (9 * 1152) / 44100],
    ['sine.ogg', 'ogg-vorbis', 22050, 2, 0.2],
    ['surround-6ch.ogg', 'ogg-vorbis', 16000, 6, 0.25],
  ];
  for (const [name, format, sampleRateHz, numChannels, durationSec] of cases) {
    it(`${name}: format, rate, channels and duration from the headers`, async () => {
      const p = await probeAudio(fixture(name), { fileName: name });
      expect(p.format).toBe(format);
      expect(p.sampleRateHz).toBe(sampleRateHz);
      expect(p.numChannels).toBe(numChannels);
      expect(p.durationSec).toBeCloseTo(durationSec, 6);
      const audio = await decodeAudio(fixture(name));
      expect(audio.channels[0].length / audio.sampleRateHz).toBeCloseTo(p.durationSec, 6);
    });
  }
});
