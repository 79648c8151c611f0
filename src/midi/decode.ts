/**
 * Reads notes and sustain-pedal spans from a Standard MIDI File (all tracks merged), times in
 * seconds through the file's tempo map. Used by tests (round trips) and benchmarks (ASAP MIDI).
 */
import ToneMidi from '@tonejs/midi';
import type { Note, PedalSpan } from '../types.js';

const { Midi } = ToneMidi;

/** Controller 64 at or above this value means the sustain pedal is down (General MIDI). */
const SUSTAIN_DOWN_MIN_VALUE = 64;

export interface DecodedMidi {
  notes: Note[];
  pedal: PedalSpan[];
  /** Tempo events as written in the file (seconds, BPM). */
  tempos: { timeSec: number; bpm: number }[];
  timeSignatures: { timeSec: number; numerator: number; denominator: number }[];
  keySignatures: { timeSec: number; key: string; scale: string }[];
  trackNames: string[];
  durationSec: number;
}

export function decodeMidi(bytes: Uint8Array): DecodedMidi {
  const midi = new Midi(bytes);
  const notes: Note[] = [];
  const pedal: PedalSpan[] = [];
  for (const track of midi.tracks) {
    for (const n of track.notes) {
      notes.push({
        onsetSec: n.time,
        offsetSec: n.time + n.duration,
        pitchMidi: n.midi,
        velocity: Math.max(1, Math.round(n.velocity * 127)),
        confidence: 1,
      });
    }
    let downSinceSec: number | undefined;
    for (const cc of track.controlChanges[64] ?? []) {
      const down = cc.value * 127 >= SUSTAIN_DOWN_MIN_VALUE - 0.5;
      if (down && downSinceSec === undefined) downSinceSec = cc.time;
      else if (!down && downSinceSec !== undefined) {
        pedal.push({ onsetSec: downSinceSec, offsetSec: cc.time });
        downSinceSec = undefined;
      }
    }
    if (downSinceSec !== undefined) pedal.push({ onsetSec: downSinceSec, offsetSec: Math.max(downSinceSec, track.duration) });
  }
  notes.sort((a, b) => a.onsetSec - b.onsetSec || a.pitchMidi - b.pitchMidi);
  pedal.sort((a, b) => a.onsetSec - b.onsetSec);
  const h = midi.header;
  return {
    notes,
    pedal,
    tempos: h.tempos.map((t) => ({ timeSec: h.ticksToSeconds(t.ticks), bpm: t.bpm })),
    timeSignatures: h.timeSignatures.map((t) => ({
      timeSec: h.ticksToSeconds(t.ticks),
      numerator: t.timeSignature[0],
      denominator: t.timeSignature[1],
    })),
    keySignatures: h.keySignatures.map((k) => ({ timeSec: h.ticksToSeconds(k.ticks), key: k.key, scale: k.scale })),
    trackNames: midi.tracks.map((t) => t.name),
    durationSec: midi.duration,
  };
}

/** Notes only, sorted by onset. */
export function decodeMidiNotes(bytes: Uint8Array): Note[] {
  return decodeMidi(bytes).notes;
}
