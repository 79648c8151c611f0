import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelError } from '../../src/errors.js';
import { modelPath } from '../../src/models/paths.js';
import {
  decodeNotes,
  decodePedal,
  decodingFor,
  dropHarmonicGhosts,
  frameCount,
  loadPianoManifest,
  LogMelExtractor,
  melFilterbank,
  MIN_PEDAL_SEC,
  noteSupport,
  PianoTranscriber,
  releaseEndFrame,
  type PianoPosteriors,
} from '../../src/transcription/piano.js';
import type { Note } from '../../src/types.js';
import { loadPianoParityClip } from '../helpers/pianoClip.js';

const FIXTURE = new URL('./fixtures/', import.meta.url);
/** The committed model scores 0.714 on this clip in Python (training/export.py); margin for the 44.1 kHz path. */
const MIN_CLIP_F1 = 0.5;

interface ParityFixture {
  sampleRateHz: number;
  frames: number;
  probeFrames: number[];
  mel: number[][];
  posteriors: Record<'onset' | 'offset' | 'frame' | 'velocity', number[][]> & { pedal?: number[][] };
  notes: { onsetSec: number; offsetSec: number; pitchMidi: number; velocity: number }[];
  /** The same posteriors decoded with the manifest's `solo` profile. */
  soloNotes: { onsetSec: number; offsetSec: number; pitchMidi: number; velocity: number }[];
  ghostCase: { onsetSec: number[]; pitchMidi: number[]; confidence: number[]; maxConfidence: number; ratio: number; kept: number[] };
  referenceNotes: { onsetSec: number; offsetSec: number; pitchMidi: number }[];
  /** Pedal spans decoded by training/decode.py (models with a pedal head). */
  pedal?: { onsetSec: number; offsetSec: number }[];
}

const fixture = JSON.parse(readFileSync(new URL('piano-parity.json', FIXTURE), 'utf8')) as ParityFixture;
const clip = loadPianoParityClip();

/** Onset-only note F1 with a 50 ms tolerance and one-to-one greedy matching (enough for a smoke check). */
function onsetF1(ref: { onsetSec: number; pitchMidi: number }[], est: { onsetSec: number; pitchMidi: number }[]): number {
  const used = new Set<number>();
  let hits = 0;
  for (const r of ref) {
    let best = -1;
    for (let j = 0; j < est.length; j++) {
      if (used.has(j) || est[j].pitchMidi !== r.pitchMidi) continue;
      const d = Math.abs(est[j].onsetSec - r.onsetSec);
      if (d <= 0.05 && (best < 0 || d < Math.abs(est[best].onsetSec - r.onsetSec))) best = j;
    }
    if (best >= 0) {
      used.add(best);
      hits++;
    }
  }
  return ref.length + est.length === 0 ? 1 : (2 * hits) / (ref.length + est.length);
}

function emptyPosteriors(frames: number, keys: number): PianoPosteriors {
  return {
    frames,
    keys,
    onset: new Float32Array(frames * keys),
    offset: new Float32Array(frames * keys),
    frame: new Float32Array(frames * keys),
    velocity: new Float32Array(frames * keys),
  };
}

const TH = { onset: 0.5, frame: 0.5, offset: 0.5 };

