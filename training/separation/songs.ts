/**
 * Procedural multitrack songs for training the `unmix` separator: one MIDI file per stem
 * (vocals, drums, bass, other, piano), so each stem renders on its own and the stems sum to the
 * mix. `piano` holds every part on a GM piano program (0-7) and the ASAP excerpts; `other` the
 * rest, so a separator can hand the transcriber the piano without the pads and guitars around it
 * (a four-stem model folds `piano` back into `other`).
 *
 * A song: a key, a tempo, a 4-chord progression looped; drums (GM channel 10, one of several
 * grooves and kits), a bass line (GM 32..39) on the chord roots, 1-3 "other" parts (piano comping,
 * guitar, organ, string or synth pads, brass, mallets, arpeggiated leads, or a real piano
 * performance excerpt from ASAP), and a vocal stand-in: a phrased melody in the singing range on a
 * voice-like patch (choir aahs, voice oohs, synth voice, lead voice) with vibrato (pitch bend) and
 * swells (expression). Everything is drawn from a seeded RNG: the same seed gives the same song.
 */
import tonejsMidi from '@tonejs/midi';

const { Midi } = tonejsMidi;
type MidiFile = InstanceType<typeof Midi>;
type Track = ReturnType<MidiFile['addTrack']>;

/** mulberry32: small, fast, good enough for choosing notes. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const between = (r: Rand, lo: number, hi: number): number => lo + r() * (hi - lo);
const intBetween = (r: Rand, lo: number, hi: number): number => Math.floor(between(r, lo, hi + 1));

const MAJOR = [0, 2, 4, 5, 7, 9, 11];
const MINOR = [0, 2, 3, 5, 7, 8, 10];
/** Progressions as scale degrees (0-based). */
const PROGRESSIONS = [
  [0, 4, 5, 3],
  [0, 5, 3, 4],
  [0, 3, 4, 3],
  [5, 3, 0, 4],
  [0, 3, 0, 4],
  [1, 4, 0, 0],
  [0, 6, 5, 4],
  [0, 2, 3, 4],
];

export const VOCAL_PROGRAMS = [52, 53, 54, 85] as const;
export const BASS_PROGRAMS = [32, 33, 34, 35, 36, 37, 38, 39] as const;
/** Non-piano "other" programs by role. */
const COMP_PROGRAMS = [0, 1, 2, 4, 5, 16, 17, 18, 19, 24, 25, 26, 27, 28, 29, 30] as const;
const PAD_PROGRAMS = [48, 49, 50, 51, 88, 89, 90, 91, 92, 94, 61, 19] as const;
const LEAD_PROGRAMS = [8, 9, 10, 11, 12, 13, 22, 56, 57, 60, 64, 65, 66, 68, 71, 73, 80, 81, 40, 41, 46, 105, 106] as const;
const DRUM_KITS = [0, 8, 16, 24, 25, 32, 40] as const;
/** GM's piano family (acoustic and electric pianos, harpsichord, clavinet) goes to the `piano` stem. */
export const isPianoProgram = (program: number): boolean => program >= 0 && program <= 7;

export interface ChordSpan {
  startSec: number;
  endSec: number;
  /** Pitch classes relative to C, root first. */
  pcs: number[];
}

export interface PianoExcerpt {
  notes: Array<{ onsetSec: number; offsetSec: number; pitchMidi: number; velocity: number }>;
  pedal: Array<{ onsetSec: number; offsetSec: number }>;
}

export interface SongSpec {
  seed: number;
  durationSec: number;
  bpm: number;
  tonicPc: number;
  minor: boolean;
  /** GM programs per stem, for the data index. */
  programs: { vocals: number; bass: number; other: number[]; piano: number[]; drumKit: number };
  midi: { vocals: Uint8Array; drums: Uint8Array; bass: Uint8Array; other: Uint8Array; piano: Uint8Array };
  /** Whether `piano` contains an ASAP piano performance excerpt. */
  asapPiano: boolean;
  /** Stems left empty on purpose (songs without vocals, or without drums, exist too). */
  silent: string[];
}

function newMidi(bpm: number): MidiFile {
  const m = new Midi();
  m.header.setTempo(bpm);
  return m;
}

function addNote(track: Track, pitch: number, time: number, duration: number, velocity: number): void {
  if (duration <= 0.01) return;
  track.addNote({ midi: Math.max(0, Math.min(127, Math.round(pitch))), time, duration, velocity: Math.max(1, Math.min(127, Math.round(velocity))) / 127 });
}

