/**
 * Piano-roll picture of a Score as a standalone SVG: time runs left to right, pitch bottom to top,
 * one bar per note, its opacity and colour following velocity. Beat lines (thin) and bar lines
 * (thick, numbered) come from the tracked beats when present, else from the tempo map. Octaves are
 * labelled at each C (C4 = middle C, MIDI 60), black-key rows are shaded as on a keyboard.
 */
import type { Score } from '../types.js';

export interface PianoRollOptions {
  /** Horizontal scale, pixels per second (the width is capped at `maxWidthPx`). */
  pxPerSec: number;
  /** Height of one semitone row, pixels. */
  rowPx: number;
  maxWidthPx: number;
  title?: string;
}

export const DEFAULT_PIANO_ROLL: PianoRollOptions = { pxPerSec: 60, rowPx: 6, maxWidthPx: 12000 };

const BLACK_KEYS = new Set([1, 3, 6, 8, 10]);
const MARGIN_LEFT_PX = 40;
const MARGIN_TOP_PX = 24;
const MARGIN_BOTTOM_PX = 20;

const escapeXml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Velocity 1..127 -> a blue-to-red colour (quiet cool, loud warm). */
export function velocityColour(velocity: number): string {
  const v = Math.min(1, Math.max(0, (velocity - 1) / 126));
  const hue = Math.round(220 - 220 * v);
  return `hsl(${hue},75%,45%)`;
}

/** Beats and downbeats: the tracked ones, else derived from the first tempo and time signature. */
function gridLines(score: Score, endSec: number): { beats: number[]; bars: number[] } {
  if (score.beatsSec && score.beatsSec.length > 0) {
    return { beats: score.beatsSec, bars: score.downbeatsSec ?? [] };
  }
  const bpm = score.tempos[0]?.bpm ?? 120;
  const perBar = score.timeSignatures[0]?.numerator ?? 4;
  const beats: number[] = [];
  const bars: number[] = [];
  const periodSec = 60 / bpm;
  for (let i = 0; i * periodSec <= endSec; i++) {
    beats.push(i * periodSec);
    if (i % perBar === 0) bars.push(i * periodSec);
  }
  return { beats, bars };
}

export function renderPianoRollSvg(score: Score, opts: Partial<PianoRollOptions> = {}): string {
  const o = { ...DEFAULT_PIANO_ROLL, ...opts };
  const notes = score.notes;
  let endSec = 1;
  let low = 60;
  let high = 72;
  if (notes.length > 0) {
    low = 127;
    high = 0;
    for (const n of notes) {
      endSec = Math.max(endSec, n.offsetSec);
      low = Math.min(low, n.pitchMidi);
      high = Math.max(high, n.pitchMidi);
    }
  }
  // Whole octaves from C to B, so the C labels frame the picture.
  low = Math.max(0, low - (low % 12));
  high = Math.min(127, high + (11 - (high % 12)));
  const pxPerSec = Math.min(o.pxPerSec, (o.maxWidthPx - MARGIN_LEFT_PX) / endSec);
  const rollWidthPx = Math.ceil(endSec * pxPerSec);
  const nbRows = high - low + 1;
  const rollHeightPx = nbRows * o.rowPx;
  const widthPx = MARGIN_LEFT_PX + rollWidthPx + 10;
  const heightPx = MARGIN_TOP_PX + rollHeightPx + MARGIN_BOTTOM_PX;
  const x = (tSec: number): number => MARGIN_LEFT_PX + tSec * pxPerSec;
  const yTop = (pitch: number): number => MARGIN_TOP_PX + (high - pitch) * o.rowPx;
  const f = (v: number): string => v.toFixed(1);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${widthPx}" height="${heightPx}" viewBox="0 0 ${widthPx} ${heightPx}" font-family="sans-serif" font-size="10">`,
  );
  const key = score.keys[0];
  const tempo = score.tempos.length > 0 ? `${Math.round(score.tempos[Math.min(1, score.tempos.length - 1)].bpm)} BPM` : '';
  const ts = score.timeSignatures.at(-1);
  const caption = [o.title, `${notes.length} notes`, key ? `${key.tonic} ${key.mode}` : '', ts ? `${ts.numerator}/${ts.denominator}` : '', tempo]
    .filter(Boolean)
    .join(' · ');
  parts.push(`<title>${escapeXml(caption)}</title>`);
  parts.push(`<rect width="${widthPx}" height="${heightPx}" fill="#ffffff"/>`);
  parts.push(`<text x="${MARGIN_LEFT_PX}" y="14">${escapeXml(caption)}</text>`);

  // Keyboard rows.
  for (let p = low; p <= high; p++) {
    if (BLACK_KEYS.has(p % 12)) {
      parts.push(`<rect x="${MARGIN_LEFT_PX}" y="${f(yTop(p))}" width="${rollWidthPx}" height="${o.rowPx}" fill="#f0f0f4"/>`);
    }
    if (p % 12 === 0) {
      const y = yTop(p) + o.rowPx;
      parts.push(`<line x1="${MARGIN_LEFT_PX}" x2="${MARGIN_LEFT_PX + rollWidthPx}" y1="${f(y)}" y2="${f(y)}" stroke="#c8c8d0" stroke-width="0.5"/>`);
      parts.push(`<text x="4" y="${f(y - 1)}">C${Math.floor(p / 12) - 1}</text>`);
    }
  }

  // Beat and bar lines.
  const { beats, bars } = gridLines(score, endSec);
  const barSet = new Set(bars.map((b) => b.toFixed(4)));
  for (const b of beats) {
    if (barSet.has(b.toFixed(4))) continue;
    parts.push(`<line class="beat" x1="${f(x(b))}" x2="${f(x(b))}" y1="${MARGIN_TOP_PX}" y2="${MARGIN_TOP_PX + rollHeightPx}" stroke="#d8d8e0" stroke-width="0.5"/>`);
  }
  bars.forEach((b, i) => {
    parts.push(`<line class="bar" x1="${f(x(b))}" x2="${f(x(b))}" y1="${MARGIN_TOP_PX}" y2="${MARGIN_TOP_PX + rollHeightPx}" stroke="#8888a0" stroke-width="1"/>`);
    parts.push(`<text x="${f(x(b) + 2)}" y="${MARGIN_TOP_PX + rollHeightPx + 12}" fill="#555">${i + 1}</text>`);
  });

  // Sustain pedal as a band under the roll.
  for (const p of score.pedal ?? []) {
    parts.push(`<rect class="pedal" x="${f(x(p.onsetSec))}" y="${MARGIN_TOP_PX + rollHeightPx + 14}" width="${f(Math.max(1, (p.offsetSec - p.onsetSec) * pxPerSec))}" height="4" fill="#9b9"/>`);
  }

  for (const n of notes) {
    const w = Math.max(1, (n.offsetSec - n.onsetSec) * pxPerSec);
    const opacity = (0.35 + 0.65 * Math.min(1, Math.max(0, n.velocity / 127))).toFixed(2);
    parts.push(
      `<rect class="note" x="${f(x(n.onsetSec))}" y="${f(yTop(n.pitchMidi) + 0.5)}" width="${f(w)}" height="${o.rowPx - 1}" fill="${velocityColour(n.velocity)}" fill-opacity="${opacity}"/>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n');
}
