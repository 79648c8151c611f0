import { describe, expect, it } from 'vitest';
import { dbnBeatFrames, decodeBeats, decodeDownbeats, tempoCurveFromPosterior, tempoIntervals, DEFAULT_BEAT_DBN } from '../../src/postprocess/beatsDbn.js';
import type { BeatActivations, TempoPosterior } from '../../src/postprocess/beatModel.js';
import { periodAt } from '../../src/postprocess/tempo.js';
import { rng } from './helpers.js';

/** Activation with peaks at `beatFrames`, weaker peaks half-way between (eighth notes), and noise. */
function activation(nbFrames: number, beatFrames: number[], offbeat = 0.35, seed = 1): Float32Array {
  const r = rng(seed);
  const a = new Float32Array(nbFrames);
  for (let f = 0; f < nbFrames; f++) a[f] = 0.02 + 0.05 * r();
  for (let k = 0; k < beatFrames.length; k++) {
    const f = beatFrames[k];
    a[f] = 0.8 + 0.15 * r();
    if (f > 0) a[f - 1] = Math.max(a[f - 1], 0.3);
    if (f + 1 < nbFrames) a[f + 1] = Math.max(a[f + 1], 0.3);
    if (k + 1 < beatFrames.length) a[Math.round((f + beatFrames[k + 1]) / 2)] = offbeat;
  }
  return a;
}

describe('dbnBeatFrames', () => {
  it('tempo states are distinct, ascending intervals covering the BPM range', () => {
    const iv = tempoIntervals(50, DEFAULT_BEAT_DBN);
    expect(iv[0]).toBe(10); // 300 BPM at 50 fps
    expect(iv[iv.length - 1]).toBe(100); // 30 BPM
    for (let i = 1; i < iv.length; i++) expect(iv[i]).toBeGreaterThan(iv[i - 1]);
  });

  it('follows the strong peaks at a steady tempo, not weak off-beat eighths', () => {
    const truth = Array.from({ length: 40 }, (_, k) => 20 + 30 * k);
    // Off-beats below 1/observationLambda; above it they are evidence of beats and double tempo wins.
    const frames = dbnBeatFrames(activation(1250, truth, 0.05), 50);
    const inner = frames.filter((f) => f >= 20 && f <= truth[truth.length - 1]);
    expect(inner).toEqual(truth);
  });

  it('keeps the tempo through missing beats (a rest) instead of halving it', () => {
    const truth = Array.from({ length: 40 }, (_, k) => 20 + 30 * k);
    const shown = truth.filter((_, k) => k < 15 || k > 19);
    const frames = dbnBeatFrames(activation(1250, shown), 50);
    for (const f of truth) expect(frames.some((g) => Math.abs(g - f) <= 1)).toBe(true);
  });

  it('follows a gradual ritardando', () => {
    const truth: number[] = [];
    let f = 20;
    for (let k = 0; k < 40; k++) {
      truth.push(Math.round(f));
      f += 25 + (15 * k) / 39;
    }
    const frames = dbnBeatFrames(activation(Math.round(f) + 30, truth), 50);
    for (const t of truth) expect(frames.some((g) => Math.abs(g - t) <= 1)).toBe(true);
  });
});

describe('decodeBeats and decodeDownbeats', () => {
  const truth = Array.from({ length: 36 }, (_, k) => 25 + 25 * k);
  const beat = activation(950, truth);
  const downbeat = new Float32Array(950).fill(0.02);
  truth.forEach((f, k) => {
    if (k % 3 === 1) downbeat[f] = 0.7; // 3/4 with one pickup beat
  });
  const act: BeatActivations = { fps: 50, beat, downbeat };

  it('gives beat times in seconds within the notes span', () => {
    const beats = decodeBeats(act, 0.5, 18);
    expect(beats).toHaveLength(truth.length);
    beats.forEach((b, k) => expect(Math.abs(b - truth[k] / 50)).toBeLessThan(0.011));
  });

  it('finds three beats per bar and the downbeat after the pickup', () => {
    const beats = decodeBeats(act, 0.5, 18);
    const meter = decodeDownbeats(act, beats);
    expect(meter.beatsPerBar).toBe(3);
    expect(meter.firstDownbeatIndex).toBe(1);
    expect(meter.downbeatsSec).toHaveLength(12);
  });
});

