import { readFileSync } from 'node:fs';

/** The parity clip that training/export.py rendered (16-bit little-endian PCM), as floats. */
export function loadPianoParityClip(): Float32Array {
  const bytes = readFileSync(new URL('../transcription/fixtures/piano-parity.s16', import.meta.url));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(bytes.byteLength / 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getInt16(2 * i, true) / 32768;
  return out;
}
