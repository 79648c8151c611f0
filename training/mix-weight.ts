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
 * Mix heads: where models/piano/mix-head-<separator>.onnx exists (training/onset_head.py
 * --separated, trained on excerpts of the training works, never these), the head's onset posterior
 * is scored too, over a grid of onset thresholds (by onset F1) and the same weights (they still set
 * the frame posterior, so they are chosen by F1 with offsets); if its best onset F1 beats the
 * blend's, `--write` stores it in `ensemble.mixHeads` with its threshold and its weight, otherwise it
 * removes the separator's entry.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scoreTranscription } from '../bench/lib/transcription.js';
import { notesFromTsv } from '../src/eval/io.js';
import { decodeWavFloat32 } from '../src/pipeline/serialize.js';
import { blendWithMix, mixHeadOnset, OnsetHead, PianoEnsembleTranscriber } from '../src/transcription/ensemble.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MANIFEST = join(ROOT, 'models/piano/manifest.json');
const WEIGHTS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
const HEAD_ONSET_THRESHOLDS = [0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6];
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
    const headFile = `mix-head-${separator}.onnx`;
    const head = existsSync(join(ROOT, 'models/piano', headFile)) ? await OnsetHead.create(join(ROOT, 'models/piano', headFile)) : undefined;
    // Sums over examples, per set and weight: [set][weight]; with the head, per weight and onset threshold.
    const onsetSum = setsOf.map(() => WEIGHTS.map(() => 0));
    const offsetSum = setsOf.map(() => WEIGHTS.map(() => 0));
    const headSum = WEIGHTS.map(() => HEAD_ONSET_THRESHOLDS.map(() => 0));
    const headOffsetSum = WEIGHTS.map(() => HEAD_ONSET_THRESHOLDS.map(() => 0));
    try {
      for (const [j, set] of setsOf.entries()) {
        for (const base of set.bases) {
          const read = (suffix: string) => decodeWavFloat32(new Uint8Array(readFileSync(`${base}${suffix}`)), `${base}${suffix}`);
          const reference = notesFromTsv(readFileSync(`${base}.notes.csv`, 'utf8'), `${base}.notes.csv`);
          const heardStem = await transcriber.heard(read('.wav'));
          const heardMix = await transcriber.heard(read('.mix.wav'));
          const stem = await transcriber.fuse(heardStem, 'separated');
          // As the transcriber hears the mix: fused as a solo recording (with the onset head).
          const mix = await transcriber.fuse(heardMix, 'solo');
          const headOnset = head ? await mixHeadOnset(head, heardStem, heardMix, stem.frames, stem.keys) : undefined;
          WEIGHTS.forEach((w, i) => {
            const blended = blendWithMix(stem, mix, w);
            const s = scoreTranscription(reference, transcriber.decode(blended, 'separated').notes);
            onsetSum[j][i] += s.onset.f1;
            offsetSum[j][i] += s.onsetOffset.f1;
            if (headOnset) {
              HEAD_ONSET_THRESHOLDS.forEach((t, k) => {
                const h = scoreTranscription(reference, transcriber.decode({ ...blended, onset: headOnset }, 'separated', t).notes);
                headSum[i][k] += h.onset.f1;
                headOffsetSum[i][k] += h.onsetOffset.f1;
              });
            }
          });
        }
      }
    } finally {
      await head?.dispose();
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
    if (head) {
      // The weight only sets the frame posterior, so onset F1 barely depends on it (through the
      // onset-support rule, if the profile has it): best onset F1, ties to the better F1 with offsets.
      let [bi, bk] = [0, 0];
      WEIGHTS.forEach((_, i) => HEAD_ONSET_THRESHOLDS.forEach((_, k) => {
        const d = headSum[i][k] - headSum[bi][bk];
        if (d > 1e-9 || (Math.abs(d) <= 1e-9 && headOffsetSum[i][k] > headOffsetSum[bi][bk] + 1e-9)) [bi, bk] = [i, k];
      }));
      console.log(`\n${separator}, mix head ${headFile}: onset F1 % by onset threshold, at mix weight ${WEIGHTS[bi]}\n`);
      console.log(`| onset threshold | ${HEAD_ONSET_THRESHOLDS.join(' | ')} |\n|${'---|'.repeat(1 + HEAD_ONSET_THRESHOLDS.length)}`);
      console.log(`| onset F1 | ${headSum[bi].map((x) => pct(x / total)).join(' | ')} |`);
      console.log(`\nF1 with offsets % by mix weight at onset threshold ${HEAD_ONSET_THRESHOLDS[bk]}: ${WEIGHTS.map((w, i) => `${w}: ${pct(headOffsetSum[i][bk] / total)}`).join(', ')}`);
      const headF1 = headSum[bi][bk] / total;
      const useHead = headF1 > onset[best] + 1e-9;
      console.log(`head at weight ${WEIGHTS[bi]}, onset threshold ${HEAD_ONSET_THRESHOLDS[bk]}: ${pct(headF1)} vs the blend's ${pct(onset[best])}: ${useHead ? 'the head' : 'the blend'}`);
      chosenHeads[separator] = useHead ? { file: headFile, onset: HEAD_ONSET_THRESHOLDS[bk] } : null;
      if (useHead) chosen[separator] = WEIGHTS[bi];
    }
  }
} finally {
  await transcriber.dispose();
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