/** A tempo posterior over 20..340 BPM (64 log-spaced classes) peaked at `bpmAt(frame)`. */
function posterior(nbFrames: number, bpmAt: (f: number) => number): TempoPosterior {
  const K = 64;
  const bpm = Float32Array.from({ length: K }, (_, k) => 20 * 17 ** (k / (K - 1)));
  const probs = new Float32Array(nbFrames * K);
  for (let f = 0; f < nbFrames; f++) {
    let sum = 0;
    for (let k = 0; k < K; k++) sum += probs[f * K + k] = Math.exp(-0.5 * (Math.log2(bpm[k] / bpmAt(f)) / 0.1) ** 2) + 1e-3;
    for (let k = 0; k < K; k++) probs[f * K + k] /= sum;
  }
  return { bpm, probs };
}

describe('tempo posterior (tempo head)', () => {
  // Equal pulses at 200 BPM: as beats they are at 200 BPM, unless the tempo head says 100.
  const pulses = Array.from({ length: 60 }, (_, k) => 20 + 15 * k);
  const act = activation(940, pulses, 0.02);

  it('without it the DBN takes every pulse; with it, every other pulse (the notated level)', () => {
    const free = dbnBeatFrames(act, 50, { tempoPriorWeight: 0 }, posterior(940, () => 100));
    const inner = (fs: number[]) => fs.filter((f) => f >= 100 && f <= 800);
    expect(inner(free)).toEqual(pulses.filter((f) => f >= 100 && f <= 800));
    const guided = inner(dbnBeatFrames(act, 50, { tempoPriorWeight: 3 }, posterior(940, () => 100)));
    expect(guided.length).toBeGreaterThan(20);
    for (let k = 1; k < guided.length; k++) expect(guided[k] - guided[k - 1]).toBe(30);
    for (const f of guided) expect(pulses).toContain(f);
  });

  it('tempoCurveFromPosterior follows a tempo change and ignores a short octave blip', () => {
    const curve = tempoCurveFromPosterior(posterior(3000, (f) => (f > 1400 && f < 1420 ? 240 : f < 1500 ? 120 : 90)), 50);
    expect(periodAt(curve, 10)).toBeCloseTo(0.5, 1);
    expect(periodAt(curve, 28.2)).toBeCloseTo(0.5, 1);
    expect(periodAt(curve, 50)).toBeCloseTo(60 / 90, 1);
  });
});

describe('decodeDownbeats after a dropped beat', () => {
  // 4/4 bars; beats 21 and 33 are missing from the tracked beats, so two bars have 3.
  const all = Array.from({ length: 48 }, (_, k) => 0.5 + 0.5 * k);
  const beats = all.filter((_, k) => k !== 21 && k !== 33);
  const downbeat = new Float32Array(1300).fill(0.02);
  all.forEach((t, k) => {
    if (k % 4 === 0) downbeat[Math.round(t * 50)] = 0.8;
  });
  const act: BeatActivations = { fps: 50, beat: new Float32Array(1300), downbeat };

  it('restarts the bar at the next downbeat and keeps 4/4 as the meter', () => {
    const meter = decodeDownbeats(act, beats);
    expect(meter.beatsPerBar).toBe(4);
    expect(meter.downbeatsSec).toEqual(all.filter((_, k) => k % 4 === 0));
    // A nearly fixed meter (the old setting) keeps counting 4 and puts later bar lines off.
    expect(decodeDownbeats(act, beats, { meterChangeProb: 1e-4 }).downbeatsSec).not.toEqual(all.filter((_, k) => k % 4 === 0));
  });
});
