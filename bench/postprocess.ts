/**
 * Post-processing benchmark (`npx tsx bench/postprocess.ts [--quick] [--val]`; `--val`: only the
 * beat tracking, on the validation pieces, where the beat decoder's settings are chosen).
 *
 * 1. Beat tracking on ASAP performance MIDI, hand-made vs learned tracker on the pieces held out from
 *    the beat model's training: beat F-measure (70 ms, as mir_eval.beat.f_measure), downbeat
 *    F-measure, tempo accuracy (MIREX ACC1/ACC2 on the median tempo), meter guess.
 * 2. Key estimation on ASAP key annotations, for each pitch-class profile (MIREX weighted score).
 * 3. Each post-processing step's effect on note P/R/F1 on the 14 MAPS ENSTDkCl recordings,
 *    transcribed with the pipeline's default transcriber (`--transcriber NAME` for another; cached in /tmp;
 *    `--steps` runs only this section).
 *
 * `runPostprocessBench({ quick })` returns the markdown tables, for `npm run bench`.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeMidiNotes } from '../src/midi/decode.js';
import { modelPath } from '../src/models/paths.js';
import { BeatModel, type BeatActivations } from '../src/postprocess/beatModel.js';
import { NoteBeatModel } from '../src/postprocess/noteBeatModel.js';
import { estimateKey, KEY_PROFILE_NAMES, type KeyProfileName } from '../src/postprocess/key.js';
import { keyFromSignature } from '../src/postprocess/keyNames.js';
import {
  beatFMeasure,
  medianTempoBpm,
  mirexKeyScore,
  tempoAccuracy,
  type KeyLabel,
} from '../src/postprocess/metrics.js';
import {
  DEFAULT_KEY_FILTER,
  DEFAULT_KEY_PROFILE,
  DEFAULT_LEARNED_DECODER,
  postprocess,
  trackBeatsAndMeter,
  type LearnedBeatDecoder,
  type PostprocessOptions,
} from '../src/postprocess/index.js';
import { DEFAULT_NOTE_LENGTHS, type NoteLengthOptions } from '../src/postprocess/noteLengths.js';
import { DEFAULT_VELOCITY } from '../src/postprocess/velocity.js';
import type { TranscriberName } from '../src/transcription/index.js';
import type { Note, Transcription } from '../src/types.js';

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

export type BeatTrackerName = 'handmade' | 'learned';

export function evaluateBeatsOn(
  item: AsapItem,
  notes: readonly Note[],
  tracker: BeatTrackerName = 'handmade',
  activations?: BeatActivations,
  decoder: LearnedBeatDecoder = DEFAULT_LEARNED_DECODER,
  noteActivations?: BeatActivations,
): BeatBenchRow {
  const tracked = trackBeatsAndMeter(notes, tracker, activations, decoder, noteActivations);
  const beats = tracked.beatsSec;
  const ref = item.annotations;
  const { acc1, acc2 } = tempoAccuracy(medianTempoBpm(ref.beatsSec), medianTempoBpm(beats));
  const refBeatsPerBar = ref.firstBeatsPerBar;
  // The meter guess distinguishes duple (2 or 4 beats) from triple (3) bars.
  const family = (n: number): string => (n % 3 === 0 ? 'triple' : n % 2 === 0 ? 'duple' : 'other');
  const meterCorrect =
    refBeatsPerBar === undefined || family(refBeatsPerBar) === 'other'
      ? undefined
      : family(refBeatsPerBar) === family(tracked.beatsPerBar);
  return {
    name: item.name,
    beatF: beatFMeasure(ref.beatsSec, beats),
    downbeatF: beatFMeasure(ref.downbeatsSec, tracked.downbeatsSec),
    acc1,
    acc2,
    meterCorrect,
  };
}

export function beatTableRow(label: string, rows: readonly BeatBenchRow[]): string {
  const meterRows = rows.filter((r) => r.meterCorrect !== undefined);
  return (
    `| ${label} | ${rows.length} | ${pct(mean(rows.map((r) => r.beatF)))} | ${pct(mean(rows.map((r) => r.downbeatF)))} | ` +
    `${pct(mean(rows.map((r) => (r.acc1 ? 1 : 0))))} | ${pct(mean(rows.map((r) => (r.acc2 ? 1 : 0))))} | ` +
    `${pct(mean(meterRows.map((r) => (r.meterCorrect ? 1 : 0))))} (${meterRows.length}) |`
  );
}

export function beatTable(rows: readonly BeatBenchRow[], label = 'hand-made'): string {
  return [BEAT_TABLE_HEAD, beatTableRow(label, rows)].join('\n');
}

const BEAT_TABLE_HEAD = [
  '| tracker | ASAP performances | beat F (70 ms) | downbeat F | tempo ACC1 | tempo ACC2 | meter (duple/triple) correct (n) |',
  '|---|---|---|---|---|---|---|',
].join('\n');

/** ASAP piece of a performance (folder without `_no_repeat`), as training/beats/data.py defines it. */
export function asapPiece(name: string): string {
  return dirname(name).replace(/_no_repeat$/, '');
}

