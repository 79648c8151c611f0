import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addPostprocessOptions, postprocessOptionsFromCli } from '../../src/cli/postprocessFlags.js';
import { DEFAULT_POSTPROCESS } from '../../src/postprocess/index.js';

function parse(args: string[]): Record<string, unknown> {
  const cmd = addPostprocessOptions(new Command().exitOverride().argument('<audio>').option('--raw'));
  cmd.parse(['node', 'stemscribe', 'song.wav', ...args]);
  return cmd.opts();
}

describe('postprocess flags', () => {
  it('no flags give the defaults (no quantization, no chord alignment, no key filter)', () => {
    const o = postprocessOptionsFromCli(parse([]));
    expect(o).toEqual({ ...DEFAULT_POSTPROCESS });
  });

  it('--quantize and --quantize-strength add quantization with chord alignment', () => {
    const o = postprocessOptionsFromCli(parse(['--quantize', '1/16t', '--quantize-strength', '0.5']));
    expect(o.quantize).toEqual({ grid: '1/16t', strength: 0.5 });
    expect(o.chordAlign).toEqual({ windowSec: 0.03 });
    expect(postprocessOptionsFromCli(parse(['--quantize-strength', '0.3'])).quantize).toEqual({ grid: '1/16', strength: 0.3 });
  });

  it('note-length, key and velocity flags', () => {
    const o = postprocessOptionsFromCli(
      parse(['--min-note-ms', '100', '--legato', '--pedal-lengths', '--key-filter', '--key-profile', 'albrecht-shanahan', '--velocity', 'compress']),
    );
    expect(o.noteLengths).toMatchObject({ minDurationSec: 0.1, legato: true, pedal: true });
    expect(o.key).toMatchObject({ profile: 'albrecht-shanahan', filter: { maxDurationSec: 0.2, maxConfidence: 0.4 } });
    expect(o.velocity?.mode).toBe('compress');
    expect(postprocessOptionsFromCli(parse(['--no-key'])).key).toBe(false);
    expect(postprocessOptionsFromCli(parse(['--no-beat-tracking'])).beatTracking).toBe(false);
  });

  it('--beat-tracker picks the tracker; without it the pipeline default applies', () => {
    expect(postprocessOptionsFromCli(parse(['--beat-tracker', 'handmade'])).beatTracker).toBe('handmade');
    expect(postprocessOptionsFromCli(parse([])).beatTracker).toBeUndefined();
    expect(() => parse(['--beat-tracker', 'psychic'])).toThrow(/Allowed choices are learned, handmade/);
  });

  it('errors list the allowed values', () => {
    expect(() => postprocessOptionsFromCli(parse(['--quantize', '1/5']))).toThrow(/--quantize must be one of 1\/4, 1\/8, 1\/16/);
    expect(() => postprocessOptionsFromCli(parse(['--quantize-strength', '2']))).toThrow(/from 0 to 1, got '2'/);
    expect(() => postprocessOptionsFromCli(parse(['--min-note-ms', 'x']))).toThrow(/--min-note-ms/);
    expect(() => parse(['--velocity', 'loud'])).toThrow(/Allowed choices are model, compress, normalize/);
  });
});