function chordSpans(r: Rand, bpm: number, durationSec: number, tonicPc: number, minor: boolean): ChordSpan[] {
  const scale = minor ? MINOR : MAJOR;
  const prog = pick(r, PROGRESSIONS);
  const barSec = (4 * 60) / bpm;
  const barsPerChord = r() < 0.7 ? 1 : 2;
  const spans: ChordSpan[] = [];
  for (let i = 0, t = 0; t < durationSec; i++, t += barsPerChord * barSec) {
    const deg = prog[i % prog.length];
    const pcs = [0, 2, 4].map((k) => (tonicPc + scale[(deg + k) % 7] + 12) % 12);
    if (r() < 0.25) pcs.push((tonicPc + scale[(deg + 6) % 7]) % 12); // seventh
    spans.push({ startSec: t, endSec: Math.min(durationSec, t + barsPerChord * barSec), pcs });
  }
  return spans;
}

/** Nearest pitch with pitch class `pc` at or above `low`. */
const pcAtOrAbove = (pc: number, low: number): number => low + ((pc - low) % 12 + 12) % 12;

function drums(r: Rand, bpm: number, durationSec: number, kit: number): Uint8Array {
  const m = newMidi(bpm);
  const tr = m.addTrack();
  tr.channel = 9;
  tr.instrument.number = kit;
  const beat = 60 / bpm;
  const style = pick(r, ['rock', 'four', 'half', 'shuffle', 'busy', 'sparse'] as const);
  const hat = pick(r, [42, 42, 44, 46, 51, 53]);
  const bars = Math.ceil(durationSec / (4 * beat));
  const vel = (base: number): number => base + between(r, -15, 15);
  for (let bar = 0; bar < bars; bar++) {
    const t0 = bar * 4 * beat;
    if (bar % 4 === 0 && r() < 0.6) addNote(tr, pick(r, [49, 57]), t0, 0.5, vel(95));
    const fill = bar % 4 === 3 && r() < 0.5;
    for (let b = 0; b < 4; b++) {
      const t = t0 + b * beat;
      if (t >= durationSec) break;
      if (fill && b >= 2) {
        for (let s = 0; s < 4; s++) addNote(tr, pick(r, [38, 45, 47, 48, 50, 41, 43]), t + (s * beat) / 4, beat / 4, vel(90));
        continue;
      }
      const kick = style === 'four' || b === 0 || (style === 'rock' && b === 2) || (style === 'busy' && r() < 0.5);
      const snare = style === 'half' ? b === 2 : b === 1 || b === 3;
      if (kick) addNote(tr, pick(r, [35, 36]), t, 0.1, vel(105));
      if (snare && style !== 'sparse') addNote(tr, r() < 0.85 ? 38 : 40, t, 0.1, vel(95));
      if (style === 'sparse' && b === 2) addNote(tr, 37, t, 0.1, vel(80));
      if (style === 'busy' && r() < 0.3) addNote(tr, 36, t + beat / 2, 0.1, vel(90));
      const subdiv = style === 'busy' ? 4 : style === 'sparse' ? 1 : 2;
      for (let s = 0; s < subdiv; s++) {
        const off = style === 'shuffle' && s === 1 ? (2 * beat) / 3 : (s * beat) / subdiv;
        addNote(tr, hat, t + off, 0.05, vel(s === 0 ? 75 : 55));
      }
      if (style === 'four' && r() < 0.8) addNote(tr, 46, t + beat / 2, 0.1, vel(65));
      if (r() < 0.08) addNote(tr, pick(r, [54, 56, 69, 70, 39]), t + beat / 2, 0.1, vel(70));
    }
  }
  return m.toArray();
}

function bass(r: Rand, bpm: number, chords: ChordSpan[], program: number): Uint8Array {
  const m = newMidi(bpm);
  const tr = m.addTrack();
  tr.instrument.number = program;
  const beat = 60 / bpm;
  const style = pick(r, ['beats', 'eighths', 'rootfifth', 'long', 'syncop'] as const);
  const low = intBetween(r, 28, 36);
  for (const c of chords) {
    const root = pcAtOrAbove(c.pcs[0], low);
    const fifth = root + 7;
    for (let t = c.startSec; t < c.endSec - 1e-6; ) {
      const k = Math.round((t - c.startSec) / beat);
      let dur = beat;
      let p = root;
      if (style === 'eighths') dur = beat / 2;
      else if (style === 'rootfifth') p = k % 2 === 0 ? root : fifth;
      else if (style === 'long') dur = 2 * beat;
      else if (style === 'syncop') dur = pick(r, [beat, 1.5 * beat, beat / 2]);
      if (r() < 0.12) p += 12;
      if (r() < 0.08) p = root + pick(r, [3, 4, 5, 10]);
      dur = Math.min(dur, c.endSec - t);
      addNote(tr, p, t, dur * between(r, 0.7, 0.98), between(r, 75, 115));
      t += dur;
    }
  }
  return m.toArray();
}

