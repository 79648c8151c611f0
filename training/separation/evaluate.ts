/**
 * Evaluates the shipped `unmix` separator (the product path: TS STFT, ONNX, Wiener, resampling)
 * next to htdemucs and the oracle ideal ratio mask, and prints markdown tables:
 *
 *   1. held-out rendered songs (training/data/separation/test: unseen songs, MuseScore General,
 *      a font never used in training; 44.1 kHz stereo): museval-style median SDR per stem;
 *   2. the real MUSDB18 excerpt (../shared/data/eval/musdb18-sample): median SDR and BSS-Eval;
 *   3. piano note F1 (basic-pitch) on the benchmark's rendered mixes (bench/lib/e2e.ts: MAPS
 *      pieces' notes + bass + drums + string pad): clean piano vs mix vs what the product
 *      transcribes after separation (`other`, plus `piano` where the separator has one) and the `piano` stem alone;
 *   4. with --speed: x real time and peak RSS for a 10-minute song, in a child process.
 *
 *   node_modules/.bin/tsx training/separation/evaluate.ts [--songs 8] [--separators unmix,htdemucs,oracle-irm]
 *       [--no-htdemucs] [--no-piano | --piano-only] [--speed | --speed-only] [--wiener N]
 *
 * The `unmix` model is read from models/unmix, or $STEMSCRIBE_MODELS_DIR/unmix (a checkpoint
 * exported with `export.py --out DIR`, to compare before shipping).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildMixes } from '../../bench/lib/e2e.js';
import { loadAudio, MUSDB_DIR } from '../../bench/lib/data.js';
import { idealRatioMask } from '../../bench/lib/oracle.js';
import { scoreStems } from '../../bench/lib/separation.js';
import { scoreTranscription } from '../../bench/lib/transcription.js';
import { framewiseMedianSdr } from '../../src/eval/separation.js';
import { createSeparator, type SeparatorName } from '../../src/separation/index.js';
import { createTranscriber } from '../../src/transcription/index.js';
import { foldPianoIntoOther, presentStems, transcriptionSource } from '../../src/separation/stems.js';
import type { AudioData, Separator, StemName, Stems } from '../../src/types.js';
import { STEM_NAMES } from '../../src/types.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DATA = join(ROOT, 'training/data/separation/test');
/** Stem order of files rendered before the piano stem existed (index.jsonl without `stems`). */
const FOUR_STEM_FILE_ORDER: StemName[] = ['vocals', 'drums', 'bass', 'other'];
const args = process.argv.slice(2);
const flag = (name: string): boolean => args.includes(name);
const opt = (name: string, dflt: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const log = (s: string): void => console.error(s);
const num = (x: number, d = 2): string => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const median = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
};
const mean = (xs: number[]): number => {
  const s = xs.filter(Number.isFinite);
  return s.length ? s.reduce((a, b) => a + b, 0) / s.length : NaN;
};
const table = (head: string[], rows: string[][]): string => [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');

interface TestSong {
  name: string;
  stems: Stems;
  mix: AudioData;
  silent: string[];
}

/** The first `limit` held-out songs, or only song number `only`. */
function loadTestSongs(limit: number, only?: number): TestSong[] {
  const index = join(DATA, 'index.jsonl');
  if (!existsSync(index)) throw new Error(`${index} missing: run training/separation/render.ts first`);
  const lines = readFileSync(index, 'utf8').split('\n').filter(Boolean).slice(0, limit);
  // A partial render leaves fewer songs than asked for; the table's title then names the smaller count.
  if (lines.length < limit) log(`only ${lines.length} of ${limit} held-out songs in ${DATA}: run training/separation/render.ts --splits test for all`);
  return (only === undefined ? lines : [lines[only]]).map((line) => {
    const e = JSON.parse(line) as { name: string; samples: number; sampleRateHz: number; scale: number; silent: string[]; stems?: StemName[] };
    const buf = readFileSync(join(DATA, `${e.name}.s16`));
    const pcm = new Int16Array(buf.buffer, buf.byteOffset, buf.byteLength / 2);
    const n = e.samples;
    const stems = {} as Stems;
    (e.stems ?? FOUR_STEM_FILE_ORDER).forEach((stem, j) => {
      stems[stem] = { sampleRateHz: e.sampleRateHz, channels: [0, 1].map((c) => Float32Array.from(pcm.subarray((j * 2 + c) * n, (j * 2 + c + 1) * n), (v) => v * e.scale)) };
    });
    const all = presentStems(stems);
    const mix = { sampleRateHz: e.sampleRateHz, channels: [0, 1].map((c) => {
      const x = new Float32Array(n);
      for (const [, a] of all) {
        const ch = a.channels[c];
        for (let i = 0; i < n; i++) x[i] += ch[i];
      }
      return x;
    }) };
    const silentPiano = !stems.piano || stems.piano.channels.every((ch) => ch.every((v) => v === 0));
    if (silentPiano) e.silent.push('piano');
    return { name: e.name, stems, mix, silent: e.silent };
  });
}

/** The oracle ideal ratio mask over the song's stems (bench/lib/oracle.ts). */
function oracleIrm(stems: Stems, mix: AudioData): Stems {
  const names = presentStems(stems).map(([k]) => k);
  const masked = idealRatioMask(names.map((k) => stems[k] as AudioData), mix);
  const out = {} as Stems;
  names.forEach((name, j) => {
    out[name] = masked[j];
  });
  return out;
}

async function withSeparator<T>(name: SeparatorName | 'oracle-irm', fn: (sep: (s: TestSong | { stems: Stems; mix: AudioData }) => Promise<Stems>) => Promise<T>): Promise<T> {
  if (name === 'oracle-irm') return fn(async (s) => oracleIrm(s.stems, s.mix));
  // --wiener N: unmix with N Wiener EM iterations instead of its manifest's (0 = masks with the mix phase).
  const wiener = opt('--wiener', NaN);
  const sep: Separator =
    name === 'unmix' && Number.isFinite(wiener)
      ? await (await import('../../src/separation/unmix.js')).UnmixSeparator.create({ wienerIterations: wiener })
      : await createSeparator(name);
  try {
    return await fn((s) => sep.separate(s.mix));
  } finally {
    await sep.dispose?.();
  }
}

const HELD_OUT_COLUMNS = ['vocals', 'drums', 'bass', 'other+piano', 'piano'] as const;
type HeldOutColumn = (typeof HELD_OUT_COLUMNS)[number];

async function heldOut(separators: Array<SeparatorName | 'oracle-irm'>, songs: TestSong[]): Promise<string> {
  const rows: string[][] = [];
  for (const name of separators) {
    // `other+piano`: the four-stem `other` (a five-stem estimate's piano added back), comparable
    // across separators; `piano`: only where the separator returns one.
    const per: Record<HeldOutColumn, number[]> = { vocals: [], drums: [], bass: [], 'other+piano': [], piano: [] };
    let sec = 0;
    let cpuSec = 0;
    await withSeparator(name, async (run) => {
      for (const song of songs) {
        const t0 = performance.now();
        const c0 = process.cpuUsage();
        const est = await run(song);
        sec += (performance.now() - t0) / 1000;
        const c = process.cpuUsage(c0);
        cpuSec += (c.user + c.system) / 1e6;
        const sr = song.mix.sampleRateHz;
        const ref4 = foldPianoIntoOther(song.stems);
        const est4 = foldPianoIntoOther(est);
        for (const stem of ['vocals', 'drums', 'bass'] as const) {
          if (song.silent.includes(stem)) continue;
          per[stem].push(framewiseMedianSdr(ref4[stem].channels, est4[stem].channels, sr).medianSdr);
        }
        per['other+piano'].push(framewiseMedianSdr(ref4.other.channels, est4.other.channels, sr).medianSdr);
        if (est.piano && song.stems.piano && !song.silent.includes('piano')) {
          per.piano.push(framewiseMedianSdr(song.stems.piano.channels, est.piano.channels, sr).medianSdr);
        }
        log(`  ${name} ${song.name}: ${HELD_OUT_COLUMNS.map((s) => `${s} ${num(per[s].at(-1) ?? NaN)}`).join(', ')}`);
      }
    });
    const audioSec = songs.reduce((a, s) => a + s.mix.channels[0].length / s.mix.sampleRateHz, 0);
    const four: HeldOutColumn[] = ['vocals', 'drums', 'bass', 'other+piano'];
    rows.push([name, ...HELD_OUT_COLUMNS.map((s) => (per[s].length ? num(median(per[s])) : '-')), num(mean(four.map((s) => median(per[s])))), name === 'oracle-irm' ? '-' : `${num(audioSec / sec, 1)} / ${num(audioSec / cpuSec, 1)}`]);
  }
  return table(['separator', ...HELD_OUT_COLUMNS, 'mean of four', 'x real time'], rows);
}

async function musdb(separators: Array<SeparatorName | 'oracle-irm'>): Promise<string> {
  if (!existsSync(MUSDB_DIR)) return '_Skipped: MUSDB sample not found._';
  const stems = {} as Stems;
  for (const s of STEM_NAMES) stems[s] = await loadAudio(join(MUSDB_DIR, `${s}.wav`));
  const mix = await loadAudio(join(MUSDB_DIR, 'mixture.wav'));
  const rows: string[][] = [];
  for (const name of separators) {
    await withSeparator(name, async (run) => {
      const est = await run({ stems, mix });
      for (const r of scoreStems(name, stems, est)) rows.push([name, r.stem, num(r.medianSdrDb), num(r.sdrDb), num(r.sirDb), num(r.sarDb)]);
    });
    log(`  musdb ${name} done`);
  }
  return table(['separator', 'stem', 'median SDR (1 s)', 'SDR', 'SIR', 'SAR'], rows);
}

/** Piano F1 on the bench's e2e mixes (bench/lib/e2e.ts buildMixes: parts at measured levels relative to the piano). */
async function pianoF1(separators: SeparatorName[]): Promise<string> {
  const excerptSec = 30;
  const { mixes, reason } = await buildMixes(false, log, { mixes: 4, seconds: excerptSec, pianoAudio: ['rendered'] });
  if (mixes.length === 0) return `_Skipped: ${reason}._`;
  const tr = await createTranscriber('basic-pitch');
  const results: Record<string, Array<{ onset: number; onOff: number; sdr?: number }>> = {};
  const add = (k: string, v: { onset: number; onOff: number; sdr?: number }): void => {
    (results[k] ??= []).push(v);
  };
  const seps = await Promise.all(separators.map(async (n) => [n, await createSeparator(n)] as const));
  try {
    for (const m of mixes) {
      const score = async (a: AudioData): Promise<{ onset: number; onOff: number }> => {
        const s = scoreTranscription(m.pianoNotes, (await tr.transcribe(a)).notes);
        return { onset: s.onset.f1, onOff: s.onsetOffset.f1 };
      };
      add('clean piano', await score(m.piano));
      add('mix, no separation', await score(m.mix));
      for (const [name, sep] of seps) {
        const st = await sep.separate(m.mix);
        const source = transcriptionSource(st);
        const candidates: Array<[string, AudioData]> = [[source.label, source.audio], ...(st.piano ? [['piano (stem alone)', st.piano] as [string, AudioData]] : [])];
        for (const [label, audio] of candidates) {
          const sdr = framewiseMedianSdr(m.piano.channels, audio.channels, m.piano.sampleRateHz).medianSdr;
          add(`mix -> ${name} ${label}`, { ...(await score(audio)), sdr });
        }
      }
      log(`  piano F1 ${m.name}: ${Object.entries(results).map(([k, v]) => `${k} ${num(100 * (v.at(-1)?.onset ?? NaN), 1)}`).join(', ')}`);
    }
  } finally {
    await tr.dispose?.();
    for (const [, s] of seps) await s.dispose?.();
  }
  const levels = (k: 'bass' | 'drums' | 'pad'): string => num(mean(mixes.map((m) => m.levelsDb[k])), 1);
  return (
    `${mixes.length} mixes x ${excerptSec} s (bench/lib/e2e.ts; bass ${levels('bass')} dB, drums ${levels('drums')} dB, pad ${levels('pad')} dB relative to the piano), basic-pitch, mean over mixes (%):\n\n` +
    table(['path', 'onset F1', 'onset+offset F1', 'separated stem vs piano median SDR (dB)'], Object.entries(results).map(([k, v]) => [k, num(100 * mean(v.map((x) => x.onset)), 1), num(100 * mean(v.map((x) => x.onOff)), 1), v[0].sdr === undefined ? '-' : num(mean(v.map((x) => x.sdr ?? NaN)))]))
  );
}

/** Child-process mode: separate a 10-minute song built from held-out songs, print JSON. */
async function speedChild(): Promise<void> {
  const sr = 44100;
  const n = 600 * sr;
  const mix: AudioData = { sampleRateHz: sr, channels: [new Float32Array(n), new Float32Array(n)] };
  const count = readFileSync(join(DATA, 'index.jsonl'), 'utf8').split('\n').filter(Boolean).length;
  for (let pos = 0, k = 0; pos < n; k++) {
    // One song at a time, so the test data do not count in the peak.
    const s = loadTestSongs(count, k % count)[0].mix;
    const len = Math.min(s.channels[0].length, n - pos);
    for (let c = 0; c < 2; c++) mix.channels[c].set(s.channels[c].subarray(0, len), pos);
    pos += len;
  }
  const sep = await createSeparator('unmix');
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  await sep.separate(mix);
  const sec = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  // On a shared machine wall time depends on the other jobs; CPU seconds do not (2 cores: a job
  // that had both cores to itself would take at least cpuSec / 2).
  console.log(JSON.stringify({ audioSec: 600, wallSec: +sec.toFixed(1), xRealTimeWall: +(600 / sec).toFixed(2), cpuSec: +cpuSec.toFixed(1), xRealTimePerCpuSecond: +(600 / cpuSec).toFixed(2), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024), loadAverage: loadavg().map((x) => +x.toFixed(1)) }));
}

