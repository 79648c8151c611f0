import { describe, expect, it } from 'vitest';
import { resample, resampleAudio, resampleEngine } from '../../src/audio/resample.js';
import { sine, snrDb } from './fixtures.js';

/** Resamples a 0.5-amplitude sine and compares with the ideal sine at the new rate, edges excluded. */
function passbandSnr(fromHz: number, toHz: number, freqHz: number, seconds = 0.5): number {
  const y = resample(sine(Math.round(fromHz * seconds), freqHz, fromHz), fromHz, toHz);
  const ref = sine(y.length, freqHz, toHz);
  const edge = Math.ceil(0.01 * toHz); // beyond the filter's half-length (about 3 ms)
  return snrDb(y, ref, edge, y.length - edge);
}

function levelDb(x: Float32Array, from: number, to: number): number {
  let e = 0;
  for (let i = from; i < to; i++) e += x[i] * x[i];
  return 10 * Math.log10(e / (to - from));
}

describe('resample: passband', () => {
  const cases: [number, number, number[]][] = [
    [44100, 22050, [100, 1000, 5000, 9500]],
    [44100, 16000, [440, 3000, 7000]],
    [16000, 22050, [440, 3000, 7000]],
    [48000, 44100, [1000, 12000, 19500]],
    [22050, 44100, [440, 9500]],
    [44100, 48000, [440, 19000]],
    [32000, 22050, [2000, 9000]],
    // 44100/44099 has no small ratio: the interpolated-kernel path.
    [44100, 44099, [1000, 19000]],
  ];
  for (const [fromHz, toHz, freqs] of cases) {
    for (const f of freqs) {
      it(`${fromHz} -> ${toHz} Hz, ${f} Hz sine: SNR > 80 dB`, () => {
        expect(passbandSnr(fromHz, toHz, f)).toBeGreaterThan(80);
      });
    }
  }

  it('keeps DC gain at 1 and the signal centred (no delay)', () => {
    const y = resample(new Float32Array(44100).fill(0.25), 44100, 16000);
    for (let i = 500; i < y.length - 500; i += 97) expect(Math.abs(y[i] - 0.25)).toBeLessThan(1e-5);
    // An impulse lands at its own time: sample 441 at 44.1 kHz is sample 160 at 16 kHz.
    const x = new Float32Array(4410);
    x[441] = 1;
    const z = resample(x, 44100, 16000);
    let argmax = 0;
    for (let i = 0; i < z.length; i++) if (z[i] > z[argmax]) argmax = i;
    expect(argmax).toBe(160);
  });
});

describe('resample: stop band (above the new Nyquist) is removed', () => {
  const cases: [number, number, number[]][] = [
    [44100, 22050, [11400, 13000, 20000]],
    [44100, 16000, [8300, 10000, 15000]],
    [48000, 44100, [22500, 23500]],
    [16000, 8000, [4200, 7000]],
  ];
  for (const [fromHz, toHz, freqs] of cases) {
    for (const f of freqs) {
      it(`${fromHz} -> ${toHz} Hz: a ${f} Hz sine comes out more than 80 dB down`, () => {
        const y = resample(sine(fromHz / 2, f, fromHz), fromHz, toHz);
        const edge = Math.ceil(0.01 * toHz);
        // Input level: 0.5-amplitude sine = -9.03 dBFS.
        expect(levelDb(y, edge, y.length - edge) - -9.03).toBeLessThan(-80);
      });
    }
  }

  it('upsampling leaves no images above the old Nyquist', () => {
    const y = resample(sine(22050, 9500, 22050), 22050, 44100);
    // The image of 9.5 kHz at 22.05 kHz would sit at 12.55 kHz: all but the tone itself is error.
    const ref = sine(y.length, 9500, 44100);
    const edge = 441;
    expect(snrDb(y, ref, edge, y.length - edge)).toBeGreaterThan(80);
  });
});

describe('resample: the WebAssembly SIMD kernel and the JavaScript fallback agree', () => {
  it('the SIMD kernel loads in this Node', () => {
    expect(resampleEngine()).toBe('wasm');
  });
  for (const [fromHz, toHz] of [[44100, 22050], [48000, 44100], [44100, 16000], [8000, 44100], [44100, 44099], [96000, 44101]]) {
    it(`${fromHz} -> ${toHz} Hz`, () => {
      // Longer than one kernel block (65536 outputs), with an odd length.
      const x = sine(Math.round(fromHz * 1.6) + 17, 1234, fromHz);
      const a = resample(x, fromHz, toHz, { engine: 'js' });
      const b = resample(x, fromHz, toHz, { engine: 'wasm' });
      expect(b.length).toBe(a.length);
      let maxDiff = 0;
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
      expect(maxDiff).toBeLessThan(1e-6); // float32 vs double accumulation
      expect(snrDb(a, sine(a.length, 1234, toHz), 500, a.length - 500)).toBeGreaterThan(80);
    });
  }
});

describe('resample: shapes and contracts', () => {
  it('output length is ceil(n * to / from)', () => {
    for (const [n, from, to] of [[44100, 44100, 22050], [1001, 44100, 22050], [999, 44100, 16000], [7, 16000, 22050], [1, 48000, 44100], [0, 44100, 22050]]) {
      expect(resample(new Float32Array(n), from, to).length).toBe(Math.ceil((n * to) / from));
    }
  });

  it('is the identity (a copy) when rates are equal', () => {
    const x = sine(1000, 440, 44100);
    const y = resample(x, 44100, 44100);
    expect(y).toEqual(x);
    expect(y).not.toBe(x);
    const audio = { sampleRateHz: 22050, channels: [x] };
    expect(resampleAudio(audio, 22050)).toBe(audio);
  });

  it('resampleAudio converts every channel', () => {
    const audio = { sampleRateHz: 44100, channels: [sine(4410, 440, 44100), sine(4410, 880, 44100, 0.25)] };
    const out = resampleAudio(audio, 22050);
    expect(out.sampleRateHz).toBe(22050);
    expect(out.channels).toHaveLength(2);
    expect(snrDb(out.channels[1], sine(2205, 880, 22050, 0.25), 300, 1900)).toBeGreaterThan(80);
  });

  it('rejects non-integer or non-positive rates', () => {
    expect(() => resample(new Float32Array(10), 44100, 0)).toThrow(RangeError);
    expect(() => resample(new Float32Array(10), 44100.5, 22050)).toThrow(RangeError);
  });
});
