/**
 * Chooses, per separator, how much of the unseparated mix the piano-ensemble blends into a
 * separated stem's posteriors (`ensemble.mixWeights` in models/piano/manifest.json; see
 * src/transcription/ensemble.ts `blendWithMix`).
 *
 *   node_modules/.bin/tsx training/mix-weight.ts [--set htdemucs=training/data/separated-val] [--set unmix=DIR] [--write]
 *
 * Each set is a folder that training/separated-val.ts built with that separator (NNN.wav the stem,
 * NNN.mix.wav the mix, NNN.notes.csv the notes): held-out works in the held-out piano timbre, never
 * MAPS or the benchmark's mixes. For each weight on the grid it decodes every example with the
 * separated profile and prints mean onset note F1 and F1 with offsets; the weight with the best
 * onset F1 wins (ties: the smaller weight, the cheaper path). `--write` stores the winners in the
 * manifest (0 removes the separator: no second pass over the mix). Run again after the piano model
 * or its separated decoding profile changes (training/export.py keeps the weights on --retune).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { scoreTranscription } from '../bench/lib/transcription.js';
import { decodeWavFloat32 } from '../src/pipeline/serialize.js';
import { blendWithMix, PianoEnsembleTranscriber } from '../src/transcription/ensemble.js';
import type { Note } from '../src/types.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const MANIFEST = join(ROOT, 'models/piano/manifest.json');
const WEIGHTS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
const DEFAULT_SETS = ['htdemucs=training/data/separated-val', 'unmix=training/data/separated-val-unmix'];

const args = process.argv.slice(2);
const sets = (args.includes('--set') ? args.flatMap((a, i) => (args[i - 1] === '--set' ? [a] : [])) : DEFAULT_SETS).map((s) => {
  const [separator, dir] = s.split('=');
  return { separator, dir: join(ROOT, dir ?? '') };
});

function readNotes(path: string): Note[] {
  return readFileSync(path, 'utf8').trim().split('\n').map((line) => {
    const [onsetSec, offsetSec, pitchMidi, velocity] = line.split(',').map(Number);
    return { onsetSec, offsetSec, pitchMidi, velocity, confidence: 1 };
  });
}

const transcriber = await PianoEnsembleTranscriber.create();
const chosen: Record<string, number> = {};
try {
  for (const { separator, dir } of sets) {
    const ids = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.mix.wav')).map((f) => f.slice(0, -'.mix.wav'.length)).sort() : [];
    if (ids.length === 0) {
      console.log(`${separator}: no examples with a mix in ${dir} (build them with training/separated-val.ts --separator ${separator}); skipped`);
      continue;
    }
    const onset = WEIGHTS.map(() => 0);
    const withOffset = WEIGHTS.map(() => 0);
    for (const id of ids) {
      const read = (suffix: string) => decodeWavFloat32(new Uint8Array(readFileSync(join(dir, `${id}${suffix}`))), `${id}${suffix}`);
      const reference = readNotes(join(dir, `${id}.notes.csv`));
      const stem = await transcriber.fusedPosteriors(read('.wav'), 'separated');
      const mix = await transcriber.fusedPosteriors(read('.mix.wav'), 'separated');
      WEIGHTS.forEach((w, i) => {
        const s = scoreTranscription(reference, transcriber.decode(blendWithMix(stem, mix, w), 'separated').notes);
        onset[i] += s.onset.f1 / ids.length;
        withOffset[i] += s.onsetOffset.f1 / ids.length;
      });
    }
    console.log(`\n${separator}: ${ids.length} examples from ${dir}\n\n| mix weight | onset F1 | with offsets |\n|---|---|---|`);
    WEIGHTS.forEach((w, i) => console.log(`| ${w} | ${(100 * onset[i]).toFixed(1)} | ${(100 * withOffset[i]).toFixed(1)} |`));
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