/** Held-out folds of the beat model's split: `test` is reported, `val` chose checkpoint and decoder settings. */
export type BeatFold = 'test' | 'val';

/** The pieces of one held-out fold (never trained on), from the model's manifest (undefined: no model). */
export function heldOutBeatPieces(fold: BeatFold = 'test'): Set<string> | undefined {
  const path = fileURLToPath(new URL('../models/beats/manifest.json', import.meta.url));
  if (!existsSync(path)) return undefined;
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as { split?: { testPieces?: string[]; valPieces?: string[] } };
  return new Set((fold === 'val' ? manifest.split?.valPieces : manifest.split?.testPieces) ?? []);
}

export interface BeatBenchResult {
  rows: { handmade: BeatBenchRow[]; learned: BeatBenchRow[]; learnedDbn: BeatBenchRow[]; learnedDbnMeter: BeatBenchRow[]; handmadeAll: BeatBenchRow[] };
  table: string;
}

/**
 * Hand-made vs learned tracker on the held-out (test-fold) ASAP pieces; the full run also gives the
 * hand-made tracker on all performances (comparable with earlier reports). Beats are tracked on the
 * performance notes as decoded (no note-length step).
 */
export async function runBeatBench(quick: boolean, fold: BeatFold = 'test'): Promise<BeatBenchResult> {
  const all = listAsap(false);
  const heldOut = heldOutBeatPieces(fold);
  const test = heldOut ? all.filter((item) => heldOut.has(asapPiece(item.name))) : [];
  const items = quick ? test.filter((_, i) => i % 3 === 0) : test;
  const model = heldOut ? await BeatModel.create({ intraOpNumThreads: 1 }) : undefined;
  // The pipeline's downbeats and meter come from the note-level model when it is installed.
  const meterModel = heldOut ? await NoteBeatModel.create({ intraOpNumThreads: 1 }).catch(() => undefined) : undefined;
  const handmade: BeatBenchRow[] = [];
  const learned: BeatBenchRow[] = [];
  const learnedDbn: BeatBenchRow[] = [];
  const learnedDbnMeter: BeatBenchRow[] = [];
  try {
    for (const item of items) {
      const notes = decodeMidiNotes(new Uint8Array(readFileSync(item.midiPath)));
      handmade.push(evaluateBeatsOn(item, notes, 'handmade'));
      if (model) {
        const act = await model.activations(notes);
        learned.push(evaluateBeatsOn(item, notes, 'learned', act, 'dp'));
        learnedDbn.push(evaluateBeatsOn(item, notes, 'learned', act, 'dbn'));
        if (meterModel) learnedDbnMeter.push(evaluateBeatsOn(item, notes, 'learned', act, 'dbn', await meterModel.activations(notes)));
      }
    }
  } finally {
    await model?.dispose();
    await meterModel?.dispose();
  }
  const handmadeAll: BeatBenchRow[] = [];
  if (!quick && fold === 'test') {
    for (const item of all) handmadeAll.push(evaluateBeatsOn(item, decodeMidiNotes(new Uint8Array(readFileSync(item.midiPath)))));
  }
  const lines = [BEAT_TABLE_HEAD];
  if (heldOut) {
    lines.push(beatTableRow('hand-made (Ellis DP), held-out pieces', handmade));
    lines.push(beatTableRow(`learned activation + DP${DEFAULT_LEARNED_DECODER === 'dp' ? ' (default)' : ''}, held-out pieces`, learned));
    lines.push(beatTableRow(`learned activation + DBN, held-out pieces`, learnedDbn));
    if (learnedDbnMeter.length > 0) lines.push(beatTableRow('learned + DBN, beats fused with the note-level model, downbeats/meter from it (default), held-out pieces', learnedDbnMeter));
  }
  if (handmadeAll.length > 0) lines.push(beatTableRow('hand-made, all performances', handmadeAll));
  const scope = heldOut
    ? `Held-out: ${new Set(items.map((i) => asapPiece(i.name))).size} ${fold}-fold pieces never used in training (split by piece, see models/beats/manifest.json)${quick ? ', every 3rd performance' : ''}.`
    : 'No beat model installed: hand-made tracker only.';
  return { rows: { handmade, learned, learnedDbn, learnedDbnMeter, handmadeAll }, table: `${scope}\n\n${lines.join('\n')}` };
}

