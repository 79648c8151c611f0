/**
 * Speed and memory benchmark (`npm run bench:speed`, i.e. `npx tsx bench/speed.ts`).
 *
 * For each input length (default 0.5 and 5 minutes) it runs the pipeline's stages one after the
 * other, each in its own child process, the way the cloud runs them (every stage reads the
 * previous stage's output from a file):
 *   decode (16-bit WAV -> float PCM) -> separate (htdemucs; the `other` stem is handed on)
 *   -> transcribe (the default transcriber on the `other` stem, with the mix it came from)
 *   -> postprocess + MIDI encode.
 * Then a separation-only run on a long song (default 10 minutes) for its peak memory.
 *
 * Reported per stage: model load time, processing time (the stage call alone, without reading or
 * writing files), real-time factor (audio seconds per processing second, "x real time"), the CPU
 * time of the stage call with the speed it implies on an otherwise idle machine (audio seconds x
 * threads / CPU seconds: the wall-clock figure on a shared machine understates it), and the
 * child process's peak RSS (`process.resourceUsage().maxRSS`: everything the stage process held,
 * including its input and output buffers and the runtime).
 *
 * Inputs are real music when ../shared/data/eval/musdb18-sample is present (its 6.8 s mix tiled
 * to length, 44.1 kHz stereo), else a synthetic mix. A stage whose module is missing prints
 * "not available" and the run goes on.
 *
 * Options: --minutes 0.5,5   input lengths for the per-stage table
 *          --long-minutes 10 separation-only run (0 skips it)
 *          --threads N       onnxruntime intra-op threads (default: one per core)
 *          --no-separation   skip htdemucs in the per-stage runs (transcribe the mix)
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AudioData } from '../src/types.js';
import { DEFAULT_TRANSCRIBER } from '../src/transcription/index.js';

const SELF = fileURLToPath(import.meta.url);
const MUSDB_MIX = fileURLToPath(new URL('../../shared/data/eval/musdb18-sample/mixture.wav', import.meta.url));

type StageName = 'decode' | 'separate' | 'transcribe' | 'postprocess';

interface ChildResult {
  ok: boolean;
  /** Why the stage could not run (module missing, error). */
  reason?: string;
  loadSec?: number;
  processSec?: number;
  /** CPU time of the stage call, all threads. */
  cpuSec?: number;
  audioSec?: number;
  maxRssMB?: number;
  detail?: string;
}

// ---------------------------------------------------------------------------------------------
// Child side: run one stage, print one RESULT line.

/** CPU seconds (user + system, all threads) spent in the last `timeIt` call. */
let lastCpuSec = 0;

async function timeIt<T>(fn: () => Promise<T> | T): Promise<{ value: T; sec: number }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  const sec = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  lastCpuSec = (c.user + c.system) / 1e6;
  return { value, sec };
}

