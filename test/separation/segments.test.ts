import { describe, expect, it } from 'vitest';
import { applyInSegments, OverlapAdd, planSegments, readWindow, transitionWeights, type SegmentModel } from '../../src/separation/segments.js';
import { seededNoise } from '../helpers/noise.js';

describe('planSegments', () => {
  it.each([
    [1, 100],
    [99, 100],
    [100, 100],
    [101, 100],
    [1000, 100],
    [1037, 64],
    [5, 7],
  ])('covers every one of %i samples exactly once per contribution window (segment %i)', (total, segment) => {
    const plan = planSegments(total, segment, 0.25);
    const covered = new Uint8Array(total);
    for (const seg of plan) {
      expect(seg.lengthSamples).toBeGreaterThan(0);
      expect(seg.lengthSamples).toBeLessThanOrEqual(segment);
      // The contributed part sits inside the model window at trimStartSample.
      expect(seg.contextStartSample + seg.trimStartSample).toBe(seg.offsetSample);
      expect(seg.trimStartSample + seg.lengthSamples).toBeLessThanOrEqual(segment);
      for (let t = seg.offsetSample; t < seg.offsetSample + seg.lengthSamples; t++) covered[t] = 1;
    }
    expect(covered.every((c) => c === 1)).toBe(true);
    expect(plan.at(-1)!.offsetSample + plan.at(-1)!.lengthSamples).toBe(total);
  });

  it('uses demucs offsets: range(0, length, floor(0.75 * segment))', () => {
    expect(planSegments(1000, 100, 0.25).map((s) => s.offsetSample)).toEqual(Array.from({ length: 14 }, (_, k) => k * 75));
    expect(planSegments(0, 100, 0.25)).toEqual([]);
  });

  it('centres a short last segment in its window like TensorChunk.padded', () => {
    const plan = planSegments(130, 100, 0.25);
    expect(plan[1]).toEqual({ offsetSample: 75, lengthSamples: 55, trimStartSample: 22, contextStartSample: 53 });
  });

  it('rejects nonsense parameters', () => {
    expect(() => planSegments(10, 1, 0.25)).toThrow(RangeError);
    expect(() => planSegments(10, 10, 1)).toThrow(RangeError);
  });
});

describe('transitionWeights', () => {
  it('is demucs\' triangle 1..n/2, n-n/2..1 scaled to a peak of 1', () => {
    expect(transitionWeights(6)).toEqual(Float32Array.from([1, 2, 3, 3, 2, 1], (v) => v / 3));
    expect(transitionWeights(5)).toEqual(Float32Array.from([1, 2, 3, 2, 1], (v) => v / 3));
    const w = transitionWeights(7, 2);
    expect(w[3]).toBe(1);
    expect(w[0]).toBeCloseTo(1 / 16, 7);
  });
});

describe('readWindow', () => {
  it('zero-pads outside the song and normalises inside it', () => {
    const x = Float32Array.from([1, 2, 3]);
    expect(Array.from(readWindow([x], -2, 7, 1, 2)[0])).toEqual([0, 0, 0, 0.5, 1, 0, 0]);
  });
});

describe('OverlapAdd', () => {
  it('normalised weights sum to 1 at every sample: a model returning 1 gives back exactly 1', () => {
    const total = 1037;
    const plan = planSegments(total, 64, 0.25);
    const out = new Float32Array(total);
    const ola = new OverlapAdd([out], plan, transitionWeights(64));
    plan.forEach((_, k) => ola.add(k, [new Float32Array(64).fill(1)]));
    expect(ola.done).toBe(true);
    for (let t = 0; t < total; t++) expect(out[t]).toBeCloseTo(1, 6);
  });

  it('refuses segments out of order', () => {
    const plan = planSegments(200, 64, 0.25);
    const ola = new OverlapAdd([new Float32Array(200)], plan, transitionWeights(64));
    expect(() => ola.add(1, [new Float32Array(64)])).toThrow(/expected segment 0/);
  });
});

describe('applyInSegments', () => {
  const identity: SegmentModel = async (window) => [window.map((c) => c.slice()), window.map((c) => c.map((v) => -2 * v))];

  it.each([
    [1, 0.25],
    [50, 0.25],
    [64, 0.25],
    [1000, 0.25],
    [1000, 0],
    [1000, 0.5],
  ])('a linear identity model gives back the input (%i samples, overlap %f)', async (total, overlap) => {
    const mix = [seededNoise(1, total, 0.5), seededNoise(2, total, 0.5)];
    const fractions: number[] = [];
    const [same, scaled] = await applyInSegments(mix, identity, {
      segmentSamples: 64,
      overlap,
      sourceCount: 2,
      onProgress: (f) => fractions.push(f),
    });
    for (let c = 0; c < 2; c++) {
      for (let t = 0; t < total; t++) {
        expect(same[c][t]).toBeCloseTo(mix[c][t], 6);
        expect(scaled[c][t]).toBeCloseTo(-2 * mix[c][t], 6);
      }
    }
    expect(fractions[0]).toBe(0);
    expect(fractions.at(-1)).toBe(1);
    expect([...fractions].sort((a, b) => a - b)).toEqual(fractions);
  });

  it('undoes the input normalisation on the outputs', async () => {
    const mix = [seededNoise(3, 300, 0.5)];
    let seenMax = 0;
    const spy: SegmentModel = async (w) => {
      for (const v of w[0]) seenMax = Math.max(seenMax, Math.abs(v));
      return [[w[0].slice()]];
    };
    const [[out]] = await applyInSegments(mix, spy, { segmentSamples: 64, overlap: 0.25, sourceCount: 1, shift: 0.5, scale: 0.25 });
    for (let t = 0; t < 300; t++) expect(out[t]).toBeCloseTo(mix[0][t], 5);
    expect(seenMax).toBeGreaterThan(3); // (x - 0.5) / 0.25 reaches |4| for x near -0.5
  });

  it('uses the right window for each position: a model that reads absolute context', async () => {
    // The model outputs, at each window sample, the window sample two steps later (or 0 past the
    // window). Correct trimming makes out[t] = x[t + 2] except where the window edge cuts it.
    const total = 500;
    const x = Float32Array.from({ length: total }, (_, i) => i + 1);
    const lookahead: SegmentModel = async ([w]) => [[w.map((_, i) => (i + 2 < w.length ? w[i + 2] : 0))]];
    const [[out]] = await applyInSegments([x], lookahead, { segmentSamples: 64, overlap: 0.25, sourceCount: 1 });
    const plan = planSegments(total, 64, 0.25);
    // Samples whose every covering window has two samples of lookahead inside it.
    for (let t = 0; t < total - 2; t++) {
      const safe = plan.every((s) => t < s.offsetSample || t >= s.offsetSample + s.lengthSamples || t - s.contextStartSample + 2 < 64);
      if (safe) expect(out[t]).toBeCloseTo(t + 3, 3);
    }
  });

  it('rejects a model that returns the wrong shape', async () => {
    const bad: SegmentModel = async (w) => [w];
    await expect(applyInSegments([seededNoise(4, 100, 0.5)], bad, { segmentSamples: 64, overlap: 0.25, sourceCount: 2 })).rejects.toThrow(/sources/);
  });
});
