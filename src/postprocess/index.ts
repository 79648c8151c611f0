/**
 * Musical post-processing: raw transcribed notes in, a `Score` (notes + tempo map, time signature,
 * key, beats) out. Each step is a pure function in its own module and can be switched off:
 *
 * 1. beat and tempo tracking, meter and downbeats  (learned: beatModel.ts + beatsDbn.ts; hand-made:
 *    beats.ts, tempo.ts, meter.ts), written as a steady tempo map where the beats allow (tempoMap.ts)
 * 2. chord-onset alignment and quantization         (quantize.ts)           off by default
 * 3. note lengths: fragments, pedal, legato, minimum (noteLengths.ts)
 * 4. key estimate and optional out-of-key filter    (key.ts)                filter off by default
 * 5. velocity: model, compress or normalise          (velocity.ts)
 *
 * The defaults never move a note onset: the tempo map is fitted to the notes, not the other way.
 *
 * `postprocess` is synchronous and uses the learned beat tracker only when it is handed the
 * network's activations (`context.beatActivations`); `postprocessAsync` computes them with the
 * lazily loaded ONNX model (onnxruntime has no synchronous run) and falls back to the hand-made
 * tracker when the model cannot be loaded.
 */
import type { Note, Score, Transcription } from '../types.js';
import { defaultBeatModel, type BeatActivations, type BeatModel } from './beatModel.js';
import { DEFAULT_BEAT_TRACKER, trackBeats, trackBeatsOnEnvelope } from './beats.js';
import { decodeBeats, decodeDownbeats, type BeatDbnOptions } from './beatsDbn.js';
import { DEFAULT_KEY_FILTER, estimateKey, filterOutOfKey, keyEvents, type KeyFilterOptions, type KeyProfileName } from './key.js';
import { DEFAULT_METER, estimateMeter } from './meter.js';
import { defaultNoteBeatModel, type NoteBeatModel } from './noteBeatModel.js';
import { adjustNoteLengths, DEFAULT_NOTE_LENGTHS, type NoteLengthOptions } from './noteLengths.js';
import { alignChordOnsets, quantizeNotes, type QuantizeGrid } from './quantize.js';
import {
  buildTempoMap,
  DEFAULT_STEADY_TEMPO,
  mergeRepeatedTempos,
  NOMINAL_BPM,
  nominalTempoMap,
  steadyBeats,
  type SteadyTempoOptions,
} from './tempoMap.js';
import { DEFAULT_VELOCITY, shapeVelocities, type VelocityOptions } from './velocity.js';

