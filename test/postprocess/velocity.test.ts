import { describe, expect, it } from 'vitest';
import { shapeVelocities } from '../../src/postprocess/velocity.js';
import { note } from './helpers.js';

const notes = [10, 30, 50, 70, 90, 110, 127, 200].map((v, i) => note(i, 60, 0.2, v));
const opts = { compressRatio: 0.5, normalizeLow: 40, normalizeHigh: 110 };

describe('shapeVelocities', () => {
  it('model: keeps velocities, clamped to 1..127', () => {
    expect(shapeVelocities(notes, { mode: 'model', ...opts }).map((n) => n.velocity)).toEqual([10, 30, 50, 70, 90, 110, 127, 127]);
  });

  it('compress: halves each distance from the median', () => {
    const out = shapeVelocities(notes.slice(0, 7), { mode: 'compress', ...opts }).map((n) => n.velocity);
    expect(out).toEqual([40, 50, 60, 70, 80, 90, 99]);
  });

  it('normalize: maps the 5th..95th percentiles onto the target range', () => {
    const quiet = [20, 22, 24, 26, 28, 30].map((v, i) => note(i, 60, 0.2, v));
    const out = shapeVelocities(quiet, { mode: 'normalize', ...opts }).map((n) => n.velocity);
    expect(Math.min(...out)).toBeGreaterThanOrEqual(36);
    expect(Math.max(...out)).toBeLessThanOrEqual(114);
    expect(out[5] - out[0]).toBeGreaterThan(60);
    expect(shapeVelocities([note(0, 60, 0.2, 64), note(1, 60, 0.2, 64)], { mode: 'normalize', ...opts })[0].velocity).toBe(75);
  });
});
