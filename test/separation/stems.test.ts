import { describe, expect, it } from 'vitest';
import { foldPianoIntoOther, presentStems, transcriptionSource } from '../../src/separation/stems.js';
import type { AudioData, Stems } from '../../src/types.js';

const audio = (...channels: number[][]): AudioData => ({ sampleRateHz: 8000, channels: channels.map((c) => Float32Array.from(c)) });

const four = (): Stems => ({
  vocals: audio([1, 1]),
  drums: audio([2, 2]),
  bass: audio([3, 3]),
  other: audio([0.5, -0.5], [0.25, 0]),
});

describe('separated stems', () => {
  it('hands the transcriber `other`, with `piano` added back when the separator split it out', () => {
    const f = four();
    expect(transcriptionSource(f)).toEqual({ label: 'other', audio: f.other });
    const five: Stems = { ...four(), piano: audio([1, 1], [1, 1]) };
    const src = transcriptionSource(five);
    expect(src.label).toBe('other+piano');
    expect(Array.from(src.audio.channels[0])).toEqual([1.5, 0.5]);
  });

  it('lists the stems that are there, piano last', () => {
    expect(presentStems(four()).map(([k]) => k)).toEqual(['vocals', 'drums', 'bass', 'other']);
    expect(presentStems({ ...four(), piano: audio([0, 0]) }).map(([k]) => k)).toEqual(['vocals', 'drums', 'bass', 'other', 'piano']);
  });

  it('folds piano back into other sample by sample, leaving its input unchanged', () => {
    const five: Stems = { ...four(), piano: audio([1, 2], [3, 4]) };
    const folded = foldPianoIntoOther(five);
    expect(Object.keys(folded).sort()).toEqual(['bass', 'drums', 'other', 'vocals']);
    expect(Array.from(folded.other.channels[0])).toEqual([1.5, 1.5]);
    expect(Array.from(folded.other.channels[1])).toEqual([3.25, 4]);
    expect(Array.from(five.other.channels[0])).toEqual([0.5, -0.5]);
    expect(folded.vocals).toBe(five.vocals);
    // Four stems pass through as they are.
    const f = four();
    expect(foldPianoIntoOther(f).other).toBe(f.other);
  });
});
