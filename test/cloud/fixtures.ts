/** Test audio for the local-cloud runs: short, synthetic, deterministic. */
import { encodeWav } from '../../src/audio/wav.js';

/** A few seconds of plucked piano-range tones (C4, E4, G4, then C5), 16-bit stereo WAV. */
export function shortSongWav(durationSec = 2, sampleRateHz = 44100): Uint8Array {
  const n = Math.round(durationSec * sampleRateHz);
  const left = new Float32Array(n);
  const notes = [
    { midi: 60, onsetSec: 0.1 },
    { midi: 64, onsetSec: 0.1 },
    { midi: 67, onsetSec: 0.1 },
    { midi: 72, onsetSec: 1.0 },
  ];
  for (const note of notes) {
    const hz = 440 * 2 ** ((note.midi - 69) / 12);
    const start = Math.round(note.onsetSec * sampleRateHz);
    for (let i = start; i < n; i++) {
      const t = (i - start) / sampleRateHz;
      // Two partials and an exponential decay: enough like a piano for the transcriber.
      left[i] += 0.15 * Math.exp(-3 * t) * (Math.sin(2 * Math.PI * hz * t) + 0.3 * Math.sin(4 * Math.PI * hz * t));
    }
  }
  return encodeWav({ sampleRateHz, channels: [left, Float32Array.from(left)] });
}
