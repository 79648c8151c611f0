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
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scoreTranscription } from '../bench/lib/transcription.js';
import { notesFromTsv } from '../src/eval/io.js';
import { decodeWavFloat32 } from '../src/pipeline/serialize.js';
import { blendWithMix, PianoEnsembleTranscriber } from '../src/transcription/ensemble.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MANIFEST = join(ROOT, 'models/piano/manifest.json');
const WEIGHTS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
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
    // Sums over examples, per set and weight: [set][weight].
    const onsetSum = setsOf.map(() => WEIGHTS.map(() => 0));
    const offsetSum = setsOf.map(() => WEIGHTS.map(() => 0));
    for (const [j, set] of setsOf.entries()) {
      for (const base of set.bases) {
        const read = (suffix: string) => decodeWavFloat32(new Uint8Array(readFileSync(`${base}${suffix}`)), `${base}${suffix}`);
        const reference = notesFromTsv(readFileSync(`${base}.notes.csv`, 'utf8'), `${base}.notes.csv`);
        const stem = await transcriber.fusedPosteriors(read('.wav'), 'separated');
        // As the transcriber hears the mix: fused as a solo recording (with the onset head).
        const mix = await transcriber.fusedPosteriors(read('.mix.wav'), 'solo');
        WEIGHTS.forEach((w, i) => {
          const s = scoreTranscription(reference, transcriber.decode(blendWithMix(stem, mix, w), 'separated').notes);
          onsetSum[j][i] += s.onset.f1;
          offsetSum[j][i] += s.onsetOffset.f1;
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
  }
} finally {
  await transcriber.dispose();
}

if (args.includes('--write')) {
  const manifest = JSON.parse(readFileSync(MANIFEST, 'utf8')) as { ensemble?: { mixWeights?: Record<string, number> } };
  if (!manifest.ensemble) throw new Error(`${MANIFEST} has no ensemble settings`);
  const weights = { ...manifest.ensemble.mixWeights, ...chosen };
  for (const [k, w] of Object.entries(weights)) if (w === 0) delete weights[k];
  manifest.ensemble.mixWeights = weights;
  writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2) + '\n');
  console.log(`wrote mixWeights ${JSON.stringify(weights)} to ${MANIFEST}`);
}
