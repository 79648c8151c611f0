/**
 * Where the learned beat tracker's errors are, on one fold of ASAP
 * (`npx tsx bench/beatsLevel.ts [--fold val|test]`; a diagnostic, it chooses nothing).
 *
 * The pipeline's beats (the two networks' fused activation through the DBN) are scored as they
 * are, then as an oracle would re-level them per performance: every 2nd or 3rd beat (x1/2, x1/3,
 * best phase), beats interpolated between them (x2, x3), and the 3:2 and 2:3 grids. If the
 * oracle gains little, the errors are not one wrong metrical level per piece but local ones
 * (level switches inside a piece, beats outside the window), which a per-piece level choice
 * cannot fix. Also: the beat F with a 150 ms window, the tracked-to-annotated beat count, and the
 * beat F by the annotated time signature (ASAP's beat in 6/8, 9/8, 12/8 is the dotted note).
 */
import { readFileSync } from 'node:fs';
import { decodeMidiNotes } from '../src/midi/decode.js';
import { BeatModel } from '../src/postprocess/beatModel.js';
import { DEFAULT_LEARNED_DECODER, trackBeatsAndMeter } from '../src/postprocess/index.js';
import { beatFMeasure } from '../src/postprocess/metrics.js';
import { NoteBeatModel } from '../src/postprocess/noteBeatModel.js';
import { gridPoints } from '../src/postprocess/quantize.js';
import { mean } from './lib/markdown.js';
import { asapPiece, heldOutBeatPieces, listAsap } from './postprocess.js';

const args = process.argv.slice(2);
const fold = args.includes('--fold') ? (args[args.indexOf('--fold') + 1] as 'val' | 'test') : 'val';

/** Every `k`-th beat from `phase`. */
const everyKth = (beats: readonly number[], k: number, phase: number): number[] => beats.filter((_, i) => i % k === phase);
/** `k` beats per tracked beat, evenly between neighbours (the quantizer's grid over the tracked span). */
const subdivide = (beats: readonly number[], k: number): number[] => gridPoints(beats, k, beats[0], beats[beats.length - 1]);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** The re-levelled grids an oracle may pick from, by name. */
function levels(beats: readonly number[]): Record<string, number[][]> {
  return {
    'x1': [[...beats]],
    'x1/2': range(2).map((p) => everyKth(beats, 2, p)),
    'x2': [subdivide(beats, 2)],
    'x1/3': range(3).map((p) => everyKth(beats, 3, p)),
    'x3': [subdivide(beats, 3)],
    'x2/3': range(3).map((p) => everyKth(subdivide(beats, 2), 3, p)),
    'x3/2': range(2).map((p) => everyKth(subdivide(beats, 3), 2, p)),
  };
}

const held = heldOutBeatPieces(fold);
if (!held) throw new Error('no beat model installed (models/beats)');
const items = listAsap(false).filter((item) => held.has(asapPiece(item.name)));
const tcn = await BeatModel.create({ intraOpNumThreads: 1 });
const noteModel = await NoteBeatModel.create({ intraOpNumThreads: 1 });
const names = Object.keys(levels([]));
const sums: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
const wins: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
let oracleSum = 0;
let wideSum = 0;
const countRatios: number[] = [];
/** Per annotated first time signature: beat F and tracked/annotated count of each performance. */
const bySignature = new Map<string, Array<{ beatF: number; ratio: number }>>();
try {
  for (const item of items) {
    const notes = decodeMidiNotes(new Uint8Array(readFileSync(item.midiPath)));
    const tracked = trackBeatsAndMeter(notes, 'learned', await tcn.activations(notes), DEFAULT_LEARNED_DECODER, await noteModel.activations(notes));
    const ref = item.annotations.beatsSec;
    const best: Record<string, number> = {};
    for (const [name, grids] of Object.entries(levels(tracked.beatsSec))) {
      best[name] = Math.max(...grids.map((g) => beatFMeasure(ref, g)));
      sums[name] += best[name];
    }
    // A level wins a performance only by more than 2 points over the tracked beats.
    const winner = names.reduce((a, n) => (best[n] > best[a] + 0.02 ? n : a), 'x1');
    wins[winner]++;
    oracleSum += best[winner];
    wideSum += beatFMeasure(ref, tracked.beatsSec, 0.15);
    const ratio = tracked.beatsSec.length / Math.max(1, ref.length);
    countRatios.push(ratio);
    const signature = item.annotations.firstTimeSignature ?? '?';
    bySignature.set(signature, [...(bySignature.get(signature) ?? []), { beatF: best.x1, ratio }]);
  }
} finally {
  await tcn.dispose();
  await noteModel.dispose();
}
/** A sum over performances as their mean, in %. */
const meanPct = (sum: number): string => ((100 * sum) / items.length).toFixed(1);
console.log(`ASAP ${fold} fold, ${items.length} performances; beat F (70 ms) %, mean over performances\n`);
console.log(`| grid | ${names.join(' | ')} | oracle (best per performance) | tracked beats, 150 ms window |`);
console.log(`|---|${names.map(() => '---|').join('')}---|---|`);
console.log(`| beat F | ${names.map((n) => meanPct(sums[n])).join(' | ')} | ${meanPct(oracleSum)} | ${meanPct(wideSum)} |`);
console.log(`| performances where it is best (by > 2 points) | ${names.map((n) => wins[n]).join(' | ')} | | |`);
const sorted = [...countRatios].sort((a, b) => a - b);
const q = (p: number): string => sorted[Math.floor(p * (sorted.length - 1))].toFixed(2);
console.log(`\ntracked / annotated beat count: quartiles ${q(0.25)} / ${q(0.5)} / ${q(0.75)}, ${countRatios.filter((r) => r > 1.25).length} of ${items.length} above 1.25`);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const compound = (sig: string): boolean => [6, 9, 12].includes(Number(sig.split('/')[0]));
console.log('\n| annotated time signature | performances | beat F | median tracked / annotated beats |\n|---|---|---|---|');
const groups: Array<[string, Array<{ beatF: number; ratio: number }>]> = [
  ...[...bySignature.entries()].sort(([a], [b]) => a.localeCompare(b)),
  ['all compound (6, 9, 12 over n)', [...bySignature.entries()].filter(([k]) => compound(k)).flatMap(([, v]) => v)],
  ['all simple', [...bySignature.entries()].filter(([k]) => !compound(k)).flatMap(([, v]) => v)],
];
for (const [sig, rs] of groups) {
  if (rs.length === 0) continue;
  console.log(`| ${sig} | ${rs.length} | ${(100 * mean(rs.map((r) => r.beatF))).toFixed(1)} | ${median(rs.map((r) => r.ratio)).toFixed(2)} |`);
}
