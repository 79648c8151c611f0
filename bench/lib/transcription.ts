/**
 * Transcription on the 14 real MAPS ENSTDkCl recordings (Disklavier, close microphones; validation
 * only): note P/R/F1 (onset; onset + offset), frame F1 (10 ms) and speed, per transcriber.
 * `--quick`: the first 30 s of 3 pieces.
 */
import { frameMetrics } from '../../src/eval/frames.js';
import { readNotesFile } from '../../src/eval/io.js';
import { evaluateNotes } from '../../src/eval/transcription.js';
import type { Note } from '../../src/types.js';
import { cropAudio, cropNotes, durationSec, listMaps, loadAudio, MAPS_DIR } from './data.js';
import { mean, num, pct, table } from './markdown.js';
import { timed } from './modules.js';
import { availableTranscribers } from './transcribers.js';

export interface TranscriptionRow {
  transcriber: string;
  piece: string;
  audioSec: number;
  refNotes: number;
  estNotes: number;
  onset: { precision: number; recall: number; f1: number };
  onsetOffset: { precision: number; recall: number; f1: number };
  onsetOffsetVelocityF1: number;
  frame: { precision: number; recall: number; f1: number };
  processSec: number;
  speedXRealTime: number;
}

export interface TranscriptionSection {
  rows: TranscriptionRow[];
  skipped: string[];
  markdown: string;
}

/** The note and frame scores of one estimate (shared with the end-to-end section). */
export function scoreTranscription(reference: readonly Note[], estimate: readonly Note[]): Pick<TranscriptionRow, 'onset' | 'onsetOffset' | 'onsetOffsetVelocityF1' | 'frame'> {
  const m = evaluateNotes(reference, estimate);
  const f = frameMetrics(reference, estimate);
  const prf = (s: { precision: number; recall: number; f1: number }): { precision: number; recall: number; f1: number } => ({
    precision: s.precision,
    recall: s.recall,
    f1: s.f1,
  });
  return { onset: prf(m.onsetOnly), onsetOffset: prf(m.withOffset), onsetOffsetVelocityF1: m.withOffsetVelocity.f1, frame: prf(f) };
}

export async function runTranscriptionSection(quick: boolean, log: (s: string) => void): Promise<TranscriptionSection> {
  const skipped: string[] = [];
  const pieces = listMaps();
  if (pieces.length === 0) return { rows: [], skipped: [`MAPS not found at ${MAPS_DIR}`], markdown: `_Skipped: MAPS not found at ${MAPS_DIR}._` };
  const chosen = quick ? pieces.filter((_, i) => i % 5 === 0).slice(0, 3) : pieces;
  const excerptSec = quick ? 30 : undefined;
  const available = await availableTranscribers();
  if (!available.create) return { rows: [], skipped: [available.reason ?? 'no transcribers'], markdown: `_Skipped: ${available.reason}._` };
  const rows: TranscriptionRow[] = [];
  for (const name of available.names) {
    let transcriber;
    try {
      transcriber = await available.create(name);
    } catch (e) {
      skipped.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
      log(`  transcriber ${name} not available: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    try {
      for (const piece of chosen) {
        const audio = cropAudio(await loadAudio(piece.audioPath), 0, excerptSec);
        const reference = cropNotes(await readNotesFile(piece.notesPath), 0, excerptSec);
        // MAPS is solo piano: the transcriber's `solo` decoding profile, as `--separator none` uses.
        const { value, sec } = await timed(() => transcriber.transcribe(audio, { source: 'solo' }));
        const audioSec = durationSec(audio);
        const row: TranscriptionRow = {
          transcriber: name,
          piece: piece.name,
          audioSec,
          refNotes: reference.length,
          estNotes: value.notes.length,
          ...scoreTranscription(reference, value.notes),
          processSec: sec,
          speedXRealTime: audioSec / sec,
        };
        rows.push(row);
        log(`  ${name} ${piece.name} (${audioSec.toFixed(0)} s): onset F1 ${pct(row.onset.f1)}, +offset ${pct(row.onsetOffset.f1)}, frame ${pct(row.frame.f1)}, ${num(row.speedXRealTime, 1)}x RT`);
      }
    } finally {
      await transcriber.dispose?.();
    }
  }
  return { rows, skipped, markdown: transcriptionMarkdown(rows, chosen.length, excerptSec, skipped) };
}

function transcriptionMarkdown(rows: TranscriptionRow[], nbPieces: number, excerptSec: number | undefined, skipped: string[]): string {
  const names = [...new Set(rows.map((r) => r.transcriber))];
  const summary = names.map((name) => {
    const rs = rows.filter((r) => r.transcriber === name);
    const audio = rs.reduce((a, r) => a + r.audioSec, 0);
    const proc = rs.reduce((a, r) => a + r.processSec, 0);
    const m = (f: (r: TranscriptionRow) => number): string => pct(mean(rs.map(f)));
    return [
      name,
      `${rs.length}`,
      `${(audio / 60).toFixed(1)}`,
      `${rs.reduce((a, r) => a + r.estNotes, 0)} / ${rs.reduce((a, r) => a + r.refNotes, 0)}`,
      m((r) => r.onset.precision),
      m((r) => r.onset.recall),
      m((r) => r.onset.f1),
      m((r) => r.onsetOffset.precision),
      m((r) => r.onsetOffset.recall),
      m((r) => r.onsetOffset.f1),
      m((r) => r.onsetOffsetVelocityF1),
      m((r) => r.frame.f1),
      num(audio / proc, 1),
    ];
  });
  const scope = excerptSec === undefined ? `${nbPieces} full pieces` : `first ${excerptSec} s of ${nbPieces} pieces`;
  const perPiece = rows.map((r) => [r.transcriber, r.piece, r.audioSec.toFixed(0), pct(r.onset.f1), pct(r.onsetOffset.f1), pct(r.frame.f1), num(r.speedXRealTime, 1)]);
  return [
    `MAPS ENSTDkCl (real Disklavier recordings), ${scope}; mean over pieces, %. Note metrics as mir_eval (onset 50 ms, pitch 50 cents; offset max(20 %, 50 ms)); frame F1 on a 10 ms grid.`,
    '',
    table(
      ['transcriber', 'pieces', 'audio (min)', 'notes est / ref', 'onset P', 'onset R', 'onset F1', 'on+off P', 'on+off R', 'on+off F1', 'on+off+vel F1', 'frame F1', 'speed (x real time)'],
      summary,
    ),
    '',
    '<details><summary>Per piece</summary>',
    '',
    table(['transcriber', 'piece', 'audio (s)', 'onset F1', 'on+off F1', 'frame F1', 'speed (x RT)'], perPiece),
    '',
    '</details>',
    ...(skipped.length > 0 ? ['', `Skipped: ${skipped.join('; ')}`] : []),
  ].join('\n');
}