// ---------------------------------------------------------------------------------------------
// Key estimation on ASAP.

export interface KeyBenchRow {
  profile: KeyProfileName;
  performances: number;
  signatureAccuracy: number;
  mirexUpper: number;
  mirexLower: number;
}

/**
 * ASAP annotates key *signatures* (sharps/flats), not modes, so the MIREX weighted score is given
 * as a range: the reference is either the major key or the relative minor of the annotated
 * signature; `mirexUpper` scores against the one that favours the estimate, `mirexLower` against
 * the other. `signatureAccuracy` counts estimates whose own signature equals the annotation
 * (the estimate is then the reference major or its relative minor).
 */
export function runKeyBench(quick: boolean): { rows: KeyBenchRow[]; table: string } {
  const items = listAsap(quick).filter((i) => i.annotations.firstKeySignature !== undefined);
  const pieces = items.map((item) => decodeMidiNotes(new Uint8Array(readFileSync(item.midiPath))));
  const rows: KeyBenchRow[] = [];
  for (const profile of KEY_PROFILE_NAMES) {
    let sig = 0;
    let upper = 0;
    let lower = 0;
    items.forEach((item, i) => {
      const est = estimateKey(pieces[i], profile);
      if (!est) return;
      const sharps = item.annotations.firstKeySignature as number;
      const candidates: KeyLabel[] = [keyFromSignature(sharps, 'major'), keyFromSignature(sharps, 'minor')];
      const scores = candidates.map((ref) => mirexKeyScore(ref, est));
      upper += Math.max(...scores);
      lower += Math.min(...scores);
      if (scores.includes(1)) sig++;
    });
    const n = items.length;
    rows.push({ profile, performances: n, signatureAccuracy: sig / n, mirexUpper: upper / n, mirexLower: lower / n });
  }
  const table = [
    '| key profile | ASAP performances | key signature correct | MIREX weighted (mode-favourable ref) | MIREX weighted (other mode) |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) => `| ${r.profile} | ${r.performances} | ${pct(r.signatureAccuracy)} | ${pct(r.mirexUpper)} | ${pct(r.mirexLower)} |`,
    ),
  ].join('\n');
  return { rows, table };
}

// ---------------------------------------------------------------------------------------------
// Each step's effect on note P/R/F1 on MAPS, with the project's default transcriber.

// basic-pitch's transcriptions stay where training/evaluate.py reads them (--basic-pitch-notes).
const MAPS_CACHE_DIR = '/tmp/stemscribe-bench-maps-transcriptions';

/**
 * One cache folder per transcriber, model version and contents of the piano model folder (the
 * manifest's decoding settings and the onset head change without a new version), so a new export,
 * retune or head is never scored from stale notes.
 */
function mapsCacheDir(name: string, version: string): string {
  if (name === 'basic-pitch') return MAPS_CACHE_DIR;
  const dir = modelPath('piano');
  const hash = createHash('sha1');
  // The model card is prose; everything else in the folder decides the notes.
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => !f.endsWith('.md')).sort() : [];
  for (const file of files) hash.update(file).update(readFileSync(join(dir, file)));
  const settings = hash.digest('hex').slice(0, 8);
  return `${MAPS_CACHE_DIR}-${name}-${version.replace(/[^A-Za-z0-9._-]+/g, '_')}-${settings}`;
}

export interface MapsPiece {
  name: string;
  reference: Note[];
  transcription: Transcription;
}

/**
 * Transcribes each MAPS recording once with `transcriberName` (default: the pipeline's default;
 * cached as JSON under /tmp); undefined if unavailable.
 */
