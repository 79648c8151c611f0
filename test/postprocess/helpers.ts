import type { Note } from '../../src/types.js';

export function note(onsetSec: number, pitchMidi: number, durSec = 0.2, velocity = 80, confidence = 0.9): Note {
  return { onsetSec, offsetSec: onsetSec + durSec, pitchMidi, velocity, confidence };
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
