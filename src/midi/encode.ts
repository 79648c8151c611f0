/**
 * Score -> Standard MIDI File (format 1: a conductor track with tempo, time and key signatures, and
 * one piano track), written with @tonejs/midi.
 *
 * Note times are converted to ticks *through the tempo map*, so a tempo map fitted to tracked
 * beats moves no note: every tracked beat lands on a quarter-note tick and every note keeps its
 * time in seconds (to within half a tick, under 1 ms at the resolution below).
 *
 * Two details @tonejs/midi 2.0.28 gets wrong or leaves open, handled here:
 * - it writes `floor(60e6 / bpm)` microseconds per beat; tempo values are chosen so that the floor
 *   is the exact integer wanted, and rounding errors are carried forward (error diffusion) so the
 *   written tempo map never drifts from the beat times;
 * - it encodes key signatures with the wrong sign offset (C major comes out as 14 sharps), so the
 *   key-signature meta event is added with `midi-file` after encoding.
 */
import ToneMidi from '@tonejs/midi';
import midiFile from 'midi-file';
import type { KeyEvent, Score } from '../types.js';
import { NOMINAL_BPM } from '../postprocess/tempoMap.js';
import { signatureOfSpelledKey } from '../postprocess/keyNames.js';
import { StemscribeError } from '../errors.js';

const { Midi } = ToneMidi;

/**
 * Ticks per quarter note. 1920 keeps the rounding of a note time under 1 ms down to 31 BPM
 * (half a tick = 60 / bpm / 1920 / 2 s) and is accepted by DAWs and notation programs.
 */
export const TICKS_PER_BEAT = 1920;
/** General MIDI program 0 (Acoustic Grand Piano); the sustain pedal is controller 64. */
const PIANO_PROGRAM = 0;
const SUSTAIN_CONTROLLER = 64;
/** The largest tempo a MIDI set-tempo event can hold (microseconds per quarter, 24 bits). */
const MAX_MICROSECONDS_PER_BEAT = 0xffffff;

export interface EncodeOptions {
  trackName?: string;
}

/** One segment of the written tempo map: from `tick` (at `timeSec`) on, `usPerBeat` µs/quarter. */
interface TempoSegment {
  tick: number;
  timeSec: number;
  usPerBeat: number;
}

/**
 * Integer tempo segments that reproduce the score's tempo events: each event's tick is its
 * beat position rounded to a tick, and each segment's µs/beat is chosen so that the written
 * map reaches the next event's time in seconds as closely as integers allow.
 */
export function tempoSegments(score: Pick<Score, 'tempos'>, ppq = TICKS_PER_BEAT): TempoSegment[] {
  const events = [...score.tempos]
    .filter((t) => Number.isFinite(t.timeSec) && Number.isFinite(t.bpm) && t.bpm > 0)
    .map((t) => ({ timeSec: Math.max(0, t.timeSec), bpm: t.bpm }))
    .sort((a, b) => a.timeSec - b.timeSec);
  if (events.length === 0 || events[0].timeSec > 0) events.unshift({ timeSec: 0, bpm: NOMINAL_BPM });
  // Exact (fractional) tick of each event, then rounded; drop events that collapse onto one tick.
  const anchors: { tick: number; timeSec: number; bpm: number }[] = [];
  let exactTick = 0;
  for (let k = 0; k < events.length; k++) {
    if (k > 0) exactTick += ((events[k].timeSec - events[k - 1].timeSec) * events[k - 1].bpm * ppq) / 60;
    const tick = Math.round(exactTick);
    if (anchors.length > 0 && tick <= anchors[anchors.length - 1].tick) {
      anchors[anchors.length - 1] = { tick: anchors[anchors.length - 1].tick, timeSec: anchors[anchors.length - 1].timeSec, bpm: events[k].bpm };
      continue;
    }
    anchors.push({ tick, timeSec: events[k].timeSec, bpm: events[k].bpm });
  }
  const segments: TempoSegment[] = [];
  let writtenSec = 0;
  for (let k = 0; k < anchors.length; k++) {
    const a = anchors[k];
    let usPerBeat: number;
    if (k + 1 < anchors.length) {
      const next = anchors[k + 1];
      // Aim at the next anchor's true time from where the written map actually is.
      usPerBeat = Math.round(((next.timeSec - writtenSec) * 1e6 * ppq) / (next.tick - a.tick));
    } else {
      usPerBeat = Math.round(60e6 / a.bpm);
    }
    usPerBeat = Math.min(MAX_MICROSECONDS_PER_BEAT, Math.max(1, usPerBeat));
    segments.push({ tick: a.tick, timeSec: writtenSec, usPerBeat });
    if (k + 1 < anchors.length) writtenSec += (usPerBeat * (anchors[k + 1].tick - a.tick)) / ppq / 1e6;
  }
  return segments;
}

/** Seconds -> tick through the written tempo map. */
export function secondsToTicks(segments: readonly TempoSegment[], timeSec: number, ppq = TICKS_PER_BEAT): number {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segments[mid].timeSec <= timeSec) lo = mid;
    else hi = mid - 1;
  }
  const s = segments[lo];
  return Math.max(0, Math.round(s.tick + ((timeSec - s.timeSec) * 1e6 * ppq) / s.usPerBeat));
}

