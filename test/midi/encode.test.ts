import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeMidi } from '../../src/midi/decode.js';
import { encodeMidi, TICKS_PER_BEAT } from '../../src/midi/encode.js';
import { postprocess } from '../../src/postprocess/index.js';
import type { Note, Score } from '../../src/types.js';
import { note, rng } from '../postprocess/helpers.js';

const byPitchThenOnset = (a: Note, b: Note): number => a.pitchMidi - b.pitchMidi || a.onsetSec - b.onsetSec;

/** A rubato performance: beats drifting between 70 and 140 BPM, notes off the grid. */
function performance(): { notes: Note[]; beats: number[] } {
  const r = rng(21);
  const beats: number[] = [];
  let t = 0.7;
  for (let i = 0; i < 80; i++) {
    beats.push(t);
    t += 60 / (105 + 35 * Math.sin(i / 7));
  }
  const notes: Note[] = [];
  for (let i = 0; i < 300; i++) {
    const onset = 0.05 + r() * (t - 0.3);
    notes.push(note(onset, 30 + Math.floor(r() * 70), 0.02 + r() * 1.5, 1 + Math.floor(r() * 127)));
  }
  return { notes, beats };
}

function scoreWithBeatTempoMap(): Score {
  const { notes, beats } = performance();
  const tempos = [{ timeSec: 0, bpm: 60 / beats[0] }, ...beats.slice(0, -1).map((b, i) => ({ timeSec: b, bpm: 60 / (beats[i + 1] - b) }))];
  return {
    notes,
    pedal: [{ onsetSec: 1.0, offsetSec: 2.5 }, { onsetSec: 3.0, offsetSec: 4.25 }],
    tempos,
    timeSignatures: [{ timeSec: 0, numerator: 3, denominator: 4 }],
    keys: [{ timeSec: 0, tonic: 'Eb', mode: 'minor' }],
    beatsSec: beats,
  };
}

describe('encodeMidi', () => {
  it('round-trips note times through a per-beat tempo map to within 1 ms, with velocities and pedal', () => {
    const score = scoreWithBeatTempoMap();
    const decoded = decodeMidi(encodeMidi(score, { trackName: 'take 1' }));
    // Compare by pitch, then onset: tick rounding may swap near-simultaneous notes of different pitch.
    const sorted = [...score.notes].sort(byPitchThenOnset);
    decoded.notes.sort(byPitchThenOnset);
    expect(decoded.notes).toHaveLength(sorted.length);
    decoded.notes.forEach((n, i) => {
      expect(n.pitchMidi).toBe(sorted[i].pitchMidi);
      expect(Math.abs(n.onsetSec - sorted[i].onsetSec)).toBeLessThan(1e-3);
      expect(n.velocity).toBe(sorted[i].velocity);
    });
    // Offsets too, except where a same-pitch re-strike cut the note short.
    const cut = decoded.notes.filter((n, i) => Math.abs(n.offsetSec - sorted[i].offsetSec) >= 1e-3);
    for (const n of cut) expect(decoded.notes.some((m) => m.pitchMidi === n.pitchMidi && Math.abs(m.onsetSec - n.offsetSec) < 1e-3)).toBe(true);
    expect(decoded.pedal.length).toBe(2);
    expect(decoded.pedal[1].onsetSec).toBeCloseTo(3.0, 3);
    expect(decoded.pedal[1].offsetSec).toBeCloseTo(4.25, 3);
    expect(decoded.trackNames).toContain('take 1');
  });

  it('puts every tracked beat on a quarter-note tick', () => {
    const score = scoreWithBeatTempoMap();
    const bytes = encodeMidi(score);
    // Ticks of the tempo events are the beat positions.
    const { tempos } = decodeMidi(bytes);
    expect(tempos).toHaveLength(score.tempos.length);
    tempos.slice(1).forEach((t, i) => expect(Math.abs(t.timeSec - score.beatsSec![i])).toBeLessThan(1e-3));
    expect(TICKS_PER_BEAT).toBe(1920);
  });

  it('writes correct key and time signatures', () => {
    const decoded = decodeMidi(encodeMidi(scoreWithBeatTempoMap()));
    expect(decoded.keySignatures).toEqual([{ timeSec: 0, key: 'Gb', scale: 'minor' }]); // 6 flats, minor
    expect(decoded.timeSignatures[0]).toMatchObject({ numerator: 3, denominator: 4 });
  });

  it('encodes a postprocessed score and an empty one', () => {
    const { notes } = performance();
    const score = postprocess({ notes }, {});
    const decoded = decodeMidi(encodeMidi(score));
    expect(decoded.notes).toHaveLength(score.notes.length);
    decoded.notes.forEach((n, i) => expect(Math.abs(n.onsetSec - score.notes[i].onsetSec)).toBeLessThan(1e-3));
    expect(decodeMidi(encodeMidi(postprocess({ notes: [] }, {}))).notes).toEqual([]);
  });
});

