/**
 * Deterministic pseudo-random samples uniform in [-peak, peak), from a 32-bit linear congruential
 * generator (Numerical Recipes' constants): the same signal on every machine and run.
 */
export function seededNoise(seed: number, n: number, peak = 1): Float32Array {
  let state = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[i] = (state / 2 ** 31 - 1) * peak;
  }
  return out;
}
