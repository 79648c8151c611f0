/** Signal levels in dB relative to full scale (1.0). All channels count; empty audio is -Infinity. */
import type { AudioData } from '../types.js';

const toDb = (amplitude: number): number => (amplitude > 0 ? 20 * Math.log10(amplitude) : -Infinity);

/** Largest absolute sample value over all channels, dBFS. */
export function peakDbfs(audio: AudioData): number {
  let peak = 0;
  for (const ch of audio.channels) {
    for (let i = 0; i < ch.length; i++) {
      const a = Math.abs(ch[i]);
      if (a > peak) peak = a;
    }
  }
  return toDb(peak);
}

/** Root-mean-square over all channels and samples, dBFS (a full-scale sine reads -3.01). */
export function rmsDbfs(audio: AudioData): number {
  let sum = 0;
  let n = 0;
  for (const ch of audio.channels) {
    for (let i = 0; i < ch.length; i++) sum += ch[i] * ch[i];
    n += ch.length;
  }
  return n === 0 ? -Infinity : toDb(Math.sqrt(sum / n));
}

/**
 * True when no sample reaches `thresholdDbfs`. Peak rather than RMS so that a mostly quiet file
 * with one audible passage still counts as audio; -60 dBFS sits far above 16-bit dither (-96 dBFS)
 * and far below any playable music.
 */
export function isSilent(audio: AudioData, thresholdDbfs = -60): boolean {
  return peakDbfs(audio) < thresholdDbfs;
}
