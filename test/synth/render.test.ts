import { describe, expect, it } from 'vitest';
import { Midi } from '@tonejs/midi';
import { firstPresentSoundfont, listSoundfonts, soundfontPath, SOUNDFONT_IDS } from '../../src/synth/soundfonts.js';
import { notesToMidi, renderMidi, renderNotes } from '../../src/synth/render.js';
import { StemscribeError } from '../../src/errors.js';
import type { Note } from '../../src/types.js';

const SR = 22050;
// The npm font is a devDependency, so this is present wherever `npm install` ran.
const font = firstPresentSoundfont(['npm-fluidr3-mono']);

const note = (onsetSec: number, offsetSec: number, pitchMidi: number, velocity = 90): Note => ({
  onsetSec,
  offsetSec,
  pitchMidi,
  velocity,
  confidence: 1,
});

/** Magnitude of the DFT of `x[start, start+len)` at `hz` (Goertzel), Hann-windowed. */
function magnitudeAt(x: Float32Array, start: number, len: number, hz: number): number {
  const w = (2 * Math.PI * hz) / SR;
  let re = 0;
  let im = 0;
  for (let i = 0; i < len; i++) {
    const v = x[start + i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (len - 1)));
    re += v * Math.cos(w * i);
    im -= v * Math.sin(w * i);
  }
  return Math.hypot(re, im);
}

const rms = (x: Float32Array, start: number, len: number): number => {
  let s = 0;
  for (let i = start; i < start + len; i++) s += x[i] * x[i];
  return Math.sqrt(s / len);
};

const hz = (midi: number): number => 440 * 2 ** ((midi - 69) / 12);

describe('listSoundfonts', () => {
  it('lists every known font with a path and presence flag', () => {
    const fonts = listSoundfonts();
    expect(fonts.map((f) => f.id)).toEqual([...SOUNDFONT_IDS]);
    for (const f of fonts) expect(f.path).toMatch(/\.(sf2|sf3|sf3\.wasm)$/);
    expect(fonts.find((f) => f.id === 'npm-fluidr3-mono')?.present).toBe(true);
  });

  it('names the install command when a font is absent', () => {
    const fonts = listSoundfonts().map((f) => (f.id === 'fluidr3-gm' ? { ...f, present: false } : f));
    expect(() => soundfontPath('fluidr3-gm', fonts)).toThrow(StemscribeError);
    expect(() => soundfontPath('fluidr3-gm', fonts)).toThrow(
      "Soundfont 'fluidr3-gm' not found at /usr/share/sounds/sf2/FluidR3_GM.sf2; install it with `apt-get install fluid-soundfont-gm`.",
    );
    for (const f of listSoundfonts().filter((x) => x.present)) expect(soundfontPath(f.id)).toBe(f.path);
  });
});

