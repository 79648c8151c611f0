import { describe, expect, it } from 'vitest';
import { DEFAULT_POSTPROCESS, postprocess } from '../../src/postprocess/index.js';
import type { Note } from '../../src/types.js';
import { note, rng } from './helpers.js';

const r = rng(5);
const notes: Note[] = [];
for (let i = 0; i < 40; i++) {
  const t = 0.3 + 0.6 * i + (r() - 0.5) * 0.02;
  notes.push(note(t, [48, 55, 52, 48][(i >> 2) % 4], 0.5, 90, 0.9), note(t + 0.012, [64, 67, 72][i % 3], 0.04, 60, 0.3));
}
notes.push(note(5.01, 61, 0.05, 40, 0.1)); // a stray out-of-key blip

describe('postprocess', () => {
  it("'raw' returns the notes unchanged with a nominal 120 BPM 4/4 and no key", () => {
    const score = postprocess({ notes }, 'raw');
    expect(score.notes).toEqual([...notes].sort((a, b) => a.onsetSec - b.onsetSec || a.pitchMidi - b.pitchMidi));
    expect(score.tempos).toEqual([{ timeSec: 0, bpm: 120 }]);
    expect(score.timeSignatures).toEqual([{ timeSec: 0, numerator: 4, denominator: 4 }]);
    expect(score.keys).toEqual([]);
  });

  it('defaults keep every onset, track the tempo, estimate the key and lengthen short notes', () => {
    const score = postprocess({ notes }, {});
    expect(score.notes.map((n) => n.onsetSec).sort()).toEqual(notes.map((n) => n.onsetSec).sort());
    expect(score.notes.every((n) => n.offsetSec - n.onsetSec >= 0.06 - 1e-9)).toBe(true);
    expect(score.keys).toHaveLength(1);
    expect(score.beatsSec!.length).toBeGreaterThan(30);
    const bpms = score.tempos.slice(1).map((t) => t.bpm);
    expect(bpms.reduce((a, b) => a + b, 0) / bpms.length).toBeGreaterThan(95);
    expect(bpms.reduce((a, b) => a + b, 0) / bpms.length).toBeLessThan(105);
    expect(postprocess({ notes }, DEFAULT_POSTPROCESS)).toEqual(score);
  });

  it('quantize + chord alignment put chord notes together; the key filter drops the blip', () => {
    const score = postprocess({ notes }, { quantize: { grid: '1/8', strength: 1 }, chordAlign: { windowSec: 0.03 }, key: { profile: 'temperley', filter: { maxDurationSec: 0.12, maxConfidence: 0.5 } } });
    const onsets = new Set(score.notes.map((n) => n.onsetSec.toFixed(6)));
    expect(onsets.size).toBeLessThanOrEqual(41);
    expect(score.keys[0]).toMatchObject({ tonic: 'C', mode: 'major' });
    expect(score.notes.some((n) => n.pitchMidi === 61)).toBe(false);
  });

  it('writes a steady tempo map by default, but follows every beat when quantizing (unless asked)', () => {
    const steady = postprocess({ notes }, {});
    const perBeat = postprocess({ notes }, { steadyTempo: false });
    expect(steady.tempos.length).toBeLessThan(perBeat.tempos.length);
    expect(steady.notes).toEqual(perBeat.notes);
    const q = { grid: '1/8', strength: 1 } as const;
    expect(postprocess({ notes }, { quantize: q }).tempos).toEqual(postprocess({ notes }, { quantize: q, steadyTempo: false }).tempos);
    expect(postprocess({ notes }, { quantize: q, steadyTempo: {} }).tempos.length).toBeLessThan(perBeat.tempos.length);
  });

  it('handles an empty transcription', () => {
    const score = postprocess({ notes: [] }, {});
    expect(score.notes).toEqual([]);
    expect(score.tempos).toEqual([{ timeSec: 0, bpm: 120 }]);
  });
});
