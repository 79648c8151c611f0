/**
 * Builds the separated tuning set for the piano model's decoding settings: what the transcriber
 * hears in the product's default path, a piano stem cut out of a band mix by a separator.
 *
 *   node_modules/.bin/tsx training/separated-val.ts [--count 40] [--seconds 20] [--separator htdemucs] [--seed 2024] [--out DIR] [--voice]
 *       [--split train --fonts fluidr3-gm,timgm6mb --level-jitter-db 0]
 *
 * Each example: a 20 s excerpt of an ASAP performance of a held-out work (the same sha1 rule as
 * training/render.py's `is_val_work`, so never a work the piano model trained on), rendered with
 * its sustain pedal in MuseScore General (the held-out piano timbre, full band at 44.1 kHz),
 * mixed with the e2e benchmark's band (bench/lib/e2e.ts `mixWithBand`: bass, drums and a string
 * pad from the piano's harmony; with `--voice` also a vocal stand-in, bench/lib/e2e.ts `voiceLine`), separated, and the transcription source (`other`, plus `piano`
 * from a five-stem separator) written as mono at the separator's 44.1 kHz, so that each network
 * hears it resampled once to its own rate, as in the product. `training/export.py` reads the folder to
 * tune the `separated` decoding profile; the clean renders tune the `solo` one.
 *
 * Output (training/data/separated-val/, git-ignored): NNN.wav (separated, 44.1 kHz mono float),
 * NNN.clean.wav (the piano part alone, same format), NNN.mix.wav (the band mix it was separated
 * from, same format), NNN.piano.wav (a five-stem separator's `piano` stem alone), NNN.notes.csv (onsetSec, offsetSec,
 * pitchMidi, velocity: offsets at the key release, as MAPS and the training labels have them),
 * index.json (sources and settings). Needs ../shared/data and Debian's musescore-general-soundfont.
 *
 * `--split train` draws the excerpts from the piano model's training works instead, each rendered
 * (piano and band) in one of `--fonts` (default: the training timbres FluidR3 GM and TimGM6mb):
 * training material for the separated onset head (training/onset_head.py `--separated`), never
 * for tuning. `--level-jitter-db J` moves each band part's level by a uniform draw in +-J dB, so
 * that training data is not all at the benchmark's levels.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mixWithBand } from '../bench/lib/e2e.js';
import { cropNotes, SHARED_DATA } from '../bench/lib/data.js';
import { downmixToMono } from '../src/audio/channels.js';
import { decodeMidi } from '../src/midi/decode.js';
import { encodeWavFloat32 } from '../src/pipeline/serialize.js';
import { createSeparator, SEPARATOR_NAMES, type SeparatorName } from '../src/separation/index.js';
import { transcriptionSource } from '../src/separation/stems.js';
import * as render from '../src/synth/render.js';
import { listSoundfonts } from '../src/synth/soundfonts.js';
import type { PedalSpan } from '../src/types.js';
import { rng } from './separation/songs.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const ASAP_DIR = join(SHARED_DATA, 'midi/asap');
const DEFAULT_OUT_DIR = join(ROOT, 'training/data/separated-val');

const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt;
};

/** training/render.py's rule: about 5 % of ASAP works (all their performances) are held out. */
function isValWork(workDir: string): boolean {
  const digest = createHash('sha1').update(workDir).digest('hex');
  return BigInt(`0x${digest}`) % 20n === 0n;
}

function midiFiles(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) return midiFiles(p);
      return name.endsWith('.mid') ? [p] : [];
    });
}

function cropPedal(spans: readonly PedalSpan[], startSec: number, seconds: number): PedalSpan[] {
  const end = startSec + seconds;
  return spans
    .filter((s) => s.offsetSec > startSec && s.onsetSec < end)
    .map((s) => ({ onsetSec: Math.max(s.onsetSec, startSec) - startSec, offsetSec: Math.min(s.offsetSec, end) - startSec }));
}


