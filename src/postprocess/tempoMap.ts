/**
 * Step 1c: a tempo map and time signatures that put every tracked beat on a MIDI beat (quarter
 * note) and every tracked downbeat on a bar line, so the notes keep their times in seconds and
 * a DAW or notation program still shows bars that match the music.
 *
 * - A first beat closer to 0 s than a quarter of the first period is moved to 0 s (notes never move).
 * - Before the first beat: a lead-in of `L = round(firstBeat / firstIbi)` beats (at least one when
 *   the first beat is not at 0 s), at the tempo that makes them span exactly 0 .. firstBeat.
 * - One tempo event per beat: 60 / (next beat - this beat) BPM; the last interval continues.
 * - When the first downbeat does not fall a whole number of bars after 0 s, a pickup bar
 *   (anacrusis) of the remaining beats is written as its own short time signature.
 */
import type { TempoEvent, TimeSignatureEvent } from '../types.js';

export const NOMINAL_BPM = 120;

export interface TempoMap {
  tempos: TempoEvent[];
  timeSignatures: TimeSignatureEvent[];
}

export function nominalTempoMap(): TempoMap {
  return {
    tempos: [{ timeSec: 0, bpm: NOMINAL_BPM }],
    timeSignatures: [{ timeSec: 0, numerator: 4, denominator: 4 }],
  };
}

/**
 * @param beatsSec ascending beat times (seconds), at least two, first one >= 0
 * @param beatsPerBar bar length in beats (written as `beatsPerBar`/4)
 * @param firstDownbeatIndex index into `beatsSec` of the first downbeat
 */
export function buildTempoMap(beatsSec: readonly number[], beatsPerBar: number, firstDownbeatIndex: number): TempoMap {
  if (beatsSec.length < 2 || beatsSec[0] < 0) return nominalTempoMap();
  // A first beat within a quarter period of 0 s is taken to be at 0 s: a lead-in beat that short
  // would be an absurd tempo (thousands of BPM) for a few milliseconds.
  if (beatsSec[0] > 0 && beatsSec[0] < 0.25 * (beatsSec[1] - beatsSec[0])) beatsSec = [0, ...beatsSec.slice(1)];
  const firstBeatSec = beatsSec[0];
  const firstIbiSec = beatsSec[1] - beatsSec[0];
  const leadInBeats = firstBeatSec > 0 ? Math.max(1, Math.round(firstBeatSec / firstIbiSec)) : 0;
  const tempos: TempoEvent[] = [];
  if (leadInBeats > 0) tempos.push({ timeSec: 0, bpm: (60 * leadInBeats) / firstBeatSec });
  for (let i = 0; i + 1 < beatsSec.length; i++) {
    tempos.push({ timeSec: beatsSec[i], bpm: 60 / (beatsSec[i + 1] - beatsSec[i]) });
  }

  // Time of MIDI beat k (0 at 0 s): inside the lead-in, or a tracked beat.
  const midiBeatTime = (k: number): number =>
    k < leadInBeats ? (k * firstBeatSec) / leadInBeats : beatsSec[Math.min(beatsSec.length - 1, k - leadInBeats)];
  const firstDownbeatMidiBeat = leadInBeats + Math.max(0, firstDownbeatIndex);
  const pickupBeats = firstDownbeatMidiBeat % beatsPerBar;
  const timeSignatures: TimeSignatureEvent[] = [];
  if (pickupBeats > 0) {
    timeSignatures.push({ timeSec: 0, numerator: pickupBeats, denominator: 4 });
    timeSignatures.push({ timeSec: midiBeatTime(pickupBeats), numerator: beatsPerBar, denominator: 4 });
  } else {
    timeSignatures.push({ timeSec: 0, numerator: beatsPerBar, denominator: 4 });
  }
  return { tempos, timeSignatures };
}
