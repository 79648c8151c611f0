/**
 * Byte forms of the data that passes between stages when they run in separate processes (the
 * cloud passes S3 keys, never audio): audio as 32-bit float WAV (lossless for AudioData, readable
 * by any audio tool), transcriptions as JSON. Exact round trips; no resampling, no dithering.
 */
import { decodeWavSamples, encodeWav, parseWav } from '../audio/wav.js';
import type { AudioData, Note, PedalSpan, Transcription } from '../types.js';

/** AudioData -> 32-bit float WAV, bit for bit (the core's WAV writer). */
export function encodeWavFloat32(audio: AudioData): Uint8Array {
  return encodeWav(audio, { format: 'float32' });
}

/** Reads a stage's WAV back without the upload checks of `decodeStage` (it is our own file). */
export function decodeWavFloat32(bytes: Uint8Array, fileName = 'stage.wav'): AudioData {
  return decodeWavSamples(bytes, parseWav(bytes, fileName));
}

interface TranscriptionJson {
  notes: Note[];
  pedal?: PedalSpan[];
}

export function transcriptionToJson(transcription: Transcription): string {
  const out: TranscriptionJson = { notes: transcription.notes };
  if (transcription.pedal) out.pedal = transcription.pedal;
  return JSON.stringify(out);
}

const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function parseNote(value: unknown, index: number): Note {
  const n = value as Partial<Note> | null;
  if (
    !n ||
    !isFiniteNumber(n.onsetSec) ||
    !isFiniteNumber(n.offsetSec) ||
    !isFiniteNumber(n.pitchMidi) ||
    !isFiniteNumber(n.velocity) ||
    !isFiniteNumber(n.confidence)
  ) {
    throw new Error(`transcriptionFromJson: note ${index} is not {onsetSec, offsetSec, pitchMidi, velocity, confidence}`);
  }
  return { onsetSec: n.onsetSec, offsetSec: n.offsetSec, pitchMidi: n.pitchMidi, velocity: n.velocity, confidence: n.confidence };
}

export function transcriptionFromJson(text: string): Transcription {
  const parsed = JSON.parse(text) as Partial<TranscriptionJson> | null;
  if (!parsed || !Array.isArray(parsed.notes)) throw new Error('transcriptionFromJson: missing "notes" array');
  const out: Transcription = { notes: parsed.notes.map(parseNote) };
  if (Array.isArray(parsed.pedal)) {
    out.pedal = parsed.pedal.map((p, i) => {
      if (!isFiniteNumber(p?.onsetSec) || !isFiniteNumber(p?.offsetSec)) {
        throw new Error(`transcriptionFromJson: pedal span ${i} is not {onsetSec, offsetSec}`);
      }
      return { onsetSec: p.onsetSec, offsetSec: p.offsetSec };
    });
  }
  return out;
}
