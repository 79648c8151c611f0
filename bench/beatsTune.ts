/**
 * Decoder settings of the learned beat tracker, measured on one fold of ASAP
 * (`npx tsx bench/beatsTune.ts [--fold val|test] [--model-dir DIR] [--tcn-dir DIR] [--every N] [--grid NAME] [--tta F,...]`).
 * `--tta 0.9,1.1` also runs the note-level model on the notes with their times scaled by each factor and
 * averages its beat and downbeat probabilities with the unscaled run's (test-time augmentation; training/beats/README.md).
 * `--tta-tcn` does the same for the TCN (its scaled copies' frames read back at the unscaled times); `--tta-tcn-only`
 * scales the TCN's input alone.
 * `--model-dir` is the note-level model (default models/beats-notes), `--tcn-dir` the TCN (default models/beats):
 * a candidate exported elsewhere is measured without replacing the installed one. Either takes a comma-separated
 * list: the models' outputs are averaged (an ensemble of independent runs; the first note-level model's manifest
 * gives the folds).
 * A setting that names a TCN weight (every `fuse*` grid, `oracle-band`, `tempo-band`) also runs the frame-level TCN
 * (models/beats) and decodes beats from weighted means of the two networks' beat activations (downbeats from the
 * note-level model's, as the pipeline does); the other settings decode the note-level model alone.
 *
 * The network runs once per performance; every decoder setting of the chosen grid is then decoded
 * from the same probabilities. Settings are chosen on `--fold val` (the default) only; the test fold
 * is for reporting (bench/postprocess.ts). Prints one table row per setting.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeMidiNotes } from '../src/midi/decode.js';
import { BeatModel, type BeatActivations } from '../src/postprocess/beatModel.js';
import { decodeBeats, decodeDownbeats, type BeatDbnOptions, type DownbeatOptions } from '../src/postprocess/beatsDbn.js';
import { beatFMeasure, medianTempoBpm, tempoAccuracy } from '../src/postprocess/metrics.js';
import { FUSED_BEAT_DBN, FUSED_BEAT_TCN_WEIGHT, fuseBeatActivations } from '../src/postprocess/index.js';
import { frameActivations, NOTE_BEAT_FPS, NoteBeatModel, type NoteBeatProbabilities } from '../src/postprocess/noteBeatModel.js';
import { mean } from './lib/markdown.js';
import { asapPiece, beatTableRow, listAsap, type AsapItem, type BeatBenchRow } from './postprocess.js';
import type { Note } from '../src/types.js';

interface Setting {
  label: string;
  floor: number;
  dbn: Partial<BeatDbnOptions>;
  downbeats?: Partial<DownbeatOptions>;
  /** With the TCN's activations: their weight in the mean (1: the TCN alone). */
  tcnWeight?: number;
  /**
   * Restrict the DBN's tempo to a centre divided and multiplied by `factor`. The centre is the
   * annotated median tempo (`annotated`: an oracle, to see what a right global metrical level would
   * be worth) or the note-level model's piece tempo (`tempo-head`: the class with the most posterior
   * mass summed over all notes), or the median tempo of the beats decoded without a band (`first-pass`: a
   * second pass that keeps the piece at the level the first chose most of the time).
   */
  tempoBand?: { centre: 'annotated' | 'tempo-head' | 'first-pass'; factor: number };
}

const BASE: Setting = { label: 'base', floor: 0.02, dbn: { activationPower: 1, transitionLambda: 10 } };

