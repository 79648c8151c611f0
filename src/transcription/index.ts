/**
 * Transcriber registry: the names the CLI and the cloud stages accept, and their factories.
 */
import type { Transcriber } from '../types.js';
import { BasicPitchTranscriber } from './basicPitch.js';
import { PianoEnsembleTranscriber } from './ensemble.js';
import { PianoTranscriber } from './piano.js';

export const TRANSCRIBER_NAMES = ['basic-pitch', 'piano', 'piano-ensemble'] as const;
export type TranscriberName = (typeof TRANSCRIBER_NAMES)[number];

/** The default: best onset and offset note F1 on the real MAPS recordings (`npm run bench`, models/piano/MODEL_CARD.md). */
export const DEFAULT_TRANSCRIBER: TranscriberName = 'piano-ensemble';

export interface TranscriberOptions {
  /** onnxruntime intra-op threads; default: onnxruntime's choice (all cores). */
  intraOpNumThreads?: number;
}

/** Loads a transcriber's model. Throws `ModelError` when the model file is missing or corrupt. */
export async function createTranscriber(name: TranscriberName, opts: TranscriberOptions = {}): Promise<Transcriber> {
  switch (name) {
    case 'basic-pitch':
      return BasicPitchTranscriber.create({ intraOpNumThreads: opts.intraOpNumThreads });
    case 'piano':
      return PianoTranscriber.create({ intraOpNumThreads: opts.intraOpNumThreads });
    case 'piano-ensemble':
      return PianoEnsembleTranscriber.create({ intraOpNumThreads: opts.intraOpNumThreads });
    default: {
      const unknown: never = name;
      throw new Error(`Unknown transcriber '${String(unknown)}'; choose one of ${TRANSCRIBER_NAMES.join(', ')}.`);
    }
  }
}