function voicing(pcs: number[], low: number, size: number): number[] {
  const out: number[] = [];
  let p = low;
  for (let i = 0; out.length < size && i < 24; i++) {
    const pc = pcs[i % pcs.length];
    p = pcAtOrAbove(pc, out.length === 0 ? low : out[out.length - 1] + 1);
    out.push(p);
  }
  return out;
}

/** One "other" part: comping, pad, or arpeggio/lead line. */
function otherPart(r: Rand, m: MidiFile, bpm: number, chords: ChordSpan[], channel: number, role: 'comp' | 'pad' | 'lead', program: number): void {
  const tr = m.addTrack();
  tr.channel = channel;
  tr.instrument.number = program;
  const beat = 60 / bpm;
  const low = intBetween(r, 48, 60);
  const velBase = between(r, 60, 100);
  for (const c of chords) {
    const chord = voicing(c.pcs, low, intBetween(r, 3, 4));
    if (role === 'pad') {
      for (const p of chord) addNote(tr, p, c.startSec, c.endSec - c.startSec - 0.02, velBase);
    } else if (role === 'comp') {
      const pattern = pick(r, [[0, 2], [0, 1, 2, 3], [0, 1.5, 2.5], [0.5, 1.5, 2.5, 3.5], [0]]);
      for (let bar = c.startSec; bar < c.endSec - 1e-6; bar += 4 * beat) {
        for (const b of pattern) {
          const t = bar + b * beat;
          if (t >= c.endSec) break;
          const dur = Math.min(beat * between(r, 0.4, 1.8), c.endSec - t);
          for (const p of chord) addNote(tr, p, t + between(r, 0, 0.012), dur, velBase + between(r, -12, 12));
        }
      }
    } else {
      const step = pick(r, [beat / 2, beat / 4, beat / 3, beat]);
      const tones = voicing(c.pcs, low + 12, 6);
      let i = intBetween(r, 0, 2);
      for (let t = c.startSec; t < c.endSec - 1e-6; t += step) {
        if (r() < 0.15) continue;
        const p = tones[i % tones.length];
        i += pick(r, [1, 1, 2, -1]);
        if (i < 0) i = 2;
        addNote(tr, p, t, step * between(r, 0.6, 1.2), velBase + between(r, -15, 10));
      }
    }
  }
}

function pianoFromExcerpt(m: MidiFile, excerpt: PianoExcerpt, channel: number, program: number): void {
  const tr = m.addTrack();
  tr.channel = channel;
  tr.instrument.number = program;
  for (const n of excerpt.notes) addNote(tr, n.pitchMidi, n.onsetSec, n.offsetSec - n.onsetSec, n.velocity);
  for (const s of excerpt.pedal) {
    tr.addCC({ number: 64, time: s.onsetSec, value: 1 });
    tr.addCC({ number: 64, time: s.offsetSec, value: 0 });
  }
}

