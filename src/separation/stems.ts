/**
 * What the pipeline does with a separator's stems: what the piano transcriber reads, and the
 * four-stem view of a five-stem result (for references that keep piano inside `other`, as MUSDB18).
 */
import type { AudioData, StemName, Stems } from '../types.js';
import { ALL_STEM_NAMES } from '../types.js';

/**
 * What the piano transcriber reads: `other`, with the `piano` stem added back when the separator
 * split it out. Why not `piano` alone: unmix 0.2, trained on SoundFont pianos, keeps a rendered
 * piano in `piano` but puts much of a real one in `other` (bench e2e, MAPS recordings in a band
 * mix: `piano` vs the true piano -1.35 dB SDR, `other+piano` 0.49 dB; basic-pitch onset F1 25.2
 * vs 34.1). The `piano` stem is still written for the user.
 */
export function transcriptionSource(stems: Stems): { label: 'other' | 'other+piano'; audio: AudioData } {
  return stems.piano ? { label: 'other+piano', audio: foldPianoIntoOther(stems).other } : { label: 'other', audio: stems.other };
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
