/**
 * FLAC header reading: STREAMINFO gives rate, channels and the total sample count before any
 * decoding, so the duration limit is checked up front and a truncated file is caught by comparing
 * the decoded count with the promised one (the wasm decoder itself stops quietly at the cut).
 */

export interface FlacInfo {
  sampleRateHz: number;
  numChannels: number;
  bitsPerSample: number;
  /** Samples per channel; 0 means the encoder did not know (streamed FLAC). */
  totalSamples: number;
  /** Offset of the first audio frame; NaN when the file ends inside the metadata. */
  audioOffset: number;
}

/** `b` starts with "fLaC". Returns undefined when STREAMINFO is missing or cut. */
export function parseFlacHeader(b: Uint8Array): FlacInfo | undefined {
  if (b.length < 8 + 34 || (b[4] & 0x7f) !== 0) return undefined;
  const s = 8; // STREAMINFO body
  const sampleRateHz = (b[s + 10] << 12) | (b[s + 11] << 4) | (b[s + 12] >> 4);
  const numChannels = ((b[s + 12] >> 1) & 0x07) + 1;
  const bitsPerSample = (((b[s + 12] & 1) << 4) | (b[s + 13] >> 4)) + 1;
  const totalSamples =
    (b[s + 13] & 0x0f) * 2 ** 32 + ((b[s + 14] << 24) >>> 0) + (b[s + 15] << 16) + (b[s + 16] << 8) + b[s + 17];
  // Walk the metadata blocks to find where the audio starts.
  let p = 4;
  let audioOffset = NaN;
  while (p + 4 <= b.length) {
    const last = (b[p] & 0x80) !== 0;
    const len = (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3];
    p += 4 + len;
    if (last) {
      if (p <= b.length) audioOffset = p;
      break;
    }
  }
  return { sampleRateHz, numChannels, bitsPerSample, totalSamples, audioOffset };
}
