/** Paths to the shared evaluation data and small helpers to load and crop it. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeAudio } from '../../src/audio/decode.js';
import type { AudioData, Note } from '../../src/types.js';

export const SHARED_DATA = fileURLToPath(new URL('../../../shared/data/', import.meta.url));
export const MAPS_DIR = join(SHARED_DATA, 'eval/maps-enstdkcl');
export const MUSDB_DIR = join(SHARED_DATA, 'eval/musdb18-sample');

export interface MapsPiece {
  name: string;
  audioPath: string;
  notesPath: string;
}

export function listMaps(): MapsPiece[] {
  if (!existsSync(MAPS_DIR)) return [];
  return readdirSync(MAPS_DIR)
    .filter((f) => f.endsWith('.flac'))
    .sort()
    .map((f) => {
      const base = f.replace(/\.flac$/, '');
      return { name: base.replace(/^MAPS_MUS-/, '').replace(/_ENSTDkCl$/, ''), audioPath: join(MAPS_DIR, f), notesPath: join(MAPS_DIR, `${base}.tsv`) };
    })
    .filter((p) => existsSync(p.notesPath));
}

export async function loadAudio(path: string): Promise<AudioData> {
  // Full MAPS pieces are long: lift the product's upload limits for evaluation data.
  return decodeAudio(new Uint8Array(readFileSync(path)), { fileName: path, limits: { maxDurationSec: 24 * 3600, maxBytes: 2 ** 31 } });
}

export const durationSec = (a: AudioData): number => (a.channels[0]?.length ?? 0) / a.sampleRateHz;

/** The first `seconds` of the audio (all of it when undefined or longer). */
export function cropAudio(a: AudioData, startSec: number, seconds: number | undefined): AudioData {
  const start = Math.round(startSec * a.sampleRateHz);
  const end = seconds === undefined ? undefined : start + Math.round(seconds * a.sampleRateHz);
  return { sampleRateHz: a.sampleRateHz, channels: a.channels.map((c) => c.slice(start, end)) };
}

/**
 * Reference notes of an excerpt [startSec, startSec + seconds): notes starting inside it, shifted
 * to the excerpt's time and with offsets clipped to its end (the audio stops there).
 */
export function cropNotes(notes: readonly Note[], startSec: number, seconds: number | undefined): Note[] {
  const end = seconds === undefined ? Infinity : startSec + seconds;
  return notes
    .filter((n) => n.onsetSec >= startSec && n.onsetSec < end - 0.01)
    .map((n) => ({ ...n, onsetSec: n.onsetSec - startSec, offsetSec: Math.min(n.offsetSec, end) - startSec }));
}
