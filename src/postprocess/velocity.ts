/**
 * Step 5: velocity. `model` keeps the transcriber's velocities (clamped to 1..127); `compress`
 * narrows the dynamic range around the median (ratio < 1, as an audio compressor does to levels);
 * `normalize` maps the 5th..95th percentile range linearly onto a target range, so a quiet
 * recording still produces MIDI that plays at a sensible loudness.
 */
import type { Note } from '../types.js';

export const VELOCITY_MODES = ['model', 'compress', 'normalize'] as const;
export type VelocityMode = (typeof VELOCITY_MODES)[number];

export interface VelocityOptions {
  mode: VelocityMode;
  /** `compress`: output deviation from the median = ratio x input deviation. */
  compressRatio: number;
  /** `normalize`: target velocities for the 5th and 95th percentiles. */
  normalizeLow: number;
  normalizeHigh: number;
}

export const DEFAULT_VELOCITY: VelocityOptions = { mode: 'model', compressRatio: 0.5, normalizeLow: 40, normalizeHigh: 110 };

const clampVelocity = (v: number): number => Math.min(127, Math.max(1, Math.round(v)));

function quantile(sorted: readonly number[], q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

export function shapeVelocities(notes: readonly Note[], options: VelocityOptions = DEFAULT_VELOCITY): Note[] {
  if (notes.length === 0) return [];
  const sorted = notes.map((n) => n.velocity).sort((a, b) => a - b);
  switch (options.mode) {
    case 'model':
      return notes.map((n) => ({ ...n, velocity: clampVelocity(n.velocity) }));
    case 'compress': {
      const median = quantile(sorted, 0.5);
      return notes.map((n) => ({ ...n, velocity: clampVelocity(median + options.compressRatio * (n.velocity - median)) }));
    }
    case 'normalize': {
      const lo = quantile(sorted, 0.05);
      const hi = quantile(sorted, 0.95);
      const mid = 0.5 * (options.normalizeLow + options.normalizeHigh);
      // A constant-velocity input has no range to stretch: put it in the middle of the target.
      if (hi - lo < 1e-9) return notes.map((n) => ({ ...n, velocity: clampVelocity(mid) }));
      const scale = (options.normalizeHigh - options.normalizeLow) / (hi - lo);
      return notes.map((n) => ({ ...n, velocity: clampVelocity(options.normalizeLow + (n.velocity - lo) * scale) }));
    }
  }
}
