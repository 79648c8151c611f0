/**
 * The oracle ideal ratio mask (open-unmix's IRM1: magnitude ratios), the upper bound a
 * spectral-masking separator can reach when it knows the true sources: each source's share of
 * the summed source magnitudes, per channel and time-frequency bin, applied to the mix's complex
 * STFT. 44.1 kHz, n_fft 4096, hop 1024, as the separation benchmark reports it.
 */
import { istftStereo, stftStereo } from '../../src/separation/unmix.js';
import type { AudioData } from '../../src/types.js';

export const IRM_N_FFT = 4096;
export const IRM_HOP_SAMPLES = 1024;

/** One masked estimate per source, in the order given; `sources` must sum to (or make up) `mix`. */
export function idealRatioMask(sources: readonly AudioData[], mix: AudioData): AudioData[] {
  const n = mix.channels[0].length;
  const specs = sources.map((a) => stftStereo(a.channels[0], a.channels[1], IRM_N_FFT, IRM_HOP_SAMPLES));
  const mixSpec = stftStereo(mix.channels[0], mix.channels[1], IRM_N_FFT, IRM_HOP_SAMPLES);
  const size = mixSpec[0].re.length;
  return specs.map((own) => {
    const masked = ([0, 1] as const).map((c) => {
      const re = new Float32Array(size);
      const im = new Float32Array(size);
      for (let i = 0; i < size; i++) {
        let total = 0;
        for (const s of specs) total += Math.hypot(s[c].re[i], s[c].im[i]);
        const m = total > 0 ? Math.hypot(own[c].re[i], own[c].im[i]) / total : 0;
        re[i] = m * mixSpec[c].re[i];
        im[i] = m * mixSpec[c].im[i];
      }
      return { re, im };
    });
    return { sampleRateHz: mix.sampleRateHz, channels: istftStereo(masked[0], masked[1], IRM_N_FFT, IRM_HOP_SAMPLES, n) };
  });
}
