import { describe, expect, it } from 'vitest';
import { createSeparator } from '../../src/separation/index.js';
import { STEM_NAMES, type AudioData } from '../../src/types.js';

describe('none separator', () => {
  it('passes the mix through as `other` and returns silent stems of the same shape', async () => {
    const audio: AudioData = {
      sampleRateHz: 22_050,
      channels: [Float32Array.from([0.1, -0.2, 0.3]), Float32Array.from([0.5, 0.6, -0.7])],
    };
    const progress: number[] = [];
    const sep = await createSeparator('none');
    expect(sep.info.name).toBe('none');
    const stems = await sep.separate(audio, { onProgress: (f) => progress.push(f) });
    expect(Object.keys(stems).sort()).toEqual([...STEM_NAMES].sort());
    expect(stems.other.sampleRateHz).toBe(22_050);
    expect(stems.other.channels).toEqual(audio.channels);
    for (const name of ['vocals', 'drums', 'bass'] as const) {
      expect(stems[name].sampleRateHz).toBe(22_050);
      expect(stems[name].channels).toHaveLength(2);
      for (const ch of stems[name].channels) expect(ch).toEqual(new Float32Array(3));
    }
    expect(progress.at(-1)).toBe(1);
  });

  it('keeps mono mono', async () => {
    const sep = await createSeparator('none');
    const stems = await sep.separate({ sampleRateHz: 16_000, channels: [new Float32Array(10).fill(0.25)] });
    expect(stems.drums.channels).toHaveLength(1);
    expect(stems.other.channels[0][9]).toBe(0.25);
  });

  it('rejects an unknown separator name with the list of known ones', async () => {
    // @ts-expect-error: deliberately not a SeparatorName
    await expect(createSeparator('spleeter')).rejects.toThrow(/htdemucs, none/);
  });
});
