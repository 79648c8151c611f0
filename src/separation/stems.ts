/**
 * What the pipeline does with a separator's stems: which one the piano transcriber reads, and the
 * four-stem view of a five-stem result (for references that keep piano inside `other`, as MUSDB18).
 */
import type { AudioData, StemName, Stems } from '../types.js';
import { ALL_STEM_NAMES } from '../types.js';

/** `piano` when the separator split it out of `other`, else `other` (where a four-stem model leaves it). */
export function transcriptionStem(stems: Stems): StemName {
  return stems.piano ? 'piano' : 'other';
}

/** The stems that are present, in ALL_STEM_NAMES order. */
export function presentStems(stems: Stems): Array<[StemName, AudioData]> {
  return ALL_STEM_NAMES.flatMap((name) => {
    const audio = stems[name];
    return audio ? [[name, audio] as [StemName, AudioData]] : [];
  });
}

/** Four stems with `piano` (if any) added back into `other`; the input is left unchanged. */
export function foldPianoIntoOther(stems: Stems): Stems {
  const { piano, ...four } = stems;
  if (!piano) return four;
  const other = stems.other;
  const channels = other.channels.map((ch, c) => {
    const p = piano.channels[Math.min(c, piano.channels.length - 1)];
    const out = new Float32Array(ch.length);
    for (let i = 0; i < ch.length; i++) out[i] = ch[i] + (p[i] ?? 0);
    return out;
  });
  return { ...four, other: { sampleRateHz: other.sampleRateHz, channels } };
}