/** Every field is optional: a missing one takes its value from `DEFAULT_POSTPROCESS` (`{}` = defaults). */
export interface PostprocessOptions {
  /** Step 1: track beats, tempo and meter from the notes; false writes a nominal 120 BPM 4/4. */
  beatTracking?: boolean;
  /**
   * Step 1 tracker: 'learned' (the beat network + DBN, used when its activations are available,
   * i.e. through `postprocessAsync`; otherwise the hand-made one) or 'handmade' (Ellis DP).
   */
  beatTracker?: 'learned' | 'handmade';
  /**
   * Step 1: write piecewise-steady tempo where the beats allow (tempoMap.ts `steadyBeats`). Default
   * on, except with `quantize` (then only when given explicitly: quantizing to a smoothed grid
   * measured worse).
   */
  steadyTempo?: Partial<SteadyTempoOptions> | false;
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

/**
 * Defaults of the long-standing options (the CLI's flags map onto these). The beat-tracker choice
 * and the steady tempo map default separately (`DEFAULT_BEAT_OPTIONS`), so that "not given" stays
 * distinguishable for `steadyTempo` (see its doc).
 */
export const DEFAULT_POSTPROCESS: Required<Omit<PostprocessOptions, 'beatTracker' | 'steadyTempo'>> = {
  beatTracking: true,
  chordAlign: false,
  quantize: false,
  noteLengths: DEFAULT_NOTE_LENGTHS,
  key: { profile: DEFAULT_KEY_PROFILE, filter: false },
  velocity: DEFAULT_VELOCITY,
};

export const DEFAULT_BEAT_OPTIONS: Required<Pick<PostprocessOptions, 'beatTracker' | 'steadyTempo'>> = {
  beatTracker: 'learned',
  steadyTempo: DEFAULT_STEADY_TEMPO,
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

export interface PostprocessContext {
  /** The beat network's output for `beatInputNotes(t, options)`; enables the learned tracker. */
  beatActivations?: BeatActivations;
  /**
   * The note-level model's output for the same notes (noteBeatModel.ts): downbeats and meter from
   * it alone (on the ASAP val pieces it guessed duple/triple right 89 % of the time, the beat TCN
   * 72 %), beats from its mean with the beat network's (fuseBeatActivations).
   */
  noteActivations?: BeatActivations;
}

function resolveOptions(optionsOrRaw: PostprocessOptions): Required<PostprocessOptions> {
  const options: Required<PostprocessOptions> = { ...DEFAULT_POSTPROCESS, ...DEFAULT_BEAT_OPTIONS };
  for (const [name, value] of Object.entries(optionsOrRaw)) {
    if (value !== undefined) Object.assign(options, { [name]: value });
  }
  return options;
}

/** Notes after step 3, which is what the beat trackers see (merged fragments are one onset). */
function notesAfterLengths(t: Transcription, options: Required<PostprocessOptions>): Note[] {
  const rawNotes = t.notes.map((n) => ({ ...n })).sort(byOnset);
  const pedal = t.pedal?.map((p) => ({ ...p }));
  return options.noteLengths ? adjustNoteLengths(rawNotes, pedal, options.noteLengths) : rawNotes;
}

/** The notes the beat network must be run on for `postprocess(t, options, { beatActivations })`. */
export function beatInputNotes(t: Transcription, options: PostprocessOptions): Note[] {
  return notesAfterLengths(t, resolveOptions(options));
}

/**
 * How the learned beat activation becomes beats: 'dp' runs the hand-made tracker's tempo curve and
 * dynamic programme over the activation instead of the note envelope; 'dbn' is the beat DBN
 * (beatsDbn.ts). Chosen on the validation pieces (see bench/postprocess.ts and the model card).
 */
export type LearnedBeatDecoder = 'dp' | 'dbn';
export const DEFAULT_LEARNED_DECODER: LearnedBeatDecoder = 'dbn';

/**
 * DBN settings for the learned activation, chosen on the validation pieces: the 5th power of the
 * activation (the network fires at 0.3-0.4 on off-beats, which madmom's observation model reads as
 * beats: the DBN then doubles the tempo) and a loose tempo transition (lambda 10 instead of
 * madmom's 100: performances bend the tempo more than audio datasets). On the val pieces (step-6015
 * model): DP 56.2, madmom's DBN settings about 45, these 59.7 beat F. The tempo head's prior
 * (`tempoPriorWeight`) is left off: it did not raise val beat F.
 */
export const LEARNED_BEAT_DBN: Partial<BeatDbnOptions> = { activationPower: 5, transitionLambda: 10 };

/**
 * Beats from both networks: `FUSED_BEAT_TCN_WEIGHT` x the frame-level TCN's beat activation plus
 * the rest x the note-level model's, decoded with `FUSED_BEAT_DBN`. The two err in different places,
 * and their mean is the better activation: on the ASAP val pieces beat F 60.7 (TCN alone) -> 62.1,
 * on a plateau from weight 0.6 to 0.8 and power 3 to 4 (`bench/beatsTune.ts --grid fuse`).
 */
export const FUSED_BEAT_TCN_WEIGHT = 0.7;
export const FUSED_BEAT_DBN: Partial<BeatDbnOptions> = { activationPower: 4, transitionLambda: 10 };

/**
 * `w x tcn + (1 - w) x notes` frame by frame for beats and downbeats, over the note model's frames
 * (both are on the same 50 fps grid; a missing TCN frame counts as 0).
 */
export function fuseBeatActivations(tcn: BeatActivations, notes: BeatActivations, w: number): BeatActivations {
  if (tcn.fps !== notes.fps) throw new Error(`beat activations at ${tcn.fps} and ${notes.fps} fps cannot be fused`);
  const mix = (a: Float32Array, b: Float32Array): Float32Array => b.map((v, f) => w * (a[f] ?? 0) + (1 - w) * v);
  return { fps: notes.fps, beat: mix(tcn.beat, notes.beat), downbeat: mix(tcn.downbeat, notes.downbeat) };
}

/** Beats (seconds) and meter from the learned activations when given, else the hand-made tracker. */
export function trackBeatsAndMeter(
  notes: readonly Note[],
  tracker: 'learned' | 'handmade',
  activations?: BeatActivations,
  decoder: LearnedBeatDecoder = DEFAULT_LEARNED_DECODER,
  noteActivations?: BeatActivations,
): { beatsSec: number[]; beatsPerBar: number; firstDownbeatIndex: number; downbeatsSec: number[] } {
  if (tracker === 'learned' && activations && notes.length > 1) {
    let first = Infinity;
    let last = -Infinity;
    for (const n of notes) {
      first = Math.min(first, n.onsetSec);
      last = Math.max(last, n.onsetSec);
    }
    // Squaring sharpens the activation (weak off-beat bumps fade): +2.4 beat F on the val pieces.
    const dbn = (): number[] =>
      noteActivations
        ? decodeBeats(fuseBeatActivations(activations, noteActivations, FUSED_BEAT_TCN_WEIGHT), first, last, FUSED_BEAT_DBN)
        : decodeBeats(activations, first, last, LEARNED_BEAT_DBN);
    const beatsSec = decoder === 'dbn' ? dbn() : trackBeatsOnEnvelope(activations.beat.map((a) => a * a), activations.fps, notes, DEFAULT_BEAT_TRACKER);
    return { beatsSec, ...decodeDownbeats(noteActivations ?? activations, beatsSec) };
  }
  const beatsSec = trackBeats(notes, DEFAULT_BEAT_TRACKER);
  return { beatsSec, ...estimateMeter(notes, beatsSec, DEFAULT_METER) };
}

/** `'raw'`: the notes unchanged, with a nominal tempo (120 BPM, 4/4) and no key (CLI `--raw`). */
export function postprocess(t: Transcription, optionsOrRaw: PostprocessOptions | 'raw', context: PostprocessContext = {}): Score {
  const pedal = t.pedal?.map((p) => ({ ...p }));
  if (optionsOrRaw === 'raw') {
    const rawNotes = t.notes.map((n) => ({ ...n })).sort(byOnset);
    return { notes: rawNotes, ...(pedal ? { pedal } : {}), ...nominalTempoMap(), keys: [] };
  }
  const options = resolveOptions(optionsOrRaw);

  // Step 3 first: merged fragments would otherwise count as extra onsets for the beat tracker.
  let notes = notesAfterLengths(t, options);

  // Step 1.
  let beatsSec: number[] | undefined;
  let downbeatsSec: number[] | undefined;
  let tempoMap = nominalTempoMap();
  if (options.beatTracking) {
    const tracked = trackBeatsAndMeter(notes, options.beatTracker, context.beatActivations, DEFAULT_LEARNED_DECODER, context.noteActivations);
    if (tracked.beatsSec.length >= 2) {
      // The grid written to the MIDI file (and used for quantization): steady where the beats allow.
      // Quantizing to the steady grid cost 4 points of onset F1 on MAPS (63.3 -> 59.0, 1/16, strength
      // 1): with quantization on, the grid follows every tracked beat unless steadyTempo is asked for.
      const steady = options.steadyTempo && !(options.quantize && optionsOrRaw.steadyTempo === undefined);
      const grid = steady ? steadyBeats(tracked.beatsSec, options.steadyTempo || {}) : tracked.beatsSec;
      const indexOf = new Map(tracked.beatsSec.map((b, i) => [b, i]));
      beatsSec = grid;
      downbeatsSec = tracked.downbeatsSec.map((d) => grid[indexOf.get(d) ?? 0]);
      tempoMap = mergeRepeatedTempos(buildTempoMap(grid, tracked.beatsPerBar, tracked.firstDownbeatIndex));
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

export interface PostprocessAsyncOptions {
  /** The beat network to use (default: models/beats, loaded once per process). */
  beatModel?: BeatModel | (() => Promise<BeatModel>);
  /** The note-level model: fused beats, downbeats and meter (default: models/beats-notes; null: the beat network alone). */
  meterModel?: NoteBeatModel | (() => Promise<NoteBeatModel>) | null;
}

/**
 * `postprocess` with the learned beat tracker: runs the beat network on the notes first. When the
 * model cannot be loaded (not installed, or a bundle without onnxruntime) the hand-made tracker is
 * used instead, so the result is always a usable score.
 */
export async function postprocessAsync(
  t: Transcription,
  optionsOrRaw: PostprocessOptions | 'raw',
  opts: PostprocessAsyncOptions = {},
): Promise<Score> {
  if (optionsOrRaw === 'raw') return postprocess(t, 'raw');
  const options = resolveOptions(optionsOrRaw);
  if (!options.beatTracking || options.beatTracker !== 'learned' || t.notes.length < 2) return postprocess(t, optionsOrRaw);
  let beatActivations: BeatActivations | undefined;
  const notes = notesAfterLengths(t, options);
  try {
    const model = typeof opts.beatModel === 'function' ? await opts.beatModel() : (opts.beatModel ?? (await defaultBeatModel()));
    beatActivations = await model.activations(notes);
  } catch {
    beatActivations = undefined; // hand-made tracker below
  }
  let noteActivations: BeatActivations | undefined;
  if (beatActivations && opts.meterModel !== null) {
    try {
      const model = typeof opts.meterModel === 'function' ? await opts.meterModel() : (opts.meterModel ?? (await defaultNoteBeatModel()));
      noteActivations = await model.activations(notes);
    } catch {
      noteActivations = undefined; // the beat network alone
    }
  }
  return postprocess(t, optionsOrRaw, { ...(beatActivations ? { beatActivations } : {}), ...(noteActivations ? { noteActivations } : {}) });
}
