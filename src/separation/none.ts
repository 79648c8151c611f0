/**
 * Pass-through "separator" for solo recordings (e.g. solo piano): the whole mix becomes `other`
 * (the stem the transcriber reads) and the other stems are silent, at the input's length,
 * channel count and sample rate.
 */
import type { AudioData, Separator, StageOptions, Stems } from '../types.js';

export class NoneSeparator implements Separator {
  public readonly info = { name: 'none', version: '1', license: 'n/a (no model)' } as const;

  public async separate(audio: AudioData, options?: StageOptions): Promise<Stems> {
    options?.onProgress?.(0);
    const silent = (): AudioData => ({
      sampleRateHz: audio.sampleRateHz,
      channels: audio.channels.map((ch) => new Float32Array(ch.length)),
    });
    const stems: Stems = { vocals: silent(), drums: silent(), bass: silent(), other: audio };
    options?.onProgress?.(1);
    return stems;
  }
}
