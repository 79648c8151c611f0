/**
 * Post-processing benchmark (`npx tsx bench/postprocess.ts [--quick]`).
 *
 * 1. Beat tracking on ASAP performance MIDI: beat F-measure (70 ms, as mir_eval.beat.f_measure),
 *    downbeat F-measure, tempo accuracy (MIREX ACC1/ACC2 on the median tempo), meter guess.
 * 2. Key estimation on ASAP key annotations, for each pitch-class profile (MIREX weighted score).
 * 3. Each post-processing step's effect on note P/R/F1 on the 14 MAPS ENSTDkCl recordings,
 *    transcribed with the project's basic-pitch transcriber (transcriptions cached in /tmp).
 *
 * `runPostprocessBench({ quick })` returns the markdown tables, for `npm run bench`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMidiNotes } from '../src/midi/decode.js';
import { trackBeats } from '../src/postprocess/beats.js';
import { estimateMeter } from '../src/postprocess/meter.js';
import { estimateKey, KEY_PROFILE_NAMES, type KeyProfileName } from '../src/postprocess/key.js';
import { keyFromSignature } from '../src/postprocess/keyNames.js';
import {
  beatFMeasure,
  medianTempoBpm,
  mirexKeyScore,
  tempoAccuracy,
  type KeyLabel,
} from '../src/postprocess/metrics.js';
import type { Note } from '../src/types.js';

const SHARED_DATA = fileURLToPath(new URL('../../shared/data/', import.meta.url));
export const ASAP_DIR = join(SHARED_DATA, 'midi/asap');
export const MAPS_DIR = join(SHARED_DATA, 'eval/maps-enstdkcl');

export interface AsapAnnotations {
  beatsSec: number[];
  downbeatsSec: number[];
  /** Beats per bar of the first time signature (ASAP counts 6/8 as 2 beats). */
  firstBeatsPerBar: number | undefined;
  firstTimeSignature: string | undefined;
  /** Key signature (sharps > 0, flats < 0) at the start, if annotated. */
  firstKeySignature: number | undefined;
}

/** Parses an ASAP `*_annotations.txt` (time, time, label[,time signature[,key signature]]). */
export function parseAsapAnnotations(text: string): AsapAnnotations {
  const beatsSec: number[] = [];
  const downbeatsSec: number[] = [];
  let firstTimeSignature: string | undefined;
  let firstKeySignature: number | undefined;
  for (const line of text.split('\n')) {
    const cols = line.trim().split('\t');
    if (cols.length < 3) continue;
    const t = Number(cols[0]);
    const [kind, ts, ks] = cols[2].split(',');
    if (kind.startsWith('b') || kind === 'db') beatsSec.push(t);
    if (kind === 'db') downbeatsSec.push(t);
    if (firstTimeSignature === undefined && ts) firstTimeSignature = ts;
    if (firstKeySignature === undefined && ks !== undefined && ks !== '') firstKeySignature = Number(ks);
  }
  // Beats per bar of the first bar, counted from the annotation itself.
  let firstBeatsPerBar: number | undefined;
  if (downbeatsSec.length >= 2) {
    firstBeatsPerBar = beatsSec.filter((b) => b >= downbeatsSec[0] - 1e-6 && b < downbeatsSec[1] - 1e-6).length;
  }
  return { beatsSec, downbeatsSec, firstBeatsPerBar, firstTimeSignature, firstKeySignature };
}

export interface AsapItem {
  midiPath: string;
  name: string;
  annotations: AsapAnnotations;
}

/** ASAP performances that have annotations; `quick` takes every 8th (about 130). */
export function listAsap(quick: boolean): AsapItem[] {
  if (!existsSync(ASAP_DIR)) return [];
  const items: AsapItem[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.mid') && entry !== 'midi_score.mid') {
        const annPath = path.replace(/\.mid$/, '_annotations.txt');
        if (!existsSync(annPath)) continue;
        items.push({
          midiPath: path,
          name: relative(ASAP_DIR, path),
          annotations: parseAsapAnnotations(readFileSync(annPath, 'utf8')),
        });
      }
    }
  };
  walk(ASAP_DIR);
  return quick ? items.filter((_, i) => i % 8 === 0) : items;
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length;
}

const pct = (x: number): string => (100 * x).toFixed(1);

export interface BeatBenchRow {
  name: string;
  beatF: number;
  downbeatF: number;
  acc1: boolean;
  acc2: boolean;
  meterCorrect: boolean | undefined;
}

export function evaluateBeatsOn(item: AsapItem, notes: readonly Note[]): BeatBenchRow {
  const beats = trackBeats(notes);
  const meter = estimateMeter(notes, beats);
  const ref = item.annotations;
  const { acc1, acc2 } = tempoAccuracy(medianTempoBpm(ref.beatsSec), medianTempoBpm(beats));
  const refBeatsPerBar = ref.firstBeatsPerBar;
  // The meter guess distinguishes duple (2 or 4 beats) from triple (3) bars.
  const family = (n: number): string => (n % 3 === 0 ? 'triple' : n % 2 === 0 ? 'duple' : 'other');
  const meterCorrect =
    refBeatsPerBar === undefined || family(refBeatsPerBar) === 'other'
      ? undefined
      : family(refBeatsPerBar) === family(meter.beatsPerBar);
  return {
    name: item.name,
    beatF: beatFMeasure(ref.beatsSec, beats),
    downbeatF: beatFMeasure(ref.downbeatsSec, meter.downbeatsSec),
    acc1,
    acc2,
    meterCorrect,
  };
}

export function beatTable(rows: readonly BeatBenchRow[]): string {
  const meterRows = rows.filter((r) => r.meterCorrect !== undefined);
  return [
    '| ASAP performances | beat F (70 ms) | downbeat F | tempo ACC1 | tempo ACC2 | meter (duple/triple) correct |',
    '|---|---|---|---|---|---|',
    `| ${rows.length} | ${pct(mean(rows.map((r) => r.beatF)))} | ${pct(mean(rows.map((r) => r.downbeatF)))} | ` +
      `${pct(mean(rows.map((r) => (r.acc1 ? 1 : 0))))} | ${pct(mean(rows.map((r) => (r.acc2 ? 1 : 0))))} | ` +
      `${pct(mean(meterRows.map((r) => (r.meterCorrect ? 1 : 0))))} (${meterRows.length} pieces) |`,
  ].join('\n');
}

export function runBeatBench(quick: boolean): { rows: BeatBenchRow[]; table: string } {
  const rows: BeatBenchRow[] = [];
  for (const item of listAsap(quick)) {
    const notes = decodeMidiNotes(new Uint8Array(readFileSync(item.midiPath)));
    rows.push(evaluateBeatsOn(item, notes));
  }
  return { rows, table: beatTable(rows) };
}
