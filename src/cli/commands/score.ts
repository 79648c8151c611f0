/**
 * `stemscribe score <reference> <estimate>`: mir_eval-identical note metrics and 10 ms frame
 * metrics of an estimated transcription against a reference, printed as JSON.
 */
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { FRAME_HOP_SEC, frameMetrics, type FrameScores } from '../../eval/frames.js';
import { readNotesFile } from '../../eval/io.js';
import { evaluateNotes, type MatchOptions, type PrfoScores, type PrfScores } from '../../eval/transcription.js';
import type { Note } from '../../types.js';

export interface ScoreReport {
  reference: { path: string; notes: number };
  estimate: { path: string; notes: number };
  settings: {
    onsetToleranceSec: number;
    pitchToleranceCents: number;
    offsetRatio: number;
    offsetMinToleranceSec: number;
    velocityTolerance: number;
    frameHopSec: number;
  };
  note: {
    /** Onset (50 ms) + pitch (50 cents). */
    onset: PrfoScores;
    /** Onset + pitch + offset (20% of duration, at least 50 ms). */
    onsetOffset: PrfoScores;
    /** Onset + pitch + velocity (mir_eval.transcription_velocity). */
    onsetVelocity: PrfoScores;
    onsetOffsetVelocity: PrfoScores;
    /** Onset alone / offset alone, any pitch. */
    onsetAnyPitch: PrfScores;
    offsetAnyPitch: PrfScores;
  };
  frame: FrameScores;
  warnings: string[];
}

export interface ScoreOptions {
  onsetToleranceSec?: number;
  pitchToleranceCents?: number;
  offsetRatio?: number;
  offsetMinToleranceSec?: number;
  velocityTolerance?: number;
  frameHopSec?: number;
}

/** Scores two note lists (pure; the command reads files and prints this). */
export function scoreNotes(
  reference: readonly Note[],
  estimate: readonly Note[],
  paths: { reference: string; estimate: string },
  options: ScoreOptions = {},
): ScoreReport {
  const settings = {
    onsetToleranceSec: options.onsetToleranceSec ?? 0.05,
    pitchToleranceCents: options.pitchToleranceCents ?? 50,
    offsetRatio: options.offsetRatio ?? 0.2,
    offsetMinToleranceSec: options.offsetMinToleranceSec ?? 0.05,
    velocityTolerance: options.velocityTolerance ?? 0.1,
    frameHopSec: options.frameHopSec ?? FRAME_HOP_SEC,
  };
  const match: MatchOptions = { ...settings };
  const m = evaluateNotes(reference, estimate, match);
  return {
    reference: { path: paths.reference, notes: reference.length },
    estimate: { path: paths.estimate, notes: estimate.length },
    settings,
    note: {
      onset: m.onsetOnly,
      onsetOffset: m.withOffset,
      onsetVelocity: m.onsetVelocity,
      onsetOffsetVelocity: m.withOffsetVelocity,
      onsetAnyPitch: m.onsetAnyPitch,
      offsetAnyPitch: m.offsetAnyPitch,
    },
    frame: frameMetrics(reference, estimate, settings.frameHopSec),
    warnings: m.warnings,
  };
}

function positiveNumber(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got "${value}".`);
    return n;
  };
}

export function registerScoreCommand(program: Command): void {
  program
    .command('score')
    .description(
      'Compare an estimated transcription with a reference (each a .mid or a .tsv of "onset offset note velocity") ' +
        'and print mir_eval note metrics and 10 ms frame metrics as JSON.',
    )
    .argument('<reference>', 'reference notes (.mid, .tsv)')
    .argument('<estimate>', 'estimated notes (.mid, .tsv)')
    .option('--onset-tolerance <sec>', 'onset tolerance in seconds', positiveNumber('--onset-tolerance'), 0.05)
    .option('--pitch-tolerance <cents>', 'pitch tolerance in cents', positiveNumber('--pitch-tolerance'), 50)
    .option('--offset-ratio <ratio>', 'offset tolerance as a fraction of the reference duration', positiveNumber('--offset-ratio'), 0.2)
    .option('--offset-min-tolerance <sec>', 'smallest offset tolerance in seconds', positiveNumber('--offset-min-tolerance'), 0.05)
    .option('--frame-hop <sec>', 'frame grid for the frame metrics, seconds', positiveNumber('--frame-hop'), FRAME_HOP_SEC)
    .action(async (referencePath: string, estimatePath: string, opts: Record<string, number>) => {
      const [reference, estimate] = await Promise.all([readNotesFile(referencePath), readNotesFile(estimatePath)]);
      const report = scoreNotes(reference, estimate, { reference: referencePath, estimate: estimatePath }, {
        onsetToleranceSec: opts.onsetTolerance,
        pitchToleranceCents: opts.pitchTolerance,
        offsetRatio: opts.offsetRatio,
        offsetMinToleranceSec: opts.offsetMinTolerance,
        frameHopSec: opts.frameHop,
      });
      for (const w of report.warnings) process.stderr.write(`stemscribe: warning: ${w}\n`);
      process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    });
}