describe('decodeNotes', () => {
  it('turns an onset run and a frame run into one note with sub-frame onset and mean velocity', () => {
    const p = emptyPosteriors(20, 3);
    const set = (a: Float32Array, t: number, k: number, v: number): void => {
      a[t * 3 + k] = v;
    };
    set(p.onset, 4, 1, 0.6);
    set(p.onset, 5, 1, 0.9);
    set(p.onset, 6, 1, 0.3);
    set(p.velocity, 5, 1, 0.5);
    for (let t = 4; t < 12; t++) set(p.frame, t, 1, 0.8);
    const notes = decodeNotes(p, 0.02, TH, 21);
    expect(notes).toHaveLength(1);
    const [n] = notes;
    expect(n.pitchMidi).toBe(22);
    // parabola through 0.6, 0.9, 0.3 peaks before frame 5: delta = 0.5 * (0.6 - 0.3) / (0.6 - 1.8 + 0.3) = -1/6
    expect(n.onsetSec).toBeCloseTo((5 - 1 / 6) * 0.02, 9);
    expect(n.offsetSec).toBeCloseTo(12 * 0.02, 9);
    expect(n.velocity).toBe(Math.round(((0 + 0.5) / 2) * 127));
    expect(n.confidence).toBeCloseTo(0.9, 6);
  });

  it('lengthens short notes to minDurationSec, never past the next note of their key', () => {
    const p = emptyPosteriors(40, 2);
    // Key 0: strikes at frames 2 and 5, each with one frame of key-down; key 1: one at frame 20.
    for (const [t, k] of [[2, 0], [5, 0], [20, 1]]) {
      p.onset[t * 2 + k] = 0.9;
      p.frame[(t + 1) * 2 + k] = 0.9;
    }
    const plain = decodeNotes(p, 0.02, TH, 60);
    expect(plain.map((n) => +(n.offsetSec - n.onsetSec).toFixed(6))).toEqual([0.04, 0.04, 0.04]);
    const notes = decodeNotes(p, 0.02, { ...TH, minDurationSec: 0.1 }, 60);
    expect(notes.map((n) => [n.onsetSec, +n.offsetSec.toFixed(6), n.pitchMidi])).toEqual([
      [0.04, 0.1, 60], // up to the key's next strike at 0.1 s, not 0.14
      [0.1, 0.2, 60],
      [0.4, 0.5, 61],
    ]);
  });

  it('splits repeated strikes of a key and stops at a confident offset', () => {
    const p = emptyPosteriors(30, 1);
    for (let t = 0; t < 30; t++) p.frame[t] = 0.9;
    p.onset[2] = 0.8;
    p.onset[10] = 0.8;
    p.offset[20] = 0.7;
    const notes = decodeNotes(p, 0.02, TH, 60);
    expect(notes.map((n) => [n.onsetSec, n.offsetSec])).toEqual([
      [0.04, 0.2],
      [0.2, 0.4],
    ]);
  });

  it('gives no notes for silence', () => {
    expect(decodeNotes(emptyPosteriors(100, 88), 0.02, TH, 21)).toEqual([]);
  });

  it('with releaseFallFrames, ends a fading note at its sudden fall, not where it crosses the frame threshold', () => {
    // A held note: attack at frame 2, a slow fade 0.9 -> 0.7 until frame 30, then the damper
    // (0.7 -> 0.15 over frames 30..33), then a tail that lingers above the 0.1 floor until 40.
    const p = emptyPosteriors(50, 1);
    p.onset[2] = 0.9;
    for (let t = 2; t < 30; t++) p.frame[t] = 0.9 - (0.2 * (t - 2)) / 28;
    const fall = [0.7, 0.5, 0.3, 0.15];
    for (let i = 0; i < 4; i++) p.frame[30 + i] = fall[i];
    for (let t = 34; t < 40; t++) p.frame[t] = 0.12;
    const th = { onset: 0.5, frame: 0.1, offset: 1.01 };
    const [fixedLevel] = decodeNotes(p, 0.02, th, 60);
    expect(fixedLevel.offsetSec).toBeCloseTo(40 * 0.02, 9); // runs on through the tail
    const [released] = decodeNotes(p, 0.02, { ...th, releaseFallFrames: 3 }, 60);
    // Steepest 3-frame fall: frames 30 -> 33 (0.7 -> 0.15); the note keeps frames up to 31, the middle.
    expect(released.offsetSec).toBeCloseTo(32 * 0.02, 9);
    expect(released.onsetSec).toBeCloseTo(fixedLevel.onsetSec, 12);
  });

  it('with support, an onset that no key-down follows starts no note but still ends the previous one', () => {
    const p = emptyPosteriors(40, 1);
    // A held note from frame 2, a ghost onset at frame 15 over a collapsed frame posterior, a real
    // re-strike at frame 30.
    p.onset[2] = 0.9;
    for (let t = 2; t < 15; t++) p.frame[t] = 0.8;
    p.onset[15] = 0.9;
    for (let t = 15; t < 19; t++) p.frame[t] = 0.1;
    p.onset[30] = 0.9;
    for (let t = 30; t < 38; t++) p.frame[t] = 0.8;
    const th = { onset: 0.5, frame: 0.05, offset: 1.01 };
    expect(decodeNotes(p, 0.02, th, 60).map((n) => n.onsetSec)).toEqual([0.04, 0.3, 0.6]);
    const kept = decodeNotes(p, 0.02, { ...th, support: 0.3, supportFrames: 4 }, 60);
    expect(kept.map((n) => [n.onsetSec, n.offsetSec])).toEqual([
      [0.04, 0.3],
      [0.6, 0.76],
    ]);
  });

  it('noteSupport averages the frames from the peak on, fewer at the end', () => {
    const frame = Float32Array.from([0, 1, 0.5, 0.25]);
    expect(noteSupport(frame, 1, 4, 0, 1, 2)).toBeCloseTo(0.75, 6);
    expect(noteSupport(frame, 1, 4, 0, 3, 4)).toBeCloseTo(0.25, 6);
  });

  it('releaseEndFrame leaves notes too short to hold a fall as they are', () => {
    const frame = Float32Array.from([0.9, 0.8, 0.1]);
    expect(releaseEndFrame(frame, 1, 0, 0, 3, 3)).toBe(3);
    expect(releaseEndFrame(frame, 1, 0, 0, 3, 0)).toBe(3);
    // Two frames are enough for a one-frame fall: frames 1 -> 2 fall most, so the note ends after frame 1.
    expect(releaseEndFrame(frame, 1, 0, 0, 3, 1)).toBe(2);
  });
});

