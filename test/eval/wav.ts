import { readFileSync } from 'node:fs';

/**
 * Minimal 16-bit PCM WAV reader for the mir_eval fixtures, mirroring `mir_eval.io.load_wav`
 * (mono=True): samples / 2**15, channels averaged.
 */
export function loadWavMono(path: URL | string): { sampleRateHz: number; samples: Float64Array } {
  const buf = readFileSync(path);
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error(`${String(path)}: not a WAV file`);
  let offset = 12;
  let channels = 0;
  let sampleRateHz = 0;
  let bits = 0;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(body + 2);
      sampleRateHz = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (bits !== 16) throw new Error(`${String(path)}: only 16-bit PCM is supported, got ${bits}`);
      const frames = Math.floor(size / (2 * channels));
      const samples = new Float64Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += buf.readInt16LE(body + 2 * (i * channels + c)) / 32768;
        samples[i] = sum / channels;
      }
      return { sampleRateHz, samples };
    }
    offset = body + size + (size % 2);
  }
  throw new Error(`${String(path)}: no data chunk`);
}
