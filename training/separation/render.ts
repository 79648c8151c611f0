/**
 * Renders the separator's training/validation/test songs (songs.ts) with GM SoundFonts through
 * src/synth/render.ts, one stem at a time, into `<out>/<split>/<name>.s16` (int16, shape
 * [5 stems (vocals, drums, bass, other, piano), 2 channels, samples], one scale per song) plus
 * `<out>/<split>/index.jsonl` (whose `stems` field names the stored order). The mix is the sum of the stems (the renderer is linear).
 *
 * Splits: `train` and `valid` use FluidR3 GM and TimGM6mb (a font drawn per stem); `test` uses
 * songs from a separate seed range rendered only with MuseScore General (held out of training).
 * Piano parts from ASAP performances (../shared/data/midi/asap) come from disjoint composer sets:
 * train/valid never see the test composers.
 *
 *   node_modules/.bin/tsx training/separation/render.ts --train 150 --valid 8 --test 8
 *
 * Options: --out DIR, --train/--valid/--test N (songs), --train-sec/--test-sec, --train-rate-hz/
 * --test-rate-hz, --asap DIR, --train-fonts a.sf2,b.sf3 and --test-font c.sf3 (paths; default the
 * Debian fonts), --splits train,valid,test, --shard k/n (render every n-th song starting at k, into
 * index-k.jsonl: n processes in parallel on a many-core machine).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, appendFileSync, existsSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import tonejsMidi from '@tonejs/midi';
import { renderMidi } from '../../src/synth/render.js';
import { soundfontPath } from '../../src/synth/soundfonts.js';
import { makeSong, type PianoExcerpt } from './songs.js';

const { Midi } = tonejsMidi;
const STEMS = ['vocals', 'drums', 'bass', 'other', 'piano'] as const;

interface Args {
  out: string;
  train: number;
  valid: number;
  test: number;
  trainSec: number;
  testSec: number;
  trainRateHz: number;
  testRateHz: number;
  asap: string;
  trainFonts: string;
  testFont: string;
  splits: string;
  shard: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = {
    out: 'training/data/separation',
    train: 160,
    valid: 8,
    test: 8,
    trainSec: 24,
    testSec: 30,
    trainRateHz: 22050,
    testRateHz: 44100,
    asap: '../shared/data/midi/asap',
    trainFonts: '',
    testFont: '',
    splits: 'test,valid,train',
    shard: '0/1',
  };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof Args;
    if (!(key in a)) throw new Error(`unknown option ${argv[i]}`);
    const v = argv[i + 1];
    (a as unknown as Record<string, string | number>)[key] = typeof a[key] === 'number' ? Number(v) : v;
  }
  return a;
}

function listMidi(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.mid')) out.push(p);
    }
  };
  if (existsSync(dir)) walk(dir);
  return out;
}

/** Test composers (their performances never go into train/valid). */
const TEST_COMPOSERS = ['Schubert', 'Haydn'];

function excerptSource(files: string[]): (r: () => number, durationSec: number) => PianoExcerpt | undefined {
  if (files.length === 0) return () => undefined;
  return (r, durationSec) => {
    const file = files[Math.floor(r() * files.length)];
    const midi = new Midi(readFileSync(file));
    const notes = midi.tracks.flatMap((t) => t.notes.map((n) => ({ onsetSec: n.time, offsetSec: n.time + n.duration, pitchMidi: n.midi, velocity: Math.round(n.velocity * 127) })));
    if (notes.length === 0) return undefined;
    const end = Math.max(...notes.map((n) => n.offsetSec));
    const start = Math.max(0, r() * (end - durationSec));
    const inWindow = notes
      .filter((n) => n.onsetSec >= start && n.onsetSec < start + durationSec - 0.1)
      .map((n) => ({ ...n, onsetSec: n.onsetSec - start, offsetSec: Math.min(n.offsetSec, start + durationSec) - start }));
    const pedal: PianoExcerpt['pedal'] = [];
    for (const t of midi.tracks) {
      let downAt: number | undefined;
      for (const cc of t.controlChanges[64] ?? []) {
        if (cc.value >= 0.5 && downAt === undefined) downAt = cc.time;
        else if (cc.value < 0.5 && downAt !== undefined) {
          const a = Math.max(downAt, start) - start;
          const b = Math.min(cc.time, start + durationSec) - start;
          if (b > a) pedal.push({ onsetSec: a, offsetSec: b });
          downAt = undefined;
        }
      }
    }
    return { notes: inWindow, pedal };
  };
}

