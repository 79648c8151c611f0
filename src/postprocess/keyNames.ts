/** Key spelling and key signatures (number of sharps > 0 or flats < 0). */

export type Mode = 'major' | 'minor';

/** Tonic spelled as a key signature names it (the fewer accidentals; F# major over Gb major). */
const MAJOR_TONICS = ['C', 'Db', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'Ab', 'A', 'Bb', 'B'];
const MINOR_TONICS = ['C', 'C#', 'D', 'Eb', 'E', 'F', 'F#', 'G', 'G#', 'A', 'Bb', 'B'];

const PITCH_CLASS_OF_LETTER: Record<string, number> = { C: 0, D: 2, E: 4, F: 5, G: 7, A: 9, B: 11 };

export function tonicName(tonicPc: number, mode: Mode): string {
  const pc = ((tonicPc % 12) + 12) % 12;
  return mode === 'major' ? MAJOR_TONICS[pc] : MINOR_TONICS[pc];
}

/** Pitch class of a tonic name such as `Eb`, `F#`, `Cb` (undefined when unparseable). */
export function pitchClassOf(tonic: string): number | undefined {
  const letter = PITCH_CLASS_OF_LETTER[tonic.charAt(0).toUpperCase()];
  if (letter === undefined) return undefined;
  let pc = letter;
  for (const accidental of tonic.slice(1)) {
    if (accidental === '#') pc += 1;
    else if (accidental === 'b') pc -= 1;
    else return undefined;
  }
  return ((pc % 12) + 12) % 12;
}

/** Sharps (> 0) or flats (< 0) of a key, in -6..6 (F# major = 6, Gb would be -6). */
export function keySignatureOf(tonicPc: number, mode: Mode): number {
  const majorPc = mode === 'major' ? tonicPc : tonicPc + 3;
  // Steps of a fifth from C: pc * 7 mod 12, folded to -5..6.
  const fifths = (((majorPc % 12) + 12) * 7) % 12;
  return fifths > 6 ? fifths - 12 : fifths;
}

/** The key of a signature in the given mode (the relative minor for `minor`). */
export function keyFromSignature(sharps: number, mode: Mode): { tonicPc: number; mode: Mode } {
  const majorPc = (((sharps * 7) % 12) + 12) % 12;
  return { tonicPc: mode === 'major' ? majorPc : (majorPc + 9) % 12, mode };
}

/** Position of each natural letter on the circle of fifths from C. */
const FIFTHS_OF_LETTER: Record<string, number> = { F: -1, C: 0, G: 1, D: 2, A: 3, E: 4, B: 5 };

/**
 * Signature of a key as spelled (`Gb` major = -6, `F#` major = 6, `Eb` minor = -6); undefined
 * for an unparseable name. Values beyond +-7 are theoretical keys that no signature can hold.
 */
export function signatureOfSpelledKey(tonic: string, mode: Mode): number | undefined {
  const letter = FIFTHS_OF_LETTER[tonic.charAt(0).toUpperCase()];
  if (letter === undefined) return undefined;
  let fifths = letter;
  for (const accidental of tonic.slice(1)) {
    if (accidental === '#') fifths += 7;
    else if (accidental === 'b') fifths -= 7;
    else return undefined;
  }
  return mode === 'major' ? fifths : fifths - 3;
}
