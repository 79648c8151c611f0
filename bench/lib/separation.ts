/**
 * Separation on the real MUSDB18 sample excerpt (6.8 s, 44.1 kHz stereo): per separator and stem,
 * the museval-style median SDR (1 s windows, per channel, median over windows and channels),
 * BSS-Eval SDR/SIR/SAR over the whole excerpt (bss_eval_sources per channel, mean of the two
 * channels) and SI-SDR (mean of channels).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bssEvalSource, bssEvalSources, framewiseMedianSdr, siSdr } from '../../src/eval/separation.js';
import { foldPianoIntoOther } from '../../src/separation/stems.js';
import { STEM_NAMES, type AudioData, type StemName, type Stems } from '../../src/types.js';
import { durationSec, loadAudio, MUSDB_DIR } from './data.js';
import { mean, num, table } from './markdown.js';
import { maxRssMB, timed } from './modules.js';
import { availableSeparators } from './transcribers.js';

export interface SeparationRow {
  separator: string;
  stem: StemName;
  medianSdrDb: number;
  sdrDb: number;
  sirDb: number;
  sarDb: number;
  siSdrDb: number;
}

export interface SeparationSection {
  rows: SeparationRow[];
  timing: Array<{ separator: string; audioSec: number; processSec: number; speedXRealTime: number; maxRssMBAfter: number }>;
  skipped: string[];
  markdown: string;
}

/**
 * Scores separated stems against four reference stems (same rate and length). A `piano` estimate
 * is added back into `other`, where four-stem references such as MUSDB18 keep the piano.
 */
export function scoreStems(separator: string, reference: Stems, separated: Stems): SeparationRow[] {
  const estimate = foldPianoIntoOther(separated);
  const nbChannels = reference.vocals.channels.length;
  // Per channel, each estimate against all four references. When no estimate is silent one call
  // shares the Gram-matrix factorisation; silent stems (the `none` separator's) score NaN.
  const channelOf = (a: AudioData, c: number): ArrayLike<number> => a.channels[Math.min(c, a.channels.length - 1)];
  const perChannel = Array.from({ length: nbChannels }, (_, c) => {
    const refs = STEM_NAMES.map((s) => reference[s].channels[c]);
    const ests = STEM_NAMES.map((s) => channelOf(estimate[s], c));
    if (ests.every((e) => !isSilent(e))) {
      const r = bssEvalSources(refs, ests, { computePermutation: false });
      return STEM_NAMES.map((_, j) => ({ sdr: r.sdr[j], sir: r.sir[j], sar: r.sar[j] }));
    }
    return STEM_NAMES.map((_, j) => bssEvalSource(refs, ests[j], j));
  });
  const whole = STEM_NAMES.map((_, j) => perChannel.map((ch) => ch[j]));
  return STEM_NAMES.map((stem, j) => {
    const ref = reference[stem].channels;
    const est = ref.map((_, c) => estimate[stem].channels[Math.min(c, estimate[stem].channels.length - 1)]);
    return {
      separator,
      stem,
      medianSdrDb: framewiseMedianSdr(ref, est, reference[stem].sampleRateHz).medianSdr,
      sdrDb: mean(whole[j].map((w) => w.sdr)),
      sirDb: mean(whole[j].map((w) => w.sir)),
      sarDb: mean(whole[j].map((w) => w.sar)),
      siSdrDb: mean(ref.map((r, c) => siSdr(r, est[c]))),
    };
  });
}

export async function runSeparationSection(log: (s: string) => void): Promise<SeparationSection> {
  const skipped: string[] = [];
  const mixPath = join(MUSDB_DIR, 'mixture.wav');
  if (!existsSync(mixPath)) return { rows: [], timing: [], skipped: ['MUSDB sample missing'], markdown: `_Skipped: ${mixPath} not found._` };
  const mix = await loadAudio(mixPath);
  const reference = {} as Stems;
  for (const stem of STEM_NAMES) reference[stem] = await loadAudio(join(MUSDB_DIR, `${stem}.wav`));
  const available = await availableSeparators();
  if (!available.create) return { rows: [], timing: [], skipped: [available.reason ?? 'no separators'], markdown: `_Skipped: ${available.reason}._` };
  const rows: SeparationRow[] = [];
  const timing: SeparationSection['timing'] = [];
  for (const name of available.names) {
    let separator;
    try {
      separator = await available.create(name);
    } catch (e) {
      skipped.push(`${name}: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    try {
      const { value: stems, sec } = await timed(() => separator.separate(mix));
      const audioSec = durationSec(mix);
      timing.push({ separator: name, audioSec, processSec: sec, speedXRealTime: audioSec / sec, maxRssMBAfter: maxRssMB() });
      const scored = scoreStems(name, reference, fitStems(stems, reference));
      rows.push(...scored);
      log(`  ${name}: ${scored.map((r) => `${r.stem} ${num(r.medianSdrDb)} dB`).join(', ')} (${num(audioSec / sec, 2)}x RT)`);
    } finally {
      await separator.dispose?.();
    }
  }
  const stemCols = STEM_NAMES.map((s) => `${s} SDR`);
  const byName = [...new Set(rows.map((r) => r.separator))];
  const cell = (name: string, stem: StemName, f: (r: SeparationRow) => number): string =>
    num(f(rows.find((r) => r.separator === name && r.stem === stem) as SeparationRow));
  const markdown = [
    `MUSDB18 sample excerpt (real, ${durationSec(mix).toFixed(1)} s, 44.1 kHz stereo). Median SDR over 1 s windows and both channels (dB, museval-style, bss_eval_sources definition with 512-tap filters per window). n/a: the separator returns a silent stem (\`none\` puts the whole mix in \`other\`).`,
    '',
    table(
      ['separator', ...stemCols, 'mean', 'speed (x real time)'],
      byName.map((name) => {
        const t = timing.find((x) => x.separator === name);
        return [
          name,
          ...STEM_NAMES.map((s) => cell(name, s, (r) => r.medianSdrDb)),
          num(mean(rows.filter((r) => r.separator === name).map((r) => r.medianSdrDb))),
          num(t?.speedXRealTime),
        ];
      }),
    ),
    '',
    'Whole excerpt, bss_eval_sources per channel (mean of channels), dB; SI-SDR (Le Roux 2019):',
    '',
    table(
      ['separator', 'stem', 'SDR', 'SIR', 'SAR', 'SI-SDR'],
      rows.map((r) => [r.separator, r.stem, num(r.sdrDb), num(r.sirDb), num(r.sarDb), num(r.siSdrDb)]),
    ),
    ...(skipped.length > 0 ? ['', `Skipped: ${skipped.join('; ')}`] : []),
  ].join('\n');
  return { rows, timing, skipped, markdown };
}

function isSilent(x: ArrayLike<number>): boolean {
  for (let i = 0; i < x.length; i++) if (x[i] !== 0) return false;
  return true;
}

/** Stems at the reference's rate/length (separators return the input's; guard anyway). */
function fitStems(stems: Stems, reference: Stems): Stems {
  const out = {} as Stems;
  for (const s of STEM_NAMES) {
    const n = reference[s].channels[0].length;
    const a: AudioData = stems[s];
    out[s] = {
      sampleRateHz: a.sampleRateHz,
      channels: a.channels.map((c) => {
        if (c.length === n) return c;
        const f = new Float32Array(n);
        f.set(c.subarray(0, n));
        return f;
      }),
    };
  }
  return out;
}