export async function loadMapsTranscriptions(quick: boolean, transcriberName?: TranscriberName): Promise<MapsPiece[] | undefined> {
  if (!existsSync(MAPS_DIR)) return undefined;
  const { createTranscriber, DEFAULT_TRANSCRIBER } = await import('../src/transcription/index.js');
  const { decodeAudio } = await import('../src/audio/decode.js');
  const { notesFromTsv } = await import('../src/eval/io.js');
  const name = transcriberName ?? DEFAULT_TRANSCRIBER;
  const transcriber = await createTranscriber(name, { intraOpNumThreads: 1 });
  const cacheDir = mapsCacheDir(name, transcriber.info.version);
  mkdirSync(cacheDir, { recursive: true });
  const names = readdirSync(MAPS_DIR)
    .filter((f) => f.endsWith('.flac'))
    .map((f) => f.replace(/\.flac$/, ''))
    .sort();
  const pieces: MapsPiece[] = [];
  try {
    for (const piece of quick ? names.slice(0, 4) : names) {
      const cachePath = join(cacheDir, `${piece}.json`);
      let transcription: Transcription;
      if (existsSync(cachePath)) {
        transcription = JSON.parse(readFileSync(cachePath, 'utf8')) as Transcription;
      } else {
        const audio = await decodeAudio(new Uint8Array(readFileSync(join(MAPS_DIR, `${piece}.flac`))), {
          fileName: `${piece}.flac`,
          limits: { maxDurationSec: 3600 },
        });
        transcription = await transcriber.transcribe(audio, { source: 'solo' });
        writeFileSync(cachePath, JSON.stringify(transcription));
      }
      const reference = notesFromTsv(readFileSync(join(MAPS_DIR, `${piece}.tsv`), 'utf8'), `${piece}.tsv`);
      pieces.push({ name: piece, reference, transcription });
    }
  } finally {
    await transcriber.dispose?.();
  }
  return pieces;
}

interface StepConfig {
  label: string;
  options: PostprocessOptions | 'raw';
  isDefault: boolean;
}

const NOTE_LENGTHS_ONLY: Partial<NoteLengthOptions> = {};

export const STEP_CONFIGS: StepConfig[] = [
  { label: 'raw (`--raw`)', options: 'raw', isDefault: false },
  { label: 'step 1 only: beats/tempo map', options: { noteLengths: false, key: false }, isDefault: true },
  { label: 'step 3 only: note lengths (default)', options: { beatTracking: false, key: false, noteLengths: { ...DEFAULT_NOTE_LENGTHS, ...NOTE_LENGTHS_ONLY } }, isDefault: true },
  { label: 'step 4 only: key estimate (no filter)', options: { beatTracking: false, noteLengths: false }, isDefault: true },
  { label: 'step 5 only: velocity normalize', options: { beatTracking: false, noteLengths: false, key: false, velocity: { ...DEFAULT_VELOCITY, mode: 'normalize' } }, isDefault: false },
  { label: '**default (steps 1, 3, 4, 5)**', options: {}, isDefault: true },
  { label: 'default + key filter (`--key-filter`)', options: { key: { profile: DEFAULT_KEY_PROFILE, filter: DEFAULT_KEY_FILTER } }, isDefault: false },
  { label: 'default + chord alignment 30 ms', options: { chordAlign: { windowSec: 0.03 } }, isDefault: false },
  { label: 'default + `--quantize 1/16` (strength 1)', options: { chordAlign: { windowSec: 0.03 }, quantize: { grid: '1/16', strength: 1 } }, isDefault: false },
  { label: 'default + `--quantize 1/16 --quantize-strength 0.5`', options: { chordAlign: { windowSec: 0.03 }, quantize: { grid: '1/16', strength: 0.5 } }, isDefault: false },
  { label: 'default + `--legato`', options: { noteLengths: { ...DEFAULT_NOTE_LENGTHS, legato: true } }, isDefault: false },
  { label: 'default + `--pedal-lengths` (notes held through the pedal)', options: { noteLengths: { ...DEFAULT_NOTE_LENGTHS, pedal: true } }, isDefault: false },
];

export interface StepRow {
  label: string;
  isDefault: boolean;
  onset: { precision: number; recall: number; f1: number };
  onsetOffsetF1: number;
}

