/**
 * Separator factory: `htdemucs` (HTDemucs v4, four stems), `unmix` (stemscribe's own
 * open-unmix-style model, models/unmix) or `none` (pass-through for solo recordings). The model is loaded lazily here so `none` never touches onnxruntime.
 */
import type { Separator } from '../types.js';
import { NoneSeparator } from './none.js';

export type SeparatorName = 'htdemucs' | 'unmix' | 'none';

export const SEPARATOR_NAMES: readonly SeparatorName[] = ['htdemucs', 'none', 'unmix'];

export interface SeparatorOptions {
  /** onnxruntime intra-op threads; default: onnxruntime's choice (all physical cores). */
  intraOpNumThreads?: number;
  /** `cuda` needs onnxruntime-node's CUDA 12 binaries (see htdemucs.ts); default `cpu`. */
  executionProvider?: 'cpu' | 'cuda';
}

export async function createSeparator(name: SeparatorName, opts: SeparatorOptions = {}): Promise<Separator> {
  switch (name) {
    case 'none':
      return new NoneSeparator();
    case 'htdemucs': {
      const { HTDemucsSeparator } = await import('./htdemucs.js');
      return HTDemucsSeparator.create(opts);
    }
    case 'unmix': {
      const { UnmixSeparator } = await import('./unmix.js');
      return UnmixSeparator.create({ intraOpNumThreads: opts.intraOpNumThreads });
    }
    default: {
      const unknown: never = name;
      throw new RangeError(`Unknown separator '${String(unknown)}'. Supported: ${SEPARATOR_NAMES.join(', ')}.`);
    }
  }
}