async function main(): Promise<void> {
  const count = Number(opt('--count', '40'));
  const seconds = Number(opt('--seconds', '20'));
  const seed = Number(opt('--seed', '2024'));
  const separatorName = opt('--separator', 'htdemucs') as SeparatorName;
  const outDir = opt('--out', DEFAULT_OUT_DIR);
  // A vocal stand-in in the band too: the mix then holds a melody the stem should not.
  const withVoice = args.includes('--voice');
  const levelJitterDb = Number(opt('--level-jitter-db', '0'));
  if (!SEPARATOR_NAMES.includes(separatorName) || separatorName === 'none') throw new Error(`--separator: one of ${SEPARATOR_NAMES.filter((s) => s !== 'none').join(', ')}`);
  const split = opt('--split', 'val');
  if (split !== 'val' && split !== 'train') throw new Error('--split: val or train');
  const fontIds = opt('--fonts', split === 'val' ? 'musescore-general' : 'fluidr3-gm,timgm6mb').split(',');
  const fonts = fontIds.map((id) => {
    const font = listSoundfonts().find((f) => f.id === id);
    if (!font?.present) throw new Error(`Sound font ${id} is missing: ${font?.installHint ?? 'unknown id'}`);
    return font;
  });
  const files = midiFiles(ASAP_DIR).filter((f) => isValWork(relative(ASAP_DIR, join(f, '..'))) === (split === 'val'));
  if (files.length === 0) throw new Error(`no ${split} ASAP works under ${ASAP_DIR}`);
  console.error(`${files.length} ${split} ASAP performances; ${count} excerpts of ${seconds} s; separator ${separatorName}; fonts ${fontIds.join(', ')}`);
  mkdirSync(outDir, { recursive: true });
  const random = rng(seed);
  const separator = await createSeparator(separatorName);
  const index: Array<{ id: string; source: string; startSec: number; notes: number; levelsDb: Record<string, number>; font: string }> = [];
  try {
    for (let i = 0; index.length < count; i++) {
      const file = files[Math.floor(random() * files.length)];
      const midi = decodeMidi(readFileSync(file));
      const lastOnsetSec = midi.notes.at(-1)?.onsetSec ?? 0;
      const startSec = random() * Math.max(0, lastOnsetSec - seconds);
      const notes = cropNotes(midi.notes, startSec, seconds);
      if (notes.length < 5) continue;
      const pedal = cropPedal(midi.pedal, startSec, seconds);
      // One font draws nothing, so the tuning sets keep the excerpts they were built with.
      const font = fonts.length > 1 ? fonts[Math.floor(random() * fonts.length)] : fonts[0];
      const piano = await render.renderNotes(notes, { soundfontPath: font.path, sampleRateHz: 44100, channels: 2, tailSec: 0, program: 0, pedal });
      // No jitter draws nothing, so the tuning sets keep the excerpts they were built with.
      const jitter = (): number => (levelJitterDb > 0 ? levelJitterDb * (2 * random() - 1) : 0);
      const offsetsDb = { bass: jitter(), drums: jitter(), pad: jitter(), voice: jitter() };
      const band = await mixWithBand(piano, notes, seconds, font.path, render, withVoice, offsetsDb);
      const stems = await separator.separate(band.mix);
      const id = String(index.length).padStart(3, '0');
      writeFileSync(join(outDir, `${id}.wav`), encodeWavFloat32(downmixToMono(transcriptionSource(stems).audio)));
      writeFileSync(join(outDir, `${id}.clean.wav`), encodeWavFloat32(downmixToMono(band.piano)));
      // A five-stem separator's piano stem alone: it tells the piano from the pad that shares `other`.
      if (stems.piano) writeFileSync(join(outDir, `${id}.piano.wav`), encodeWavFloat32(downmixToMono(stems.piano)));
      // The mix the stem came from: the transcriber may also listen to it (a stem loses piano).
      writeFileSync(join(outDir, `${id}.mix.wav`), encodeWavFloat32(downmixToMono(band.mix)));
      writeFileSync(
        join(outDir, `${id}.notes.csv`),
        // A key pressed and released within one tick sounds for the renderer's 1 ms: keep it, with that length.
        notes.map((n) => `${n.onsetSec.toFixed(6)},${Math.max(n.offsetSec, n.onsetSec + 0.001).toFixed(6)},${n.pitchMidi},${n.velocity}`).join('\n') + '\n',
      );
      const source = `${relative(ASAP_DIR, file)}@${startSec.toFixed(1)}`;
      index.push({ id, source, startSec, notes: notes.length, levelsDb: band.levelsDb, font: font.id });
      console.error(`  ${id} ${source}: ${notes.length} notes`);
    }
  } finally {
    await separator.dispose?.();
  }
  const settings = { count, seconds, seed, split, separator: separator.info, fonts: fontIds, voice: withVoice, levelJitterDb };
  writeFileSync(join(outDir, 'index.json'), JSON.stringify({ settings, examples: index }, null, 2) + '\n');
  console.error(`wrote ${index.length} examples to ${outDir}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