function isMissingModule(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

async function runChild(stage: StageName, input: string, output: string, threads: number | undefined): Promise<ChildResult> {
  const { decodeWavFloat32, encodeWavFloat32 } = await import('../src/pipeline/serialize.js');
  // A view on the file's buffer, not a copy: a stage process holds its input once.
  const readBytes = (path: string): Uint8Array => {
    const buf = readFileSync(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  };
  const audioSec = (a: AudioData): number => (a.channels[0]?.length ?? 0) / a.sampleRateHz;
  switch (stage) {
    case 'decode': {
      const { decodeAudio } = await import('../src/audio/decode.js');
      const bytes = readBytes(input);
      const { value: audio, sec } = await timeIt(() => decodeAudio(bytes, { fileName: input, limits: { maxDurationSec: 3600, maxBytes: 2 ** 31 } }));
      writeFileSync(output, encodeWavFloat32(audio));
      return { ok: true, loadSec: 0, processSec: sec, audioSec: audioSec(audio), detail: `${audio.sampleRateHz} Hz x ${audio.channels.length} ch` };
    }
    case 'separate': {
      const { createSeparator } = await import('../src/separation/index.js');
      const audio = decodeWavFloat32(readBytes(input));
      const { value: sep, sec: loadSec } = await timeIt(() => createSeparator('htdemucs', threads ? { intraOpNumThreads: threads } : {}));
      const { value: stems, sec } = await timeIt(() => sep.separate(audio));
      await sep.dispose?.();
      writeFileSync(output, encodeWavFloat32(stems.other));
      return { ok: true, loadSec, processSec: sec, audioSec: audioSec(audio), detail: sep.info.version };
    }
    case 'transcribe': {
      const { createTranscriber, DEFAULT_TRANSCRIBER } = await import('../src/transcription/index.js');
      const { downmixToMono } = await import('../src/audio/channels.js');
      const { transcriptionToJson } = await import('../src/pipeline/serialize.js');
      // `stem::mix` after separation: the pipeline hands the transcriber the mix with its stem.
      const [stemPath, mixPath] = input.split('::');
      const audio = decodeWavFloat32(readBytes(stemPath));
      const mix = mixPath ? { audio: decodeWavFloat32(readBytes(mixPath)), separator: 'htdemucs' } : undefined;
      const { value: tr, sec: loadSec } = await timeIt(() => createTranscriber(DEFAULT_TRANSCRIBER, threads ? { intraOpNumThreads: threads } : {}));
      // Downmix inside the timed part: the pipeline's transcribe stage does it too.
      const options = mix ? { source: 'separated' as const, mix } : { source: 'solo' as const };
      const { value: transcription, sec } = await timeIt(() => tr.transcribe(downmixToMono(audio), options));
      await tr.dispose?.();
      writeFileSync(output, transcriptionToJson(transcription));
      return { ok: true, loadSec, processSec: sec, audioSec: audioSec(audio), detail: `${transcription.notes.length} notes` };
    }
    case 'postprocess': {
      const { postprocessStage } = await import('../src/pipeline/stages.js');
      const { transcriptionFromJson } = await import('../src/pipeline/serialize.js');
      const [jsonPath, durationSec] = input.split('::');
      const transcription = transcriptionFromJson(readFileSync(jsonPath, 'utf8'));
      const { value: result, sec } = await timeIt(() => postprocessStage(transcription, {}, 'bench'));
      writeFileSync(output, result.midi);
      return { ok: true, loadSec: 0, processSec: sec, audioSec: Number(durationSec), detail: `${result.score.notes.length} notes, ${result.midi.length} B MIDI` };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Parent side: build inputs, spawn children, print tables.

function spawnStage(stage: StageName, input: string, output: string, threads: number | undefined): Promise<ChildResult> {
  const args = ['--import', 'tsx', SELF, '--child', stage, input, output, String(threads ?? 0)];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (line) return resolve(JSON.parse(line.slice(7)) as ChildResult);
      const lastErr = err.trim().split('\n').filter((l) => !/^\s+at /.test(l)).slice(-3).join(' | ');
      resolve({ ok: false, reason: `exit ${code}: ${lastErr.slice(0, 300)}` });
    });
  });
}

/** The 6.8 s MUSDB mix tiled to `seconds`, or a synthetic mix when the shared data is absent. */
async function buildInput(seconds: number): Promise<{ audio: AudioData; source: string }> {
  const rate = 44_100;
  const n = Math.round(seconds * rate);
  if (existsSync(MUSDB_MIX)) {
    const { decodeAudio } = await import('../src/audio/decode.js');
    const clip = await decodeAudio(new Uint8Array(readFileSync(MUSDB_MIX)), { fileName: MUSDB_MIX });
    const channels = clip.channels.map((c) => {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i += c.length) out.set(c.subarray(0, Math.min(c.length, n - i)), i);
      return out;
    });
    return { audio: { sampleRateHz: clip.sampleRateHz, channels }, source: 'MUSDB18 sample mix, tiled' };
  }
  // Synthetic: a bass line, chords and noise-burst "drums" at 120 bpm.
  const l = new Float32Array(n);
  const r = new Float32Array(n);
  const chord = [220, 277.18, 329.63];
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const beat = t % 0.5;
    const bass = 0.2 * Math.sin(2 * Math.PI * (55 * (1 + (Math.floor(t / 2) % 4) / 4)) * t);
    const keys = chord.reduce((acc, f) => acc + 0.08 * Math.sin(2 * Math.PI * f * t), 0) * Math.exp(-((t % 2) * 1.5));
    const hit = beat < 0.05 ? 0.3 * (((i * 2654435761) >>> 0) / 2 ** 32 - 0.5) * Math.exp(-beat * 60) : 0;
    l[i] = bass + keys + hit;
    r[i] = bass + 0.8 * keys + hit;
  }
  return { audio: { sampleRateHz: rate, channels: [l, r] }, source: 'synthetic mix (shared data absent)' };
}

const fmt = (v: number | undefined, digits = 1): string => (v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits));

const CORES = availableParallelism();
/** onnxruntime intra-op threads of this run (set from --threads). */
let ortThreads = CORES;

const speed = (v: number | undefined): string => `${fmt(v, v !== undefined && v < 10 ? 2 : 0)}x`;

/**
 * Wall-clock speed is what a user sees but depends on what else the machine runs; the CPU-time
 * figure (audio seconds x cores / CPU seconds) is what the stage would reach with every core to
 * itself and perfect threading, an upper bound that is insensitive to other load.
 */
function row(label: string, stage: string, r: ChildResult): string {
  if (!r.ok) return `| ${label} | ${stage} | not available | | | | | | ${r.reason ?? ''} |`;
  const rtf = r.audioSec !== undefined && r.processSec ? r.audioSec / r.processSec : undefined;
  const threads = stage.startsWith('separate') || stage.startsWith('transcribe') ? Math.min(ortThreads, CORES) : 1;
  const cpuRtf = r.audioSec !== undefined && r.cpuSec ? (r.audioSec * threads) / r.cpuSec : undefined;
  return `| ${label} | ${stage} | ${fmt(r.loadSec, 2)} | ${fmt(r.processSec, 2)} | ${speed(rtf)} | ${fmt(r.cpuSec, 2)} | ${speed(cpuRtf)} | ${fmt(r.maxRssMB, 0)} | ${r.detail ?? ''} |`;
}

