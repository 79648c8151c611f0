/**
 * Musical post-processing: raw transcribed notes in, a `Score` (notes + tempo map, time signature,
 * key, beats) out. Each step is a pure function in its own module and can be switched off:
 *
 * 1. beat and tempo tracking, meter and downbeats  (beats.ts, tempo.ts, meter.ts, tempoMap.ts)
 * 2. chord-onset alignment and quantization         (quantize.ts)           off by default
 * 3. note lengths: fragments, pedal, legato, minimum (noteLengths.ts)
 * 4. key estimate and optional out-of-key filter    (key.ts)                filter off by default
 * 5. velocity: model, compress or normalise          (velocity.ts)
 *
 * The defaults never move a note onset: the tempo map is fitted to the notes, not the other way.
 */
import type { Note, Score, Transcription } from '../types.js';
import { DEFAULT_BEAT_TRACKER, trackBeats } from './beats.js';
import { DEFAULT_KEY_FILTER, estimateKey, filterOutOfKey, keyEvents, type KeyFilterOptions, type KeyProfileName } from './key.js';
import { DEFAULT_METER, estimateMeter } from './meter.js';
import { adjustNoteLengths, DEFAULT_NOTE_LENGTHS, type NoteLengthOptions } from './noteLengths.js';
import { alignChordOnsets, quantizeNotes, type QuantizeGrid } from './quantize.js';
import { buildTempoMap, NOMINAL_BPM, nominalTempoMap } from './tempoMap.js';
import { DEFAULT_VELOCITY, shapeVelocities, type VelocityOptions } from './velocity.js';

/** Every field is optional: a missing one takes its value from `DEFAULT_POSTPROCESS` (`{}` = defaults). */
export interface PostprocessOptions {
  /** Step 1: track beats, tempo and meter from the notes; false writes a nominal 120 BPM 4/4. */
  beatTracking?: boolean;
  /** Step 2a: notes starting within `windowSec` start together (false = off). */
  chordAlign?: { windowSec: number } | false;
  /** Step 2b: move onsets `strength` (0..1) of the way to the beat-relative grid (false = off). */
  quantize?: { grid: QuantizeGrid; strength: number } | false;
  /** Step 3 (false = note lengths as transcribed). */
  noteLengths?: NoteLengthOptions | false;
  /** Step 4: key estimation (written as a key signature) and the optional out-of-key filter. */
  key?: { profile: KeyProfileName; filter: KeyFilterOptions | false } | false;
  /** Step 5. */
  velocity?: VelocityOptions;
}

/** Best-measured key profile on ASAP (see bench/postprocess.ts). */
export const DEFAULT_KEY_PROFILE: KeyProfileName = 'temperley';

export const DEFAULT_POSTPROCESS: Required<PostprocessOptions> = {
  beatTracking: true,
  chordAlign: false,
  quantize: false,
  noteLengths: DEFAULT_NOTE_LENGTHS,
  key: { profile: DEFAULT_KEY_PROFILE, filter: false },
  velocity: DEFAULT_VELOCITY,
};

export { DEFAULT_KEY_FILTER };

const byOnset = (a: Note, b: Note): number => a.onsetSec - b.onsetSec || a.pitchMidi - b.pitchMidi;

/** Nominal beats at 120 BPM covering the notes, the grid when beat tracking is off. */
function nominalBeats(notes: readonly Note[]): number[] {
  let end = 0;
  for (const n of notes) end = Math.max(end, n.offsetSec);
  const periodSec = 60 / NOMINAL_BPM;
  const beats: number[] = [];
  for (let t = 0; t <= end + periodSec; t += periodSec) beats.push(t);
  return beats;
}

/** `'raw'`: the notes unchanged, with a nominal tempo (120 BPM, 4/4) and no key (CLI `--raw`). */
export function postprocess(t: Transcription, optionsOrRaw: PostprocessOptions | 'raw'): Score {
  const rawNotes = t.notes.map((n) => ({ ...n })).sort(byOnset);
  const pedal = t.pedal?.map((p) => ({ ...p }));
  if (optionsOrRaw === 'raw') {
    return { notes: rawNotes, ...(pedal ? { pedal } : {}), ...nominalTempoMap(), keys: [] };
  }
  const options: Required<PostprocessOptions> = { ...DEFAULT_POSTPROCESS };
  for (const [name, value] of Object.entries(optionsOrRaw)) {
    if (value !== undefined) Object.assign(options, { [name]: value });
  }

  // Step 3 first: merged fragments would otherwise count as extra onsets for the beat tracker.
  let notes = options.noteLengths ? adjustNoteLengths(rawNotes, pedal, options.noteLengths) : rawNotes;

  // Step 1.
  let beatsSec: number[] | undefined;
  let downbeatsSec: number[] | undefined;
  let tempoMap = nominalTempoMap();
  if (options.beatTracking) {
    const beats = trackBeats(notes, DEFAULT_BEAT_TRACKER);
    if (beats.length >= 2) {
      const meter = estimateMeter(notes, beats, DEFAULT_METER);
      beatsSec = beats;
      downbeatsSec = meter.downbeatsSec;
      tempoMap = buildTempoMap(beats, meter.beatsPerBar, meter.firstDownbeatIndex);
    }
  }

  // Step 2.
  if (options.chordAlign) notes = alignChordOnsets(notes, options.chordAlign.windowSec);
  if (options.quantize) notes = quantizeNotes(notes, beatsSec ?? nominalBeats(notes), options.quantize.grid, options.quantize.strength);

  // Step 4.
  let keys: Score['keys'] = [];
  if (options.key) {
    const estimate = estimateKey(notes, options.key.profile);
    keys = keyEvents(estimate);
    if (estimate && options.key.filter) notes = filterOutOfKey(notes, estimate, options.key.filter);
  }

  // Step 5.
  notes = shapeVelocities(notes, options.velocity).sort(byOnset);

  return {
    notes,
    ...(pedal ? { pedal } : {}),
    tempos: tempoMap.tempos,
    timeSignatures: tempoMap.timeSignatures,
    keys,
    ...(beatsSec ? { beatsSec, downbeatsSec } : {}),
  };
}