function variants(name: string): Setting[] {
  const v = (label: string, s: Partial<Setting>, dbn: Partial<BeatDbnOptions> = {}): Setting => ({
    ...BASE,
    ...s,
    label,
    dbn: { ...BASE.dbn, ...dbn },
  });
  switch (name) {
    case 'floor':
      return [0.005, 0.02, 0.05, 0.1].map((floor) => v(`floor ${floor}`, { floor }));
    case 'power':
      return [1, 2, 3].map((p) => v(`power ${p}`, {}, { activationPower: p }));
    case 'lambda':
      return [5, 10, 30, 100].map((l) => v(`lambda ${l}`, {}, { transitionLambda: l }));
    case 'prior':
      return [0, 0.5, 1, 2].map((w) => v(`tempo prior ${w}`, {}, { tempoPriorWeight: w }));
    case 'fuse-pipeline':
      // The pipeline's own fusion and decoder, one row: for comparing candidate networks.
      return [v(`pipeline: TCN weight ${FUSED_BEAT_TCN_WEIGHT}, DBN ${JSON.stringify(FUSED_BEAT_DBN)}`, { tcnWeight: FUSED_BEAT_TCN_WEIGHT }, FUSED_BEAT_DBN)];
    case 'fuse':
      return [0.8, 0.7, 0.6].flatMap((w) => [3, 4].map((p) => v(`TCN weight ${w}, power ${p}`, { tcnWeight: w }, { activationPower: p })));
    case 'fuse-low':
      // With the note-level model 0.2 the val optimum moved to TCN weight 0.6, power 3: below it?
      return [[0.6, 2], [0.5, 2], [0.5, 3], [0.4, 3]].map(([w, p]) => v(`TCN weight ${w}, power ${p}`, { tcnWeight: w }, { activationPower: p }));
    case 'fuse-lambda':
      // The pipeline's fusion (0.7, power 4) with stiffer tempo: does it stop the decoder from
      // switching to the double level inside a piece (bench/beatsLevel.ts)?
      return [5, 10, 20, 40].map((l) => v(`TCN weight 0.7, power 4, lambda ${l}`, { tcnWeight: 0.7 }, { activationPower: 4, transitionLambda: l }));
    case 'oracle-band':
      return [1.25, 1.5, 2].map((f) => v(`oracle: pipeline, tempo within annotated median x/÷ ${f}`, { tcnWeight: FUSED_BEAT_TCN_WEIGHT, tempoBand: { centre: 'annotated', factor: f } }, FUSED_BEAT_DBN));
    case 'tempo-band':
      return [1.5, 1.75, 2.1].map((f) => v(`pipeline, tempo within the tempo head's piece tempo x/÷ ${f}`, { tcnWeight: FUSED_BEAT_TCN_WEIGHT, tempoBand: { centre: 'tempo-head', factor: f } }, FUSED_BEAT_DBN));
    case 'self-band':
      return [1.25, 1.5, 1.75].map((f) => v(`pipeline, then again with the tempo within the first pass's median x/÷ ${f}`, { tcnWeight: FUSED_BEAT_TCN_WEIGHT, tempoBand: { centre: 'first-pass', factor: f } }, FUSED_BEAT_DBN));
    case 'fuse-prior':
      // The pipeline with the DBN's log-Gaussian tempo prior (centre, width in octaves) and a cost per beat.
      return [
        ...[[110, 1], [110, 2], [110, 3]].map(([c, w]) => v(`pipeline, tempo prior ${c} BPM, ${w} octaves`, { tcnWeight: FUSED_BEAT_TCN_WEIGHT }, { ...FUSED_BEAT_DBN, priorBpm: c, priorWidthOctaves: w })),
        ...[0.1, 0.3, 1].map((c) => v(`pipeline, beat cost ${c}`, { tcnWeight: FUSED_BEAT_TCN_WEIGHT }, { ...FUSED_BEAT_DBN, beatCost: c })),
      ];
    case 'obs':
      return [8, 16, 32].map((o) => v(`observation lambda ${o}`, {}, { observationLambda: o }));
    default:
      return [BASE];
  }
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

/** The tempo class with the most posterior mass over all notes (the tempo head's view of the whole piece). */
function pieceTempoBpm(probs: NoteBeatProbabilities): number {
  const K = probs.tempoBpm.length;
  const mass = new Float64Array(K);
  for (let i = 0; i < probs.notes.length; i++) for (let k = 0; k < K; k++) mass[k] += probs.tempo[i * K + k];
  let best = 0;
  for (let k = 1; k < K; k++) if (mass[k] > mass[best]) best = k;
  return probs.tempoBpm[best];
}

const tempoLimits = (centreBpm: number, factor: number): Partial<BeatDbnOptions> => ({ minBpm: centreBpm / factor, maxBpm: centreBpm * factor });

function evaluate(item: AsapItem, probs: NoteBeatProbabilities, s: Setting, tcn?: BeatActivations): BeatBenchRow {
  const noteAct = frameActivations(probs, NOTE_BEAT_FPS, s.floor);
  const act = s.tcnWeight !== undefined && tcn ? fuseBeatActivations(tcn, noteAct, s.tcnWeight) : noteAct;
  const onsets = probs.notes.map((n) => n.onsetSec);
  const ref = item.annotations;
  const refBpm = medianTempoBpm(ref.beatsSec);
  const [firstSec, lastSec] = [Math.min(...onsets), Math.max(...onsets)];
  const centreBpm = (centre: 'annotated' | 'tempo-head' | 'first-pass'): number =>
    centre === 'annotated' ? refBpm : centre === 'tempo-head' ? pieceTempoBpm(probs) : medianTempoBpm(decodeBeats(act, firstSec, lastSec, s.dbn));
  const band = s.tempoBand ? tempoLimits(centreBpm(s.tempoBand.centre), s.tempoBand.factor) : {};
  const beats = decodeBeats(act, firstSec, lastSec, { ...s.dbn, ...band });
  const meter = decodeDownbeats(noteAct, beats, s.downbeats);
  const { acc1, acc2 } = tempoAccuracy(refBpm, medianTempoBpm(beats));
  const family = (n: number): string => (n % 3 === 0 ? 'triple' : n % 2 === 0 ? 'duple' : 'other');
  const refBar = ref.firstBeatsPerBar;
  const meterCorrect = refBar === undefined || family(refBar) === 'other' ? undefined : family(refBar) === family(meter.beatsPerBar);
  return { name: item.name, beatF: beatFMeasure(ref.beatsSec, beats), downbeatF: beatFMeasure(ref.downbeatsSec, meter.downbeatsSec), acc1, acc2, meterCorrect };
}

/**
 * Beat F averaged per piece first: a fold's mean over performances is dominated by its most
 * performed pieces (val: 30 of 112 performances are one Liszt etude in 6/8).
 */
function pieceMeanPct(items: readonly AsapItem[], rows: readonly BeatBenchRow[]): string {
  const byPiece = new Map<string, number[]>();
  items.forEach((item, i) => byPiece.set(asapPiece(item.name), [...(byPiece.get(asapPiece(item.name)) ?? []), rows[i].beatF]));
  const means = [...byPiece.values()].map(mean);
  return `${(100 * mean(means)).toFixed(1)} (${means.length})`;
}

const fold = arg('--fold', 'val');
const modelDirs = arg('--model-dir', join(import.meta.dirname, '..', 'models', 'beats-notes')).split(',');
const tcnDirs = arg('--tcn-dir', join(import.meta.dirname, '..', 'models', 'beats')).split(',');
const every = Number(arg('--every', '1'));
const grids = arg('--grid', 'base').split(',');
const manifest = JSON.parse(readFileSync(join(modelDirs[0], 'manifest.json'), 'utf8')) as { split: { valPieces: string[]; testPieces: string[] } };
const pieces = new Set(fold === 'test' ? manifest.split.testPieces : manifest.split.valPieces);
const items = listAsap(false).filter((item) => pieces.has(asapPiece(item.name))).filter((_, i) => i % every === 0);
const models = await Promise.all(modelDirs.map((dir) => NoteBeatModel.create({ modelDir: dir, intraOpNumThreads: 1 })));
const noteVersions = models.map((m) => m.manifest.version).join(' + ');
/** Beat and downbeat values, for the averages over models and time-scaled copies below. */
interface BeatValues {
  beat: ArrayLike<number>;
  downbeat: ArrayLike<number>;
}
/** `sum` += each of `terms`, then /= `divisor` (the number of terms the sum holds in all). */
function averageInto(sum: { beat: Float32Array; downbeat: Float32Array }, terms: readonly BeatValues[], divisor: number): void {
  for (const q of terms) {
    for (let i = 0; i < sum.beat.length; i++) {
      sum.beat[i] += q.beat[i];
      sum.downbeat[i] += q.downbeat[i];
    }
  }
  for (let i = 0; i < sum.beat.length; i++) {
    sum.beat[i] /= divisor;
    sum.downbeat[i] /= divisor;
  }
}
/** The notes with every time multiplied by `factor` (test-time augmentation: the piece at another tempo). */
const timeScaled = (notes: readonly Note[], factor: number): Note[] =>
  notes.map((n) => ({ ...n, onsetSec: n.onsetSec * factor, offsetSec: n.offsetSec * factor }));
const ttaFactors = arg('--tta', '').split(',').filter((x) => x !== '').map(Number);
const flagTcnTta = process.argv.includes('--tta-tcn') || process.argv.includes('--tta-tcn-only');
const ttaNotes = process.argv.includes('--tta-tcn-only') ? [] : ttaFactors;
const probs: NoteBeatProbabilities[] = [];
for (const item of items) {
  const notes = decodeMidiNotes(new Uint8Array(readFileSync(item.midiPath)));
  const p = await models[0].noteProbabilities(notes);
  const others: BeatValues[] = [];
  for (const [m, model] of models.entries()) {
    for (const f of m === 0 ? ttaNotes : [1, ...ttaNotes]) others.push(await model.noteProbabilities(timeScaled(notes, f)));
  }
  averageInto(p, others, 1 + others.length);
  probs.push(p);
}
await Promise.all(models.map((m) => m.dispose()));
const tcn: BeatActivations[] = [];
let tcnVersion = '';
if (grids.some((g) => variants(g).some((s) => s.tcnWeight !== undefined))) {
  const beatModels = await Promise.all(tcnDirs.map((dir) => BeatModel.create({ modelDir: dir, intraOpNumThreads: 1 })));
  const beatModel = beatModels[0];
  tcnVersion = `, TCN ${beatModels.map((b) => b.manifest.version).join(' + ')}`;
  for (const p of probs) {
    const act = await beatModel.activations(p.notes);
    const others: BeatValues[] = [];
    for (const other of beatModels.slice(1)) others.push(await other.activations(p.notes));
    averageInto(act, others, beatModels.length);
    // --tta-tcn: the TCN's test-time augmentation too, each copy's frames read back at the unscaled times.
    if (flagTcnTta) {
      const copies: BeatValues[] = [];
      for (const f of ttaFactors) {
        const q = await beatModel.activations(timeScaled(p.notes, f));
        const back = (x: Float32Array): Float64Array =>
          Float64Array.from({ length: act.beat.length }, (_, t) => {
            const u = t * f;
            const i = Math.floor(u);
            if (i + 1 >= x.length) return x[Math.min(i, x.length - 1)] ?? 0;
            return x[i] + (u - i) * (x[i + 1] - x[i]);
          });
        copies.push({ beat: back(q.beat), downbeat: back(q.downbeat) });
      }
      averageInto(act, copies, 1 + copies.length);
    }
    tcn.push(act);
  }
  await Promise.all(beatModels.map((b) => b.dispose()));
}
process.stdout.write(`${noteVersions}${tcnVersion}, ${fold} fold, ${items.length} performances\n\n`);
process.stdout.write('| setting | n | beat F | downbeat F | ACC1 | ACC2 | meter (n) | beat F, mean over pieces |\n|---|---|---|---|---|---|---|---|\n');
for (const grid of grids) {
  for (const s of variants(grid)) {
    const rows = items.map((item, i) => evaluate(item, probs[i], s, tcn[i]));
    process.stdout.write(`${beatTableRow(s.label, rows)} ${pieceMeanPct(items, rows)} |\n`);
  }
}