describe('dropHarmonicGhosts', () => {
  const n = (onsetSec: number, pitchMidi: number, confidence: number): Note => ({ onsetSec, offsetSec: onsetSec + 0.5, pitchMidi, velocity: 64, confidence });

  it('drops a weak note an octave or a twelfth from a stronger one that starts with it', () => {
    const notes = [n(1.0, 48, 0.9), n(1.01, 60, 0.3), n(1.02, 67, 0.35), n(1.0, 36, 0.2)];
    expect(dropHarmonicGhosts(notes, 0.5, 0.7).map((x) => x.pitchMidi)).toEqual([48]);
  });

  it('keeps a played octave (both confident), a weak note not much weaker than its partner, and other intervals', () => {
    expect(dropHarmonicGhosts([n(1.0, 48, 0.9), n(1.0, 60, 0.6)], 0.5, 0.7)).toHaveLength(2);
    expect(dropHarmonicGhosts([n(1.0, 48, 0.4), n(1.0, 60, 0.3)], 0.5, 0.7)).toHaveLength(2); // 0.4 x 0.7 < 0.3
    expect(dropHarmonicGhosts([n(1.0, 48, 0.9), n(1.0, 55, 0.2), n(1.0, 52, 0.2)], 0.5, 0.7)).toHaveLength(3);
  });

  it('keeps notes that start more than GHOST_WINDOW_SEC apart', () => {
    expect(dropHarmonicGhosts([n(1.0, 48, 0.9), n(1.031, 60, 0.2)], 0.5, 0.7)).toHaveLength(2);
    expect(dropHarmonicGhosts([n(1.0, 48, 0.9), n(1.029, 60, 0.2)], 0.5, 0.7)).toHaveLength(1);
  });

  it('keeps what training/decode.py keeps on the random notes of the fixture', () => {
    const g = fixture.ghostCase;
    const notes = g.onsetSec.map((t, i) => n(t, g.pitchMidi[i], g.confidence[i]));
    const kept = new Set(dropHarmonicGhosts(notes, g.maxConfidence, g.ratio));
    expect(notes.flatMap((x, i) => (kept.has(x) ? [i] : []))).toEqual(g.kept);
    expect(g.kept.length).toBeLessThan(notes.length);
  });
});

describe('decodePedal', () => {
  const frameSec = 0.02;
  const of = (values: number[]): Float32Array => Float32Array.from(values);

  it('gives one span per run at or above threshold, in frame times', () => {
    const pedal = of([0, 0, ...Array<number>(10).fill(0.9), 0, 0, 0, 0, 0, 0, ...Array<number>(8).fill(0.6), 0.1]);
    expect(decodePedal(pedal, frameSec, 0.5)).toEqual([
      { onsetSec: 2 * frameSec, offsetSec: 12 * frameSec },
      { onsetSec: 18 * frameSec, offsetSec: 26 * frameSec },
    ]);
  });

  it('bridges a re-pedal gap shorter than MIN_PEDAL_SEC and drops blips shorter than it', () => {
    const gap = Math.floor(MIN_PEDAL_SEC / frameSec) - 1;
    const pedal = of([...Array<number>(10).fill(1), ...Array<number>(gap).fill(0), ...Array<number>(10).fill(1), 0, 0, 0, 0, 0, 0, 0, 1, 0]);
    expect(decodePedal(pedal, frameSec, 0.5)).toEqual([{ onsetSec: 0, offsetSec: (20 + gap) * frameSec }]);
  });

  it('keeps a span that runs to the last frame and gives none for silence', () => {
    expect(decodePedal(of([0, 0, 0, 1, 1, 1, 1, 1, 1]), frameSec, 0.5)).toEqual([{ onsetSec: 3 * frameSec, offsetSec: 9 * frameSec }]);
    expect(decodePedal(of(Array<number>(50).fill(0.2)), frameSec, 0.5)).toEqual([]);
    expect(decodePedal(of([]), frameSec, 0.5)).toEqual([]);
  });
});