/** Vocal stand-in: phrases of scale steps in the singing range, with vibrato and swells. */
function vocals(r: Rand, bpm: number, chords: ChordSpan[], durationSec: number, tonicPc: number, minor: boolean, program: number): Uint8Array {
  const m = newMidi(bpm);
  const tr = m.addTrack();
  tr.instrument.number = program;
  const beat = 60 / bpm;
  const scale = (minor ? MINOR : MAJOR).map((s) => (s + tonicPc) % 12);
  const center = intBetween(r, 57, 72);
  const inScale = (p: number): boolean => scale.includes(((p % 12) + 12) % 12);
  const vibHz = between(r, 4.5, 6.5);
  const vibDepth = between(r, 0.05, 0.3); // in pitch-bend units of +-2 semitones: 0.25 = 50 cents
  let t = between(r, 0, 2 * beat);
  let p = center;
  while (t < durationSec - 0.3) {
    // A phrase of 3..10 notes, then a rest.
    const count = intBetween(r, 3, 10);
    for (let k = 0; k < count && t < durationSec - 0.3; k++) {
      const chord = chords.find((c) => t >= c.startSec && t < c.endSec) ?? chords[0];
      let step = pick(r, [-2, -1, -1, 0, 1, 1, 2, 3, -3, 4, -4]);
      p += step;
      while (!inScale(p)) p += step >= 0 ? 1 : -1;
      if (p > center + 9) p -= 12;
      if (p < center - 9) p += 12;
      // Strong beats lean on chord tones.
      if (Math.abs(((t / beat) % 1)) < 0.05 && r() < 0.5) p = pcAtOrAbove(pick(r, chord.pcs), p - 5);
      const dur = Math.min(pick(r, [0.5, 1, 1, 1.5, 2, 3]) * beat, durationSec - t);
      addNote(tr, p, t, dur * between(r, 0.85, 1.02), between(r, 70, 110));
      // Vibrato after the attack, 20 ms control steps.
      const vibStart = t + Math.min(0.25, dur / 3);
      for (let u = vibStart; u < t + dur; u += 0.02) {
        const ramp = Math.min(1, (u - vibStart) / 0.3);
        tr.addPitchBend({ time: u, value: ramp * vibDepth * Math.sin(2 * Math.PI * vibHz * (u - vibStart)) });
      }
      tr.addPitchBend({ time: t + dur, value: 0 });
      for (let u = t; u < t + dur; u += 0.05) {
        const x = (u - t) / dur;
        tr.addCC({ number: 11, time: u, value: 0.75 + 0.25 * Math.sin(Math.PI * x) });
      }
      t += dur;
    }
    t += pick(r, [1, 2, 2, 4]) * beat;
  }
  return m.toArray();
}

export interface SongOptions {
  seed: number;
  durationSec: number;
  /** Real piano performance excerpts to use as an `other` part, chosen by the seed (may be empty). */
  pianoExcerpt?: (r: Rand, durationSec: number) => PianoExcerpt | undefined;
}

export function makeSong(opts: SongOptions): SongSpec {
  const r = rng(opts.seed);
  const { durationSec } = opts;
  const bpm = Math.round(between(r, 72, 156));
  const tonicPc = intBetween(r, 0, 11);
  const minor = r() < 0.4;
  const chords = chordSpans(r, bpm, durationSec, tonicPc, minor);
  const kit = pick(r, DRUM_KITS);
  const bassProgram = pick(r, BASS_PROGRAMS);
  const vocalProgram = pick(r, VOCAL_PROGRAMS);

  // The random draws are the same as when all of these went to one `other` file: a song keeps
  // its parts, only their stem changes.
  const other = newMidi(bpm);
  const piano = newMidi(bpm);
  const otherPrograms: number[] = [];
  const pianoPrograms: number[] = [];
  let asapPiano = false;
  const excerpt = opts.pianoExcerpt && r() < 0.4 ? opts.pianoExcerpt(r, durationSec) : undefined;
  if (excerpt) {
    const program = pick(r, [0, 0, 0, 1, 2]);
    pianoFromExcerpt(piano, excerpt, 0, program);
    pianoPrograms.push(program);
    asapPiano = true;
  }
  const parts = intBetween(r, excerpt ? 0 : 1, excerpt ? 1 : 3);
  for (let i = 0; i < parts; i++) {
    const role = pick(r, ['comp', 'comp', 'pad', 'lead'] as const);
    const program = pick(r, role === 'comp' ? COMP_PROGRAMS : role === 'pad' ? PAD_PROGRAMS : LEAD_PROGRAMS);
    const toPiano = isPianoProgram(program);
    otherPart(r, toPiano ? piano : other, bpm, chords, i + 1, role, program);
    (toPiano ? pianoPrograms : otherPrograms).push(program);
  }

  const silent: string[] = [];
  const noVocals = r() < 0.1;
  const noDrums = r() < 0.08;
  if (noVocals) silent.push('vocals');
  if (noDrums) silent.push('drums');
  const empty = newMidi(bpm).toArray();
  return {
    seed: opts.seed,
    durationSec,
    bpm,
    tonicPc,
    minor,
    programs: { vocals: vocalProgram, bass: bassProgram, other: otherPrograms, piano: pianoPrograms, drumKit: kit },
    midi: {
      vocals: noVocals ? empty : vocals(r, bpm, chords, durationSec, tonicPc, minor, vocalProgram),
      drums: noDrums ? empty : drums(r, bpm, durationSec, kit),
      bass: bass(r, bpm, chords, bassProgram),
      other: other.toArray(),
      piano: piano.toArray(),
    },
    asapPiano,
    silent,
  };
}
