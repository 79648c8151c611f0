/**
 * Chooses, per separator, how much of the unseparated mix the piano-ensemble blends into a
 * separated stem's posteriors (`ensemble.mixWeights` in models/piano/manifest.json; see
 * src/transcription/ensemble.ts `blendWithMix`).
 *
 *   node_modules/.bin/tsx training/mix-weight.ts [--set htdemucs=training/data/separated-val] [--set unmix=DIR] [--write]
 *
 * Each set is a folder that training/separated-val.ts built with that separator (NNN.wav the stem,
 * NNN.mix.wav the mix, NNN.notes.csv the notes): held-out works in the held-out piano timbre, never
 * MAPS or the benchmark's mixes. Sets of one separator are pooled; by default each separator's
 * band set and its set with a vocal stand-in (`--voice`), whose melody is in the mix but should not
 * be in the notes. For each weight on the grid it decodes every example with the
 * separated profile and prints mean onset note F1 and F1 with offsets; the weight with the best
 * onset F1 wins (ties: the smaller weight, the cheaper path). `--write` stores the winners in the
 * manifest (0 removes the separator: no second pass over the mix). Run again after the piano model
 * or its separated decoding profile changes (training/export.py keeps the weights on --retune).
 *
 * Mix heads: every models/piano/mix-head*.onnx (training/onset_head.py --separated, trained on
 * excerpts of the training works, never these) is tried for every separator (a head trained on one
 * separator's stems may serve another's): its onset posterior is scored too, over a grid of onset thresholds (by onset F1) and the same weights (they still set
 * the frame posterior, so they are chosen by F1 with offsets); if its best onset F1 beats the
 * blend's, `--write` stores the best head in `ensemble.mixHeads` with its threshold and its weight,
 * otherwise it removes the separator's entry. A head of three signals (onset_head.py --piano-stem)
 * also reads a five-stem separator's piano stem alone (NNN.piano.wav); it competes only on sets
 * that have one for every example.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scoreTranscription } from '../bench/lib/transcription.js';
import { notesFromTsv } from '../src/eval/io.js';
import { decodeWavFloat32 } from '../src/pipeline/serialize.js';
import { blendWithMix, mixHeadOnset, OnsetHead, PianoEnsembleTranscriber } from '../src/transcription/ensemble.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MODEL_DIR = join(ROOT, 'models/piano');
const MANIFEST = join(MODEL_DIR, 'manifest.json');
const WEIGHTS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
const HEAD_ONSET_THRESHOLDS = [0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7];
const DEFAULT_SETS = [
  'htdemucs=training/data/separated-val',
  'htdemucs=training/data/separated-val-voice',
  'unmix=training/data/separated-val-unmix',
  'unmix=training/data/separated-val-unmix-voice',
];

const args = process.argv.slice(2);
// Sets of one separator are pooled: every example counts once.
const setsBySeparator = new Map<string, string[]>();
for (const s of args.includes('--set') ? args.flatMap((a, i) => (args[i - 1] === '--set' ? [a] : [])) : DEFAULT_SETS) {
  const [separator, dir] = s.split('=');
  setsBySeparator.set(separator, [...(setsBySeparator.get(separator) ?? []), join(ROOT, dir ?? '')]);
}

const transcriber = await PianoEnsembleTranscriber.create();
// Every mix head on disk, loaded once for all separators.
const heads = await Promise.all(
  readdirSync(MODEL_DIR).filter((f) => /^mix-head(-.*)?\.onnx$/.test(f)).sort().map(async (file) => ({ file, head: await OnsetHead.create(join(MODEL_DIR, file)) })),
);
const chosen: Record<string, number> = {};
const chosenHeads: Record<string, { file: string; onset: number } | null> = {};
try {
  for (const [separator, dirs] of setsBySeparator) {
    const setsOf = dirs.map((dir) => ({
      dir,
      bases: existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.mix.wav')).sort().map((f) => join(dir, f.slice(0, -'.mix.wav'.length))) : [],
    })).filter((set) => set.bases.length > 0);
    const total = setsOf.reduce((n, set) => n + set.bases.length, 0);
    if (total === 0) {
      console.log(`${separator}: no examples with a mix in ${dirs.join(', ')} (build them with training/separated-val.ts --separator ${separator}); skipped`);
      continue;
    }
    // Sums over examples, per set and weight: [set][weight]; per head, per weight and onset threshold.
    const onsetSum = setsOf.map(() => WEIGHTS.map(() => 0));
    const offsetSum = setsOf.map(() => WEIGHTS.map(() => 0));
    const headSum = heads.map(() => WEIGHTS.map(() => HEAD_ONSET_THRESHOLDS.map(() => 0)));
    const headOffsetSum = heads.map(() => WEIGHTS.map(() => HEAD_ONSET_THRESHOLDS.map(() => 0)));
    // Heads that cannot hear every example (a piano-stem head on a set without piano stems) do not compete.
    const unusable = new Set<number>();
    for (const [j, set] of setsOf.entries()) {
      for (const base of set.bases) {
        const read = (suffix: string) => decodeWavFloat32(new Uint8Array(readFileSync(`${base}${suffix}`)), `${base}${suffix}`);
        const reference = notesFromTsv(readFileSync(`${base}.notes.csv`, 'utf8'), `${base}.notes.csv`);
        const heardStem = await transcriber.heard(read('.wav'));
        const heardMix = await transcriber.heard(read('.mix.wav'));
        const stem = await transcriber.fuse(heardStem, 'separated');
        // As the transcriber hears the mix: fused as a solo recording (with the onset head).
        const mix = await transcriber.fuse(heardMix, 'solo');
        // A head of three signals also reads the separator's piano stem (NNN.piano.wav, five-stem separators).
        const heardPiano = existsSync(`${base}.piano.wav`) ? await transcriber.heard(read('.piano.wav')) : undefined;
        const headOnsets = await Promise.all(heads.map(({ head }, h) => {
          if (head.signals !== 3) return mixHeadOnset(head, heardStem, heardMix, stem.frames, stem.keys);
          if (heardPiano) return mixHeadOnset(head, heardStem, heardMix, stem.frames, stem.keys, heardPiano);
          unusable.add(h);
          return undefined;
        }));
        WEIGHTS.forEach((w, i) => {
          const blended = blendWithMix(stem, mix, w);
          const s = scoreTranscription(reference, transcriber.decode(blended, { source: 'separated' }).notes);
          onsetSum[j][i] += s.onset.f1;
          offsetSum[j][i] += s.onsetOffset.f1;
          headOnsets.forEach((onset, h) => {
            if (!onset) return;
            HEAD_ONSET_THRESHOLDS.forEach((t, k) => {
              const r = scoreTranscription(reference, transcriber.decode({ ...blended, onset }, { source: 'separated' }, t).notes);
              headSum[h][i][k] += r.onset.f1;
              headOffsetSum[h][i][k] += r.onsetOffset.f1;
            });
          });
        });
      }
    }
    const pct = (x: number) => (100 * x).toFixed(1);
    const onset = WEIGHTS.map((_, i) => onsetSum.reduce((a, row) => a + row[i], 0) / total);
    const withOffset = WEIGHTS.map((_, i) => offsetSum.reduce((a, row) => a + row[i], 0) / total);
    const names = setsOf.map((set) => `${relative(ROOT, set.dir)} (${set.bases.length})`);
    console.log(`\n${separator}: ${total} examples, onset F1 %\n`);
    console.log(`| mix weight | all: onset F1 | all: with offsets | ${names.join(' | ')} |\n|${'---|'.repeat(3 + names.length)}`);
    WEIGHTS.forEach((w, i) =>
      console.log(`| ${w} | ${pct(onset[i])} | ${pct(withOffset[i])} | ${setsOf.map((set, j) => pct(onsetSum[j][i] / set.bases.length)).join(' | ')} |`),
    );
    const best = onset.reduce((b, f, i) => (f > onset[b] + 1e-9 ? i : b), 0);
    chosen[separator] = WEIGHTS[best];
    console.log(`chosen: ${WEIGHTS[best]}`);
    // The weight only sets the frame posterior, so a head's onset F1 barely depends on it (through
    // the onset-support rule, if the profile has it): best onset F1, ties to the better F1 with offsets.
    let [bh, bi, bk] = [-1, 0, 0];
    heads.forEach(({ file }, h) => {
      if (unusable.has(h)) {
        console.log(`\n${separator}, mix head ${file}: skipped (it reads the separator's piano stem, and not every example has NNN.piano.wav)`);
        return;
      }
      WEIGHTS.forEach((_, i) => HEAD_ONSET_THRESHOLDS.forEach((_, k) => {
        const d = bh < 0 ? 1 : headSum[h][i][k] - headSum[bh][bi][bk];
        if (d > 1e-9 || (Math.abs(d) <= 1e-9 && headOffsetSum[h][i][k] > headOffsetSum[bh][bi][bk] + 1e-9)) [bh, bi, bk] = [h, i, k];
      }));
      const hi = WEIGHTS.reduce((b, _, i) => (Math.max(...headSum[h][i]) > Math.max(...headSum[h][b]) + 1e-9 ? i : b), 0);
      console.log(`\n${separator}, mix head ${file}: onset F1 % by onset threshold (mix weight ${WEIGHTS[hi]})\n`);
      console.log(`| onset threshold | ${HEAD_ONSET_THRESHOLDS.join(' | ')} |\n|${'---|'.repeat(1 + HEAD_ONSET_THRESHOLDS.length)}`);
      console.log(`| onset F1 | ${headSum[h][hi].map((x) => pct(x / total)).join(' | ')} |`);
    });
    if (bh >= 0) {
      const headF1 = headSum[bh][bi][bk] / total;
      const useHead = headF1 > onset[best] + 1e-9;
      console.log(`\nF1 with offsets % by mix weight at onset threshold ${HEAD_ONSET_THRESHOLDS[bk]}: ${WEIGHTS.map((w, i) => `${w}: ${pct(headOffsetSum[bh][i][bk] / total)}`).join(', ')}`);
      console.log(`${heads[bh].file} at weight ${WEIGHTS[bi]}, onset threshold ${HEAD_ONSET_THRESHOLDS[bk]}: ${pct(headF1)} vs the blend's ${pct(onset[best])}: ${useHead ? 'the head' : 'the blend'}`);
      chosenHeads[separator] = useHead ? { file: heads[bh].file, onset: HEAD_ONSET_THRESHOLDS[bk] } : null;
      if (useHead) chosen[separator] = WEIGHTS[bi];
    } else {
      chosenHeads[separator] = null;
    }
  }
} finally {
  await Promise.all([transcriber.dispose(), ...heads.map(({ head }) => head.dispose())]);
}

if (args.includes('--write')) {
  const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as {
    ensemble?: { mixWeights?: Record<string, number>; mixHeads?: Record<string, { file: string; onset: number }> };
  };
  if (!manifest.ensemble) throw new Error(`${MANIFEST} has no ensemble settings`);
  const weights = { ...manifest.ensemble.mixWeights, ...chosen };
  const heads = { ...manifest.ensemble.mixHeads };
  for (const [k, h] of Object.entries(chosenHeads)) {
    if (h) heads[k] = h;
    else delete heads[k];
  }
  for (const [k, w] of Object.entries(weights)) if (w === 0 && !heads[k]) delete weights[k];
  manifest.ensemble.mixWeights = weights;
  if (Object.keys(heads).length > 0) manifest.ensemble.mixHeads = heads;
  else delete manifest.ensemble.mixHeads;
  console.log(`wrote mixHeads ${JSON.stringify(heads)}`);
  writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2) + '\n');
  console.log(`wrote mixWeights ${JSON.stringify(weights)} to ${MANIFEST}`);
}