const PYTHON = '/usr/bin/python3';
const hasMido = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import mido'], { stdio: 'ignore' }).status === 0;
if (!hasMido) {
  console.warn('skipping the independent-reader MIDI test: Debian python3-mido is not installed (apt-get install -y python3-mido)');
}

describe.skipIf(!hasMido)('the MIDI file in an independent reader (Debian python3-mido)', () => {
  it('mido reads the same notes, program, tempo map, key and time signature', () => {
    const score = scoreWithBeatTempoMap();
    const dir = mkdtempSync(join(tmpdir(), 'stemscribe-mido-'));
    const path = join(dir, 'score.mid');
    writeFileSync(path, encodeMidi(score, { trackName: 'piano' }));
    const script = `
import json, sys, mido
mid = mido.MidiFile(sys.argv[1])
t = 0.0
notes, open_, meta, programs, cc = [], {}, [], [], []
for msg in mid:  # merged tracks, times in seconds through the tempo map
    t += msg.time
    if msg.type == 'note_on' and msg.velocity > 0:
        open_[msg.note] = (t, msg.velocity)
    elif msg.type in ('note_off', 'note_on'):
        on = open_.pop(msg.note, None)
        if on: notes.append([on[0], t, msg.note, on[1]])
    elif msg.type == 'program_change': programs.append(msg.program)
    elif msg.type == 'control_change': cc.append([t, msg.control, msg.value])
    elif msg.type == 'key_signature': meta.append(['key', msg.key])
    elif msg.type == 'time_signature': meta.append(['ts', msg.numerator, msg.denominator])
print(json.dumps({'notes': sorted(notes, key=lambda n: (n[2], n[0])), 'meta': meta, 'programs': programs, 'cc': cc, 'ppq': mid.ticks_per_beat, 'tracks': [tr.name for tr in mid.tracks]}))
`;
    const out = JSON.parse(execFileSync(PYTHON, ['-c', script, path], { encoding: 'utf8' })) as {
      notes: [number, number, number, number][];
      meta: (string | number)[][];
      programs: number[];
      cc: [number, number, number][];
      ppq: number;
      tracks: string[];
    };
    const sorted = [...score.notes].sort(byPitchThenOnset);
    expect(out.notes).toHaveLength(sorted.length);
    out.notes.forEach(([onsetSec, , pitch, velocity], i) => {
      expect(Math.abs(onsetSec - sorted[i].onsetSec)).toBeLessThan(1e-3);
      expect(pitch).toBe(sorted[i].pitchMidi);
      expect(velocity).toBe(sorted[i].velocity);
    });
    expect(out.programs).toEqual([0]);
    expect(out.meta).toContainEqual(['key', 'Ebm']);
    expect(out.meta).toContainEqual(['ts', 3, 4]);
    expect(out.cc.filter((c) => c[1] === 64).map((c) => c[2])).toEqual([127, 0, 127, 0]);
    expect(out.ppq).toBe(1920);
    expect(out.tracks).toContain('piano');
  });
});
