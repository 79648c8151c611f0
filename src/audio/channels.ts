/**
 * Channel-count conversions. Multichannel input is assumed in WAV/SMPTE order (FL FR FC LFE BL BR
 * SL SR), which is what `decodeAudio` delivers for every format.
 */
import type { AudioData } from '../types.js';

/** Average of all channels. Mono input is returned as it is (AudioData is immutable by contract). */
export function downmixToMono(audio: AudioData): AudioData {
  const { channels } = audio;
  if (channels.length === 1) return audio;
  const n = channels[0]?.length ?? 0;
  const mono = new Float32Array(n);
  if (channels.length === 2) {
    const [l, r] = channels;
    for (let i = 0; i < n; i++) mono[i] = 0.5 * (l[i] + r[i]);
  } else {
    for (const ch of channels) for (let i = 0; i < n; i++) mono[i] += ch[i];
    const g = 1 / Math.max(1, channels.length);
    for (let i = 0; i < n; i++) mono[i] *= g;
  }
  return { sampleRateHz: audio.sampleRateHz, channels: [mono] };
}

const C = Math.SQRT1_2; // -3 dB, the ITU-R BS.775 weight for centre and surrounds.

/**
 * Left/right weights per source channel for the default WAV channel masks (as ffmpeg assumes):
 * 3 = FL FR FC, 4 = FL FR BL BR, 5 = FL FR FC BL BR, 6 = 5.1, 7 = FL FR FC LFE BC SL SR,
 * 8 = 7.1. LFE is dropped, as in the ITU downmix.
 */
const STEREO_WEIGHTS: Record<number, readonly (readonly [number, number])[]> = {
  3: [[1, 0], [0, 1], [C, C]],
  4: [[1, 0], [0, 1], [C, 0], [0, C]],
  5: [[1, 0], [0, 1], [C, C], [C, 0], [0, C]],
  6: [[1, 0], [0, 1], [C, C], [0, 0], [C, 0], [0, C]],
  7: [[1, 0], [0, 1], [C, C], [0, 0], [0.5, 0.5], [C, 0], [0, C]],
  8: [[1, 0], [0, 1], [C, C], [0, 0], [C, 0], [0, C], [C, 0], [0, C]],
};

/**
 * Two channels. Mono is duplicated (copied, so the two channels can be changed independently);
 * stereo is returned as it is; 3-8 channels get the ITU-style downmix above, normalised by the
 * sum of weights so it cannot clip; more channels alternate left/right and are averaged.
 */
export function toStereo(audio: AudioData): AudioData {
  const { channels, sampleRateHz } = audio;
  const n = channels[0]?.length ?? 0;
  if (channels.length === 2) return audio;
  if (channels.length <= 1) {
    const src = channels[0] ?? new Float32Array(0);
    return { sampleRateHz, channels: [src.slice(), src.slice()] };
  }
  const weights =
    STEREO_WEIGHTS[channels.length] ??
    channels.map((_, c) => (c % 2 === 0 ? ([1, 0] as const) : ([0, 1] as const)));
  const left = new Float32Array(n);
  const right = new Float32Array(n);
  let sumL = 0;
  let sumR = 0;
  channels.forEach((ch, c) => {
    const [wl, wr] = weights[c];
    sumL += wl;
    sumR += wr;
    if (wl !== 0) for (let i = 0; i < n; i++) left[i] += wl * ch[i];
    if (wr !== 0) for (let i = 0; i < n; i++) right[i] += wr * ch[i];
  });
  const gl = 1 / sumL;
  const gr = 1 / sumR;
  for (let i = 0; i < n; i++) {
    left[i] *= gl;
    right[i] *= gr;
  }
  return { sampleRateHz, channels: [left, right] };
}
