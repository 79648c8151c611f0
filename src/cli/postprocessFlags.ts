/**
 * Command-line flags for the post-processing step (commander), validated with zod into
 * `PostprocessOptions`. `--raw` belongs to the main command; this module only adds the knobs.
 */
import { Command, Option } from 'commander';
import { z } from 'zod';
import { StemscribeError } from '../errors.js';
import { KEY_PROFILE_NAMES } from '../postprocess/key.js';
import { DEFAULT_KEY_FILTER, DEFAULT_POSTPROCESS, type PostprocessOptions } from '../postprocess/index.js';
import { DEFAULT_NOTE_LENGTHS } from '../postprocess/noteLengths.js';
import { QUANTIZE_GRIDS } from '../postprocess/quantize.js';
import { DEFAULT_VELOCITY, VELOCITY_MODES } from '../postprocess/velocity.js';

const DEFAULT_CHORD_WINDOW_MS = 30;
const BEAT_TRACKERS = ['learned', 'handmade'] as const;

export function addPostprocessOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--quantize <grid>', `quantize note onsets to a subdivision of the tracked beats (${QUANTIZE_GRIDS.join(', ')})`),
    )
    .addOption(
      new Option('--quantize-strength <0..1>', 'how far onsets move toward the grid (default 1 = snap exactly; alone it implies --quantize 1/16)'),
    )
    .addOption(
      new Option(
        '--align-chords [ms]',
        `notes starting within this many ms start together (on by default with --quantize, ${DEFAULT_CHORD_WINDOW_MS} ms)`,
      ),
    )
    .addOption(new Option('--no-beat-tracking', 'write a nominal 120 BPM 4/4 tempo instead of the tracked beats'))
    .addOption(
      new Option(
        '--beat-tracker <name>',
        "beat tracker: 'learned' (default; its weights are CC BY-NC-SA, non-commercial) or 'handmade'",
      ).choices([...BEAT_TRACKERS]),
    )
    .addOption(
      new Option('--min-note-ms <ms>', 'lengthen shorter notes to this duration (0 = off)').default(
        String(DEFAULT_NOTE_LENGTHS.minDurationSec * 1000),
      ),
    )
    .addOption(
      new Option('--merge-gap-ms <ms>', 'merge same-pitch fragments separated by at most this gap (0 = off)').default(
        String(DEFAULT_NOTE_LENGTHS.mergeGapSec * 1000),
      ),
    )
    .addOption(new Option('--legato', 'extend each note to the next onset'))
    .addOption(new Option('--pedal-lengths', 'hold notes through the predicted sustain pedal (the MIDI file has the pedal as CC 64 either way; for players that ignore it)'))
    .addOption(new Option('--no-key', 'do not estimate the key (no key signature in the MIDI file)'))
    .addOption(
      new Option('--key-profile <name>', 'pitch-class profile for the key estimate').choices([...KEY_PROFILE_NAMES]),
    )
    .addOption(new Option('--key-filter', 'drop short, low-confidence notes outside the estimated key'))
    .addOption(
      new Option('--velocity <mode>', 'velocities: as the model predicts, range-compressed, or normalised').choices([
        ...VELOCITY_MODES,
      ]),
    );
}

const numberFrom = (name: string, min: number, max: number) =>
  z.union([z.string(), z.number()]).transform((value, ctx) => {
    const n = typeof value === 'number' ? value : Number(value.trim());
    if (value === '' || !Number.isFinite(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: `${name} must be a number from ${min} to ${max}, got '${value}'` });
      return z.NEVER;
    }
    return n;
  });

const flagsSchema = z.object({
  quantize: z
    .string()
    .refine((g) => (QUANTIZE_GRIDS as readonly string[]).includes(g), {
      message: `--quantize must be one of ${QUANTIZE_GRIDS.join(', ')}`,
    })
    .optional(),
  quantizeStrength: numberFrom('--quantize-strength', 0, 1).optional(),
  alignChords: z.union([z.literal(true), numberFrom('--align-chords', 1, 200)]).optional(),
  beatTracking: z.boolean().optional(),
  beatTracker: z.enum(BEAT_TRACKERS).optional(),
  minNoteMs: numberFrom('--min-note-ms', 0, 2000).optional(),
  mergeGapMs: numberFrom('--merge-gap-ms', 0, 500).optional(),
  legato: z.boolean().optional(),
  pedalLengths: z.boolean().optional(),
  key: z.boolean().optional(),
  keyProfile: z
    .string()
    .refine((p) => (KEY_PROFILE_NAMES as readonly string[]).includes(p), {
      message: `--key-profile must be one of ${KEY_PROFILE_NAMES.join(', ')}`,
    })
    .optional(),
  keyFilter: z.boolean().optional(),
  velocity: z
    .string()
    .refine((m) => (VELOCITY_MODES as readonly string[]).includes(m), {
      message: `--velocity must be one of ${VELOCITY_MODES.join(', ')}`,
    })
    .optional(),
});

/** Thrown for an invalid flag value; the message lists the allowed values. */
export class PostprocessFlagError extends StemscribeError {
  public constructor(message: string) {
    super(message, 'postprocess');
    this.name = 'PostprocessFlagError';
  }
}

/**
 * Commander's parsed flags (camelCase keys; unrelated keys are ignored) -> PostprocessOptions.
 * Throws `PostprocessFlagError` naming the flag and its allowed values.
 */
export function postprocessOptionsFromCli(opts: Record<string, unknown>): PostprocessOptions {
  const picked = Object.fromEntries(Object.keys(flagsSchema.shape).map((k) => [k, opts[k]]).filter(([, v]) => v !== undefined));
  const parsed = flagsSchema.safeParse(picked);
  if (!parsed.success) {
    throw new PostprocessFlagError(parsed.error.issues.map((i) => i.message).join('; '));
  }
  const f = parsed.data;
  const grid = (f.quantize ?? (f.quantizeStrength !== undefined ? '1/16' : undefined)) as (typeof QUANTIZE_GRIDS)[number] | undefined;
  const chordWindowMs =
    f.alignChords === true ? DEFAULT_CHORD_WINDOW_MS : typeof f.alignChords === 'number' ? f.alignChords : grid ? DEFAULT_CHORD_WINDOW_MS : 0;
  const baseKey = DEFAULT_POSTPROCESS.key;
  const profile = (f.keyProfile as (typeof KEY_PROFILE_NAMES)[number] | undefined) ?? (baseKey ? baseKey.profile : 'temperley');
  return {
    beatTracking: f.beatTracking ?? DEFAULT_POSTPROCESS.beatTracking,
    ...(f.beatTracker ? { beatTracker: f.beatTracker } : {}),
    chordAlign: chordWindowMs > 0 ? { windowSec: chordWindowMs / 1000 } : false,
    quantize: grid ? { grid, strength: f.quantizeStrength ?? 1 } : false,
    noteLengths: {
      ...DEFAULT_NOTE_LENGTHS,
      ...(f.minNoteMs !== undefined ? { minDurationSec: f.minNoteMs / 1000 } : {}),
      ...(f.mergeGapMs !== undefined ? { mergeGapSec: f.mergeGapMs / 1000 } : {}),
      legato: f.legato ?? DEFAULT_NOTE_LENGTHS.legato,
      pedal: f.pedalLengths ?? DEFAULT_NOTE_LENGTHS.pedal,
    },
    key: f.key === false ? false : { profile, filter: f.keyFilter ? DEFAULT_KEY_FILTER : false },
    velocity: { ...DEFAULT_VELOCITY, ...(f.velocity ? { mode: f.velocity as (typeof VELOCITY_MODES)[number] } : {}) },
  };
}