describe.skipIf(!font)('renderMidi / renderNotes (FluidR3 mono, npm)', () => {
  const soundfont = font?.path ?? '';

  it('puts each piano note at its time and pitch', async () => {
    const pitches = [60, 64, 67, 72, 76, 69, 62];
    const notes = pitches.map((p, i) => note(0.25 + 0.4 * i, 0.25 + 0.4 * i + 0.3, p));
    const audio = await renderNotes(notes, { soundfontPath: soundfont, sampleRateHz: SR, channels: 1 });
    expect(audio.sampleRateHz).toBe(SR);
    expect(audio.channels).toHaveLength(1);
    const x = audio.channels[0];
    // last event (offset 2.95 s) + 1 s tail
    expect(x.length).toBeGreaterThanOrEqual(Math.round(3.9 * SR));
    // Silence before the first note: no early notes.
    expect(rms(x, 0, Math.round(0.24 * SR))).toBeLessThan(1e-5);
    for (const n of notes) {
      const onset = Math.round(n.onsetSec * SR);
      // Onset, on the note rendered alone (rendering is linear, tested below): the first sample
      // above 1% of the note's peak lies within 5 ms after the MIDI onset, and nothing before it.
      const alone = (await renderNotes([n], { soundfontPath: soundfont, sampleRateHz: SR, channels: 1 })).channels[0];
      let peak = 0;
      for (let i = onset; i < onset + 0.1 * SR; i++) peak = Math.max(peak, Math.abs(alone[i]));
      let first = 0;
      while (Math.abs(alone[first]) < 0.01 * peak) first++;
      expect((first - onset) / SR).toBeGreaterThanOrEqual(0);
      expect((first - onset) / SR).toBeLessThan(0.005);
      // Pitch: energy at f0 dominates the semitones next to it.
      const start = onset + Math.round(0.03 * SR);
      const len = Math.round(0.2 * SR);
      const f0 = magnitudeAt(x, start, len, hz(n.pitchMidi));
      expect(f0).toBeGreaterThan(5 * magnitudeAt(x, start, len, hz(n.pitchMidi - 1)));
      expect(f0).toBeGreaterThan(5 * magnitudeAt(x, start, len, hz(n.pitchMidi + 1)));
    }
  });

  it('is linear: stems rendered apart sum to the mix', async () => {
    const a = [note(0.1, 0.6, 60), note(0.3, 0.9, 64, 50)];
    const b = [note(0.2, 0.8, 67, 110), note(0.5, 0.9, 48)];
    const opts = { soundfontPath: soundfont, sampleRateHz: SR, channels: 2 as const };
    const mix = await renderNotes([...a, ...b], opts);
    const sa = await renderNotes(a, opts);
    const sb = await renderNotes(b, opts);
    let maxErr = 0;
    let maxAbs = 0;
    for (let c = 0; c < 2; c++) {
      const n = Math.min(mix.channels[c].length, sa.channels[c].length, sb.channels[c].length);
      for (let i = 0; i < n; i++) {
        maxErr = Math.max(maxErr, Math.abs(mix.channels[c][i] - sa.channels[c][i] - sb.channels[c][i]));
        maxAbs = Math.max(maxAbs, Math.abs(mix.channels[c][i]));
      }
    }
    expect(maxAbs).toBeGreaterThan(0.01);
    expect(maxErr).toBeLessThan(1e-5);
  });

  it('programOverride replaces the file program (organ vs piano differ)', async () => {
    const bytes = notesToMidi([note(0.1, 0.6, 60)], { program: 0 });
    const piano = await renderMidi(bytes, { soundfontPath: soundfont, sampleRateHz: SR, channels: 1 });
    const organ = await renderMidi(bytes, { soundfontPath: soundfont, sampleRateHz: SR, channels: 1, programOverride: 19 });
    const pianoAgain = await renderMidi(notesToMidi([note(0.1, 0.6, 60)], { program: 19 }), {
      soundfontPath: soundfont,
      sampleRateHz: SR,
      channels: 1,
      programOverride: 0,
    });
    let diff = 0;
    let same = 0;
    for (let i = 0; i < piano.channels[0].length; i++) {
      diff = Math.max(diff, Math.abs(piano.channels[0][i] - organ.channels[0][i]));
      same = Math.max(same, Math.abs(piano.channels[0][i] - pianoAgain.channels[0][i]));
    }
    expect(diff).toBeGreaterThan(0.01);
    expect(same).toBe(0);
  });

  it('notesToMidi round-trips notes, velocities and pedal', () => {
    const bytes = notesToMidi([note(0.5, 1.25, 61, 100), note(1, 2, 30, 10)], {
      pedal: [{ onsetSec: 0.4, offsetSec: 1.5 }],
    });
    const midi = new Midi(bytes);
    const n = midi.tracks[0].notes;
    expect(n.map((x) => x.midi)).toEqual([61, 30]);
    expect(n[0].time).toBeCloseTo(0.5, 3);
    expect(n[0].duration).toBeCloseTo(0.75, 3);
    expect(Math.round(n[1].velocity * 127)).toBe(10);
    expect(midi.tracks[0].controlChanges[64].map((c) => c.value)).toEqual([1, 0]);
  });

  it('rejects bytes that are not MIDI and fonts that are missing', async () => {
    await expect(renderMidi(new Uint8Array([1, 2, 3, 4]), { soundfontPath: soundfont, sampleRateHz: SR })).rejects.toThrow(
      StemscribeError,
    );
    await expect(
      renderMidi(notesToMidi([note(0, 1, 60)]), { soundfontPath: '/nonexistent/x.sf2', sampleRateHz: SR }),
    ).rejects.toThrow(/Cannot read soundfont/);
  });
});