async function main(): Promise<void> {
  if (flag('--speed-child')) return speedChild();
  const out: string[] = [];
  const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, load average ${loadavg().map((x) => x.toFixed(1)).join(' ')}`;
  out.push(`Machine: ${machine}\n`);
  const listed = args.includes('--separators') ? args[args.indexOf('--separators') + 1].split(',') : ['unmix', 'htdemucs', 'oracle-irm'];
  const separators = listed.filter((s): s is SeparatorName => s !== 'oracle-irm' && !(flag('--no-htdemucs') && s === 'htdemucs')) as SeparatorName[];
  const withOracle = listed.includes('oracle-irm');
  if (flag('--piano-only')) {
    out.push(`## Piano F1 on the benchmark's rendered mixes\n\n${await pianoF1(separators)}\n`);
  } else if (!flag('--speed-only')) {
    const songs = loadTestSongs(opt('--songs', 8));
    log(`held-out: ${songs.length} songs`);
    out.push(`## Held-out rendered songs (${songs.length} x 30 s, MuseScore General; median over songs of the museval median SDR, dB)\n\n${await heldOut([...separators, ...(withOracle ? ['oracle-irm' as const] : [])], songs)}\n`);
    out.push(`## MUSDB18 sample excerpt (real, 6.8 s)\n\n${await musdb([...separators, ...(withOracle ? ['oracle-irm' as const] : [])])}\n`);
    if (!flag('--no-piano')) out.push(`## Piano F1 on the benchmark's rendered mixes\n\n${await pianoF1(separators)}\n`);
  }
  if (flag('--speed') || flag('--speed-only')) {
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--speed-child'], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const line = child.stdout.trim().split('\n').at(-1) ?? '';
    out.push(`## Speed, 10-minute 44.1 kHz stereo song (child process, default threads)\n\n${child.status === 0 ? line : `failed: ${child.stderr.slice(-500)}`}\n`);
  }
  const text = out.join('\n');
  console.log(text);
  const dir = join(ROOT, 'training/runs/separation');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `eval-${new Date().toISOString().replace(/[:.]/g, '-')}.md`), text);
}

await main();
