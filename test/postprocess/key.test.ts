import { describe, expect, it } from 'vitest';
import { estimateKey, filterOutOfKey, KEY_PROFILE_NAMES } from '../../src/postprocess/key.js';
import { keyFromSignature, keySignatureOf, pitchClassOf, signatureOfSpelledKey, tonicName } from '../../src/postprocess/keyNames.js';
import type { Note } from '../../src/types.js';
import { note } from './helpers.js';

const scale = (tonic: number, steps: number[]): Note[] => {
  const notes: Note[] = [];
  let t = 0;
  // Up and down twice, tonic and fifth held longer as a melody would.
  for (let rep = 0; rep < 2; rep++) {
    for (const s of [...steps, 12, ...[...steps].reverse()]) {
      const dur = s % 12 === 0 || s === 7 ? 0.6 : 0.3;
      notes.push(note(t, tonic + s, dur));
      t += dur;
    }
  }
  // Close on the tonic chord.
  notes.push(note(t, tonic, 1.5), note(t, tonic + (steps[2] === 3 ? 3 : 4), 1.5), note(t, tonic + 7, 1.5));
  return notes;
};

describe('estimateKey', () => {
  it.each(KEY_PROFILE_NAMES)('finds C major from a C-major scale (%s)', (profile) => {
    const k = estimateKey(scale(60, [0, 2, 4, 5, 7, 9, 11]), profile);
    expect(k).toMatchObject({ tonic: 'C', mode: 'major', tonicPc: 0 });
  });

  it.each(KEY_PROFILE_NAMES)('finds A minor from a harmonic A-minor scale (%s)', (profile) => {
    const k = estimateKey(scale(57, [0, 2, 3, 5, 7, 8, 11]), profile);
    expect(k).toMatchObject({ tonic: 'A', mode: 'minor' });
  });

  it('finds Eb major and spells it with flats', () => {
    const k = estimateKey(scale(63, [0, 2, 4, 5, 7, 9, 11]));
    expect(k).toMatchObject({ tonic: 'Eb', mode: 'major' });
  });

  it('returns undefined without notes', () => {
    expect(estimateKey([])).toBeUndefined();
  });
});

describe('filterOutOfKey', () => {
  it('drops only short, low-confidence notes outside the scale', () => {
    const key = { tonicPc: 0, mode: 'major' as const };
    const kept = filterOutOfKey(
      [
        note(0, 61, 0.05, 60, 0.2), // C#: short, unsure -> dropped
        note(0, 61, 0.5, 60, 0.2), // held -> kept
        note(0, 61, 0.05, 60, 0.9), // confident -> kept
        note(0, 62, 0.05, 60, 0.1), // in key -> kept
      ],
      key,
      { maxDurationSec: 0.12, maxConfidence: 0.5 },
    );
    expect(kept.map((n) => [n.pitchMidi, n.offsetSec - n.onsetSec, n.confidence])).toEqual([
      [61, 0.5, 0.2],
      [61, 0.05, 0.9],
      [62, 0.05, 0.1],
    ]);
  });
});

describe('key names and signatures', () => {
  it('spells tonics as key signatures do and counts accidentals', () => {
    expect(tonicName(8, 'minor')).toBe('G#');
    expect(tonicName(8, 'major')).toBe('Ab');
    expect(keySignatureOf(0, 'major')).toBe(0);
    expect(keySignatureOf(9, 'minor')).toBe(0);
    expect(keySignatureOf(3, 'major')).toBe(-3);
    expect(keySignatureOf(4, 'minor')).toBe(1);
    expect(keyFromSignature(-3, 'minor')).toEqual({ tonicPc: 0, mode: 'minor' });
    expect(keyFromSignature(2, 'major')).toEqual({ tonicPc: 2, mode: 'major' });
    expect(signatureOfSpelledKey('Gb', 'major')).toBe(-6);
    expect(signatureOfSpelledKey('F#', 'major')).toBe(6);
    expect(signatureOfSpelledKey('Eb', 'minor')).toBe(-6);
    expect(signatureOfSpelledKey('G#', 'minor')).toBe(5);
    expect(pitchClassOf('Cb')).toBe(11);
    expect(pitchClassOf('H')).toBeUndefined();
  });
});