const HEADER =
  '| input | stage | model load (s) | process (s) | speed, wall clock (x real time) | CPU (s) | speed, CPU-bound (x real time) | peak RSS (MiB) | notes |\n' +
  '|---|---|---|---|---|---|---|---|---|';

function parseArgs(argv: string[]): { minutes: number[]; longMinutes: number; threads: number; separation: boolean } {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const minutes = (get('--minutes') ?? '0.5,5').split(',').map(Number).filter((m) => m > 0);
  const longMinutes = Number(get('--long-minutes') ?? 10);
  const t = get('--threads');
  // Default: one thread per core, which is also onnxruntime's default; stated so every run says it.
  return { minutes, longMinutes, threads: t ? Number(t) : availableParallelism(), separation: !argv.includes('--no-separation') };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (argv[0] === '--child') {
    const [, stage, input, output, threads] = argv;
    let result: ChildResult;
    try {
      result = await runChild(stage as StageName, input, output, Number(threads) || undefined);
    } catch (e) {
      result = { ok: false, reason: isMissingModule(e) ? `module missing: ${(e as Error).message.split('\n')[0]}` : (e as Error).message.split('\n')[0] };
    }
    result.maxRssMB = process.resourceUsage().maxRSS / 1024;
    if (result.ok) result.cpuSec = lastCpuSec;
    process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
    return;
  }

  const opts = parseArgs(argv);
  ortThreads = opts.threads;
  const { encodeWav } = await import('../src/audio/wav.js');
  const dir = mkdtempSync(join(tmpdir(), 'stemscribe-speed-'));
  const cpu = cpus();
  console.log('# stemscribe speed benchmark\n');
  console.log(`Machine: ${cpu.length} x ${cpu[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ` +
    `load average at start ${loadavg().map((v) => v.toFixed(1)).join(' ')}; onnxruntime intra-op threads: ${opts.threads}.\n`);
  try {
    const tables: string[] = [];
    for (const minutes of opts.minutes) {
      const seconds = minutes * 60;
      const label = seconds < 60 ? `${seconds} s` : `${minutes} min`;
      const { audio, source } = await buildInput(seconds);
      const wav = join(dir, `in-${seconds}.wav`);
      writeFileSync(wav, encodeWav(audio, { format: 'pcm16' }));
      console.error(`[${label}] input: ${source}`);
      const rows: string[] = [];
      const decoded = join(dir, `decoded-${seconds}.wav`);
      const dec = await spawnStage('decode', wav, decoded, opts.threads);
      rows.push(row(label, 'decode', dec));
      console.error(rows.at(-1));
      let toTranscribe = decoded;
      if (opts.separation && dec.ok) {
        const other = join(dir, `other-${seconds}.wav`);
        const sep = await spawnStage('separate', decoded, other, opts.threads);
        rows.push(row(label, 'separate (htdemucs)', sep));
        console.error(rows.at(-1));
        if (sep.ok) toTranscribe = other;
      }
      const notes = join(dir, `notes-${seconds}.json`);
      const trInput = toTranscribe === decoded ? decoded : `${toTranscribe}::${decoded}`;
      const tr = dec.ok ? await spawnStage('transcribe', trInput, notes, opts.threads) : { ok: false, reason: 'no decoded input' };
      rows.push(row(label, `transcribe (${DEFAULT_TRANSCRIBER}, ${toTranscribe === decoded ? 'mix as solo' : 'other stem with its mix'})`, tr));
      console.error(rows.at(-1));
      const pp = tr.ok ? await spawnStage('postprocess', `${notes}::${seconds}`, join(dir, `out-${seconds}.mid`), opts.threads) : { ok: false, reason: 'no transcription' };
      rows.push(row(label, 'postprocess + MIDI encode', pp));
      console.error(rows.at(-1));
      tables.push(...rows);
    }
    console.log('## Per stage\n');
    console.log(HEADER);
    for (const r of tables) console.log(r);

    if (opts.longMinutes > 0) {
      const seconds = opts.longMinutes * 60;
      const { audio, source } = await buildInput(seconds);
      const decoded = join(dir, `long-${seconds}.wav`);
      const { encodeWavFloat32 } = await import('../src/pipeline/serialize.js');
      writeFileSync(decoded, encodeWavFloat32(audio));
      console.error(`[${opts.longMinutes} min] separation only; input: ${source}`);
      const sep = await spawnStage('separate', decoded, join(dir, `long-other-${seconds}.wav`), opts.threads);
      console.log(`\n## Separation only, ${opts.longMinutes}-minute song (target: peak RSS < 4 GB, i.e. 3815 MiB)\n`);
      console.log(HEADER);
      console.log(row(`${opts.longMinutes} min`, 'separate (htdemucs)', sep));
    }
    console.log(`\nLoad average at end: ${loadavg().map((v) => v.toFixed(1)).join(' ')} (other work on the machine slows every figure).`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