/** `Midi.toArray` writes floor(60e6 / bpm); this bpm floors to exactly `usPerBeat`. */
const bpmWritingExactly = (usPerBeat: number): number => 60e6 / (usPerBeat + 0.5);

function keySignatureEvent(key: KeyEvent): { key: number; scale: number } | undefined {
  const sharps = signatureOfSpelledKey(key.tonic, key.mode);
  if (sharps === undefined || Math.abs(sharps) > 7) return undefined;
  return { key: sharps, scale: key.mode === 'major' ? 0 : 1 };
}

export function encodeMidi(score: Score, opts: EncodeOptions = {}): Uint8Array {
  const trackName = opts.trackName ?? 'stemscribe';
  const ppq = TICKS_PER_BEAT;
  const segments = tempoSegments(score, ppq);
  const toTicks = (timeSec: number): number => secondsToTicks(segments, Math.max(0, timeSec), ppq);

  const midi = new Midi();
  midi.header.fromJSON({
    name: trackName,
    ppq,
    meta: [],
    keySignatures: [],
    tempos: segments.map((s) => ({ ticks: s.tick, bpm: bpmWritingExactly(s.usPerBeat) })),
    timeSignatures: (score.timeSignatures.length > 0 ? score.timeSignatures : [{ timeSec: 0, numerator: 4, denominator: 4 }])
      .map((ts) => ({ ticks: toTicks(ts.timeSec), timeSignature: [ts.numerator, ts.denominator] }))
      .sort((a, b) => a.ticks - b.ticks),
  });

  const track = midi.addTrack();
  track.name = trackName;
  track.channel = 0;
  track.instrument.number = PIANO_PROGRAM;

  const notes = [...score.notes].sort((a, b) => a.onsetSec - b.onsetSec || a.pitchMidi - b.pitchMidi);
  const onTicks = notes.map((n) => toTicks(n.onsetSec));
  // A note must end before its pitch sounds again, or the next note-on would be swallowed.
  const nextOnTick = new Array<number>(notes.length).fill(Infinity);
  const lastIndexByPitch = new Map<number, number>();
  notes.forEach((n, i) => {
    const prev = lastIndexByPitch.get(n.pitchMidi);
    if (prev !== undefined) nextOnTick[prev] = onTicks[i];
    lastIndexByPitch.set(n.pitchMidi, i);
  });
  notes.forEach((n, i) => {
    if (!Number.isInteger(n.pitchMidi) || n.pitchMidi < 0 || n.pitchMidi > 127) {
      throw new StemscribeError(`Note pitch ${n.pitchMidi} is outside MIDI's 0..127.`, 'encode');
    }
    const offTick = Math.min(toTicks(n.offsetSec), nextOnTick[i]);
    const velocity = Math.min(127, Math.max(1, Math.round(n.velocity)));
    track.addNote({
      midi: n.pitchMidi,
      ticks: onTicks[i],
      durationTicks: Math.max(1, offTick - onTicks[i]),
      // toArray writes floor(velocity * 127).
      velocity: (velocity + 0.5) / 127,
    });
  });
  for (const span of score.pedal ?? []) {
    track.addCC({ number: SUSTAIN_CONTROLLER, ticks: toTicks(span.onsetSec), value: 1 });
    track.addCC({ number: SUSTAIN_CONTROLLER, ticks: toTicks(span.offsetSec), value: 0 });
  }

  const bytes = midi.toArray();
  const keyEvents = score.keys
    .map((k) => ({ ticks: toTicks(k.timeSec), sig: keySignatureEvent(k) }))
    .filter((k): k is { ticks: number; sig: { key: number; scale: number } } => k.sig !== undefined);
  if (keyEvents.length === 0) return bytes;
  return withKeySignatures(bytes, keyEvents);
}

/** Re-encodes `bytes` with key-signature meta events added to the conductor track. */
function withKeySignatures(bytes: Uint8Array, keys: { ticks: number; sig: { key: number; scale: number } }[]): Uint8Array {
  const parsed = midiFile.parseMidi(bytes);
  const conductor = parsed.tracks[0];
  // Absolute times, insert, then back to delta times.
  let t = 0;
  const timed = conductor.map((event) => {
    t += event.deltaTime;
    return { at: t, event };
  });
  const endOfTrack = timed.pop();
  for (const k of keys) {
    timed.push({ at: k.ticks, event: { deltaTime: 0, meta: true, type: 'keySignature', key: k.sig.key, scale: k.sig.scale } });
  }
  timed.sort((a, b) => a.at - b.at);
  if (endOfTrack) timed.push({ at: Math.max(endOfTrack.at, timed.length ? timed[timed.length - 1].at : 0), event: endOfTrack.event });
  let last = 0;
  parsed.tracks[0] = timed.map(({ at, event }) => {
    const e = { ...event, deltaTime: at - last };
    last = at;
    return e;
  });
  return new Uint8Array(midiFile.writeMidi(parsed));
}