describe('log-mel front end (parity with training/features.py)', () => {
  const manifest = loadPianoManifest(modelPath('piano'));

  it('has triangular Slaney bands inside the FFT range', () => {
    const bank = melFilterbank(manifest.features);
    expect(bank.weights).toHaveLength(manifest.features.melBins);
    const nBins = manifest.features.fftSize / 2 + 1;
    for (let m = 0; m < bank.weights.length; m++) expect(bank.firstBin[m] + bank.weights[m].length).toBeLessThanOrEqual(nBins);
  });

  it('reproduces the Python log-mel of the fixture clip', () => {
    expect(frameCount(clip.length, manifest.features.hopSamples)).toBe(fixture.frames);
    const ex = new LogMelExtractor(manifest.features);
    let maxErr = 0;
    fixture.probeFrames.forEach((t, i) => {
      const row = ex.frames(clip, t, t + 1);
      for (let m = 0; m < row.length; m++) maxErr = Math.max(maxErr, Math.abs(row[m] - fixture.mel[i][m]));
    });
    expect(maxErr).toBeLessThan(2e-3);
  });
});

describe('PianoTranscriber', () => {
  let tr: PianoTranscriber;
  beforeAll(async () => {
    tr = await PianoTranscriber.create({ intraOpNumThreads: 1 });
  });
  afterAll(async () => {
    await tr?.dispose();
  });

  it('gives the Python reference posteriors on the fixture clip', async () => {
    const post = await tr.posteriors(clip);
    expect(post.frames).toBe(fixture.frames);
    let maxErr = 0;
    for (const key of ['onset', 'offset', 'frame', 'velocity'] as const) {
      fixture.probeFrames.forEach((t, i) => {
        for (let k = 0; k < post.keys; k++) maxErr = Math.max(maxErr, Math.abs(post[key][t * post.keys + k] - fixture.posteriors[key][i][k]));
      });
    }
    // The pedal head ([frames, 1]) comes with the fixture of a model that has one.
    expect(post.pedal === undefined).toBe(fixture.posteriors.pedal === undefined);
    fixture.probeFrames.forEach((t, i) => {
      if (post.pedal && fixture.posteriors.pedal) maxErr = Math.max(maxErr, Math.abs(post.pedal[t] - fixture.posteriors.pedal[i][0]));
    });
    expect(maxErr).toBeLessThan(2e-3);
  });

  it('decodes the same notes as the Python reference', async () => {
    const { notes, pedal } = await tr.transcribe({ sampleRateHz: fixture.sampleRateHz, channels: [clip] });
    expect(notes.map((n) => n.pitchMidi)).toEqual(fixture.notes.map((n) => n.pitchMidi));
    expect(pedal?.length).toBe(fixture.pedal?.length);
    (pedal ?? []).forEach((span, i) => {
      expect(Math.abs(span.onsetSec - (fixture.pedal?.[i]?.onsetSec ?? NaN))).toBeLessThan(0.021);
      expect(Math.abs(span.offsetSec - (fixture.pedal?.[i]?.offsetSec ?? NaN))).toBeLessThan(0.021);
    });
    notes.forEach((n, i) => {
      expect(Math.abs(n.onsetSec - fixture.notes[i].onsetSec)).toBeLessThan(2e-3);
      expect(Math.abs(n.offsetSec - fixture.notes[i].offsetSec)).toBeLessThan(0.021);
      expect(Math.abs(n.velocity - fixture.notes[i].velocity)).toBeLessThanOrEqual(1);
    });
  });

  it('holds the notes released under the pedal unless asked to keep the ends it heard', async () => {
    const audio = { sampleRateHz: fixture.sampleRateHz, channels: [clip] };
    const held = await tr.transcribe(audio);
    const heard = await tr.transcribe(audio, { holdUnderPedal: false });
    expect(loadPianoManifest(modelPath('piano')).thresholds.pedalHoldSec).toBeGreaterThan(0);
    expect(heard.notes.map((n) => [n.onsetSec, n.pitchMidi])).toEqual(held.notes.map((n) => [n.onsetSec, n.pitchMidi]));
    const longer = held.notes.filter((n, i) => n.offsetSec > heard.notes[i].offsetSec);
    expect(longer.length).toBeGreaterThan(0);
    for (const n of longer) expect(held.pedal?.some((p) => p.onsetSec <= n.offsetSec && n.offsetSec <= p.offsetSec)).toBe(true);
    held.notes.forEach((n, i) => expect(n.offsetSec).toBeGreaterThanOrEqual(heard.notes[i].offsetSec));
  });

  it('decodes a solo recording with the solo profile, as the Python reference does', async () => {
    const manifest = loadPianoManifest(modelPath('piano'));
    expect(decodingFor(manifest, 'solo')).toEqual(manifest.solo?.thresholds ?? manifest.thresholds);
    expect(decodingFor(manifest)).toBe(manifest.thresholds);
    const { notes } = await tr.transcribe({ sampleRateHz: fixture.sampleRateHz, channels: [clip] }, { source: 'solo' });
    expect(notes.map((n) => n.pitchMidi)).toEqual(fixture.soloNotes.map((n) => n.pitchMidi));
    notes.forEach((n, i) => {
      expect(Math.abs(n.onsetSec - fixture.soloNotes[i].onsetSec)).toBeLessThan(2e-3);
      expect(Math.abs(n.offsetSec - fixture.soloNotes[i].offsetSec)).toBeLessThan(0.021);
    });
  });

  it('transcribes a rendered clip in a held-out timbre (stereo 44.1 kHz input) close to its score', async () => {
    // Upsample the 16 kHz fixture to 44.1 kHz stereo by linear interpolation: exercises the
    // downmix and resampling path; the content stays below 8 kHz.
    const ratio = 44100 / 16000;
    const n = Math.floor(clip.length * ratio);
    const up = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const x = i / ratio;
      const j = Math.floor(x);
      up[i] = j + 1 < clip.length ? clip[j] + (x - j) * (clip[j + 1] - clip[j]) : clip[clip.length - 1];
    }
    const progress: number[] = [];
    const { notes } = await tr.transcribe({ sampleRateHz: 44100, channels: [up, up] }, { onProgress: (f) => progress.push(f) });
    expect(notes.length).toBeGreaterThan(0);
    for (const note of notes as Note[]) {
      expect(note.offsetSec).toBeGreaterThan(note.onsetSec);
      expect(note.velocity).toBeGreaterThanOrEqual(1);
      expect(note.velocity).toBeLessThanOrEqual(127);
    }
    expect(onsetF1(fixture.referenceNotes, notes)).toBeGreaterThan(MIN_CLIP_F1);
    expect(progress.at(-1)).toBe(1);
  });

  it('gives no notes for digital silence and handles an empty signal', async () => {
    expect((await tr.transcribe({ sampleRateHz: 16000, channels: [new Float32Array(16000 * 3)] })).notes).toEqual([]);
    expect((await tr.transcribe({ sampleRateHz: 16000, channels: [new Float32Array(0)] })).notes).toEqual([]);
  });

  it('stitches chunk cores in the right places (context covering the clip gives the unchunked posteriors)', async () => {
    const whole = await tr.posteriors(clip);
    // 151 frames: with 160 frames of context every chunk sees the whole clip, so any difference is
    // a stitching (offset) error, not the seam effect of a shorter context.
    const chunked = await tr.posteriors(clip, undefined, { chunkFrames: 37, contextFrames: 160 });
    let maxErr = 0;
    for (const key of ['onset', 'offset', 'frame', 'velocity', 'pedal'] as const) {
      const a = whole[key] ?? new Float32Array(0);
      const b = chunked[key] ?? new Float32Array(0);
      expect(b.length).toBe(a.length);
      for (let i = 0; i < a.length; i++) maxErr = Math.max(maxErr, Math.abs(a[i] - b[i]));
    }
    expect(maxErr).toBeLessThan(1e-5);
  });
});

describe('model files', () => {
  it('fails with a ModelError naming the folder when the model is missing', async () => {
    const missing = fileURLToPath(new URL('./no-such-model-dir/', FIXTURE));
    expect(existsSync(missing)).toBe(false);
    await expect(PianoTranscriber.create({ modelDir: missing })).rejects.toThrow(ModelError);
    await expect(PianoTranscriber.create({ modelDir: missing })).rejects.toThrow(/no-such-model-dir/);
  });
});
