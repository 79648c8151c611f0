import { describe, expect, it } from 'vitest';
import { renderPianoRollSvg, velocityColour } from '../../src/picture/pianoroll.js';
import type { Score } from '../../src/types.js';

const score: Score = {
  notes: [
    { onsetSec: 0.5, offsetSec: 1.0, pitchMidi: 60, velocity: 20, confidence: 1 },
    { onsetSec: 1.0, offsetSec: 1.5, pitchMidi: 64, velocity: 120, confidence: 1 },
    { onsetSec: 1.5, offsetSec: 2.5, pitchMidi: 79, velocity: 64, confidence: 1 },
  ],
  pedal: [{ onsetSec: 0.5, offsetSec: 2.0 }],
  tempos: [{ timeSec: 0, bpm: 120 }],
  timeSignatures: [{ timeSec: 0, numerator: 3, denominator: 4 }],
  keys: [{ timeSec: 0, tonic: 'C', mode: 'major' }],
  beatsSec: [0.5, 1.0, 1.5, 2.0, 2.5, 3.0],
  downbeatsSec: [0.5, 2.0],
};

describe('renderPianoRollSvg', () => {
  const svg = renderPianoRollSvg(score, { title: 'a <test>' });

  it('draws one rect per note, beat and bar lines, C labels and the pedal', () => {
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/class="note"/g)).toHaveLength(3);
    expect(svg.match(/class="bar"/g)).toHaveLength(2);
    expect(svg.match(/class="beat"/g)).toHaveLength(4);
    expect(svg.match(/class="pedal"/g)).toHaveLength(1);
    // Octaves C4..B5 are shown: labels at C4 and C5.
    expect(svg).toContain('>C4<');
    expect(svg).toContain('>C5<');
    expect(svg).toContain('a &lt;test&gt;');
    expect(svg).toContain('C major');
  });

  it('colours quiet notes cooler and loud notes warmer, with more opacity', () => {
    expect(velocityColour(1)).toBe('hsl(220,75%,45%)');
    expect(velocityColour(127)).toBe('hsl(0,75%,45%)');
    const opacities = [...svg.matchAll(/class="note"[^>]*fill-opacity="([0-9.]+)"/g)].map((m) => Number(m[1]));
    expect(opacities[1]).toBeGreaterThan(opacities[0]);
  });

  it('renders an empty score and falls back to tempo-map grid lines without beats', () => {
    const empty = renderPianoRollSvg({ notes: [], tempos: [{ timeSec: 0, bpm: 120 }], timeSignatures: [], keys: [] });
    expect(empty).toContain('</svg>');
    expect(empty.match(/class="bar"/g)?.length).toBeGreaterThan(0);
  });
});