export async function runMapsStepBench(pieces: readonly MapsPiece[]): Promise<{ rows: StepRow[]; table: string; keyFilterTable: string }> {
  const { notesToArrays, precisionRecallF1Overlap } = await import('../src/eval/transcription.js');
  const rows: StepRow[] = [];
  const perPiecePrecision = new Map<string, number[]>();
  for (const cfg of STEP_CONFIGS) {
    let p = 0;
    let r = 0;
    let f = 0;
    let fOff = 0;
    const precisions: number[] = [];
    for (const piece of pieces) {
      const est = notesToArrays(postprocess(piece.transcription, cfg.options).notes);
      const ref = notesToArrays(piece.reference);
      const onset = precisionRecallF1Overlap(ref, est, { offsetRatio: null });
      const withOffset = precisionRecallF1Overlap(ref, est, {});
      p += onset.precision;
      r += onset.recall;
      f += onset.f1;
      fOff += withOffset.f1;
      precisions.push(onset.precision);
    }
    perPiecePrecision.set(cfg.label, precisions);
    const n = pieces.length;
    rows.push({ label: cfg.label, isDefault: cfg.isDefault, onset: { precision: p / n, recall: r / n, f1: f / n }, onsetOffsetF1: fOff / n });
  }
  const raw = rows[0];
  const table = [
    `| configuration (${pieces.length} MAPS ENSTDkCl pieces, mean over pieces) | onset P | onset R | onset F1 | ΔF1 vs raw | onset+offset F1 |`,
    '|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${row.label} | ${pct(row.onset.precision)} | ${pct(row.onset.recall)} | ${pct(row.onset.f1)} | ` +
        `${((row.onset.f1 - raw.onset.f1) * 100).toFixed(2)} | ${pct(row.onsetOffsetF1)} |`,
    ),
  ].join('\n');
  const base = perPiecePrecision.get('**default (steps 1, 3, 4, 5)**') ?? [];
  const filtered = perPiecePrecision.get('default + key filter (`--key-filter`)') ?? [];
  const keyFilterTable = [
    '| MAPS piece | onset P default | onset P with --key-filter | ΔP (points) |',
    '|---|---|---|---|',
    ...pieces.map((piece, i) => `| ${piece.name} | ${pct(base[i])} | ${pct(filtered[i])} | ${((filtered[i] - base[i]) * 100).toFixed(2)} |`),
  ].join('\n');
  return { rows, table, keyFilterTable };
}

// ---------------------------------------------------------------------------------------------

export interface PostprocessBenchResult {
  markdown: string;
  beat: BeatBenchResult['rows'] | undefined;
  key: KeyBenchRow[];
  steps?: StepRow[];
}

export async function runPostprocessBench(opts: { quick: boolean; stepsOnly?: boolean; transcriber?: TranscriberName }): Promise<PostprocessBenchResult> {
  const { DEFAULT_TRANSCRIBER } = await import('../src/transcription/index.js');
  const transcriberName = opts.transcriber ?? DEFAULT_TRANSCRIBER;
  const sections: string[] = [];
  const scope = opts.quick ? 'quick: every 8th ASAP performance, 4 MAPS pieces' : 'full: all ASAP performances, 14 MAPS pieces';
  sections.push(`Post-processing benchmark (${scope}).`);
  const asap = existsSync(ASAP_DIR) && !opts.stepsOnly;
  const beat = asap ? await runBeatBench(opts.quick) : undefined;
  if (!opts.stepsOnly) sections.push(beat ? `### Beat tracking on ASAP performance MIDI\n\n${beat.table}` : '_ASAP not found: beat benchmark skipped._');
  const key = asap ? runKeyBench(opts.quick) : undefined;
  sections.push(key ? `### Key estimation on ASAP (whole performance vs the opening key signature)\n\n${key.table}` : '');
  let steps: StepRow[] | undefined;
  const pieces = await loadMapsTranscriptions(opts.quick, transcriberName);
  if (pieces) {
    const s = await runMapsStepBench(pieces);
    steps = s.rows;
    sections.push(`### Each step's effect on note P/R/F1 (${transcriberName} on MAPS, 50 ms onset tolerance)\n\n${s.table}`);
    sections.push(`### Where the key filter changes precision\n\n${s.keyFilterTable}`);
  } else {
    sections.push('_MAPS not found: step-effect benchmark skipped._');
  }
  return { markdown: sections.filter(Boolean).join('\n\n'), beat: beat?.rows, key: key?.rows ?? [], steps };
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const quick = process.argv.includes('--quick');
  if (process.argv.includes('--val')) {
    // The fold decoder settings and checkpoints are chosen on: beat tracking only.
    process.stdout.write(`${(await runBeatBench(quick, 'val')).table}\n`);
  } else {
    // --steps: only the MAPS step-effect section; --transcriber NAME: whose notes (default: the pipeline's).
    const t = process.argv.indexOf('--transcriber');
    const transcriber = t >= 0 ? (process.argv[t + 1] as TranscriberName) : undefined;
    const result = await runPostprocessBench({ quick, stepsOnly: process.argv.includes('--steps'), ...(transcriber ? { transcriber } : {}) });
    process.stdout.write(`${result.markdown}\n`);
  }
}