function fit(ch: Float32Array, n: number): Float32Array {
  const out = new Float32Array(n);
  out.set(ch.subarray(0, Math.min(n, ch.length)));
  return out;
}

interface Shard {
  k: number;
  n: number;
}

async function renderSplit(split: string, count: number, seed0: number, fonts: Array<{ id: string; path: string }>, durationSec: number, rateHz: number, asapFiles: string[], out: string, shard: Shard): Promise<void> {
  const dir = join(out, split);
  mkdirSync(dir, { recursive: true });
  const indexPath = join(dir, shard.n > 1 ? `index-${shard.k}.jsonl` : 'index.jsonl');
  const done = new Set(existsSync(indexPath) ? readFileSync(indexPath, 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { name: string }).name) : []);
  const excerpts = excerptSource(asapFiles);
  const n = Math.round(durationSec * rateHz);
  const t0 = Date.now();
  for (let k = shard.k; k < count; k += shard.n) {
    const seed = seed0 + k;
    const name = `${split}-${String(k).padStart(4, '0')}`;
    if (done.has(name)) continue;
    const song = makeSong({ seed, durationSec, pianoExcerpt: excerpts });
    const stemAudio: Float32Array[][] = [];
    const stemFonts: string[] = [];
    let fr = seed * 7919;
    for (const stem of STEMS) {
      const font = fonts[(fr++ >>> 0) % fonts.length];
      stemFonts.push(font.id);
      const audio = await renderMidi(song.midi[stem], { soundfontPath: font.path, sampleRateHz: rateHz, channels: 2, tailSec: 0 });
      stemAudio.push([fit(audio.channels[0], n), fit(audio.channels[1], n)]);
    }
    let peak = 1e-9;
    for (const s of stemAudio) for (const c of s) for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(c[i]));
    const pcm = new Int16Array(STEMS.length * 2 * n);
    const g = 32767 / peak;
    stemAudio.forEach((s, si) => s.forEach((c, ci) => {
      const off = (si * 2 + ci) * n;
      for (let i = 0; i < n; i++) pcm[off + i] = Math.round(c[i] * g);
    }));
    writeFileSync(join(dir, `${name}.s16`), new Uint8Array(pcm.buffer));
    const entry = {
      name,
      seed,
      samples: n,
      sampleRateHz: rateHz,
      stems: STEMS,
      scale: peak / 32767,
      bpm: song.bpm,
      programs: song.programs,
      fonts: Object.fromEntries(STEMS.map((s, i) => [s, stemFonts[i]])),
      asapPiano: song.asapPiano,
      silent: song.silent,
    };
    appendFileSync(indexPath, JSON.stringify(entry) + '\n');
    if (k % 10 === 0) console.log(`${name}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const byPath = (p: string): { id: string; path: string } => ({ id: basename(p).replace(/\.(sf2|sf3)(\.wasm)?$/, ''), path: p });
  const trainFonts = args.trainFonts
    ? args.trainFonts.split(',').map(byPath)
    : (['fluidr3-gm', 'timgm6mb'] as const).map((id) => ({ id, path: soundfontPath(id) }));
  const splits = args.splits.split(',');
  const testFonts = !splits.includes('test') ? [] : args.testFont ? [byPath(args.testFont)] : [{ id: 'musescore-general', path: soundfontPath('musescore-general') }];
  const [k, n] = args.shard.split('/').map(Number);
  const shard = { k, n };
  const asap = listMidi(args.asap);
  const isTest = (f: string): boolean => TEST_COMPOSERS.some((c) => f.includes(`/${c}/`));
  const trainAsap = asap.filter((f) => !isTest(f));
  const testAsap = asap.filter(isTest);
  console.log(`ASAP: ${trainAsap.length} train/valid files, ${testAsap.length} test files`);
  if (process.env.RENDER_FRESH) rmSync(args.out, { recursive: true, force: true });
  // Seed ranges are disjoint: train 1.., valid 100001.., test 200001..
  if (splits.includes('test')) await renderSplit('test', args.test, 200_001, testFonts, args.testSec, args.testRateHz, testAsap, args.out, shard);
  if (splits.includes('valid')) await renderSplit('valid', args.valid, 100_001, trainFonts, args.trainSec, args.trainRateHz, trainAsap, args.out, shard);
  if (splits.includes('train')) await renderSplit('train', args.train, 1, trainFonts, args.trainSec, args.trainRateHz, trainAsap, args.out, shard);
}

await main();
