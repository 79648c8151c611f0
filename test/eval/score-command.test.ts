import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import midiPkg from '@tonejs/midi';
import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { registerScoreCommand, type ScoreReport } from '../../src/cli/commands/score.js';
import { InputError } from '../../src/errors.js';

const { Midi } = midiPkg;

async function runScore(args: string[]): Promise<{ report: ScoreReport; stderr: string }> {
  const program = new Command('stemscribe').exitOverride();
  registerScoreCommand(program);
  let out = '';
  let err = '';
  const so = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  const se = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    err += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['score', ...args], { from: 'user' });
  } finally {
    so.mockRestore();
    se.mockRestore();
  }
  return { report: JSON.parse(out) as ScoreReport, stderr: err };
}

describe('Command: stemscribe score', () => {
  const dir = mkdtempSync(join(tmpdir(), 'stemscribe-score-'));
  afterEach(() => vi.restoreAllMocks());

  const refTsv = join(dir, 'ref.tsv');
  writeFileSync(refTsv, '# onset\toffset\tnote\tvelocity\n0.50\t1.00\t60\t40\n0.50\t1.20\t64\t80\n1.00\t1.50\t67\t100\n');

  it('scores a .mid estimate against a .tsv reference', async () => {
    const midi = new Midi();
    const track = midi.addTrack();
    // Same notes, the last one 30 ms late and 300 ms short.
    track.addNote({ midi: 60, time: 0.5, duration: 0.5, velocity: 40 / 127 });
    track.addNote({ midi: 64, time: 0.5, duration: 0.7, velocity: 80 / 127 });
    track.addNote({ midi: 67, time: 1.03, duration: 0.17, velocity: 100 / 127 });
    const estMid = join(dir, 'est.mid');
    writeFileSync(estMid, midi.toArray());
    const { report } = await runScore([refTsv, estMid]);
    expect(report.reference.notes).toBe(3);
    expect(report.estimate.notes).toBe(3);
    expect(report.note.onset.f1).toBe(1);
    // The short note misses the offset criterion: 2 of 3.
    expect(report.note.onsetOffset.f1).toBeCloseTo(2 / 3, 12);
    expect(report.frame.precision).toBe(1);
    expect(report.frame.recall).toBeLessThan(1);
    expect(report.settings.onsetToleranceSec).toBe(0.05);
  });

  it('warns on an empty estimate and scores 0', async () => {
    const empty = join(dir, 'empty.tsv');
    writeFileSync(empty, '# nothing\n');
    const { report, stderr } = await runScore([refTsv, empty]);
    expect(report.note.onset.f1).toBe(0);
    expect(stderr).toContain('Estimated notes are empty.');
  });

  it('reports unreadable files and bad rows as InputError', async () => {
    await expect(runScore([refTsv, join(dir, 'missing.tsv')])).rejects.toBeInstanceOf(InputError);
    const bad = join(dir, 'bad.tsv');
    writeFileSync(bad, '0.5 1.0 sixty\n');
    await expect(runScore([refTsv, bad])).rejects.toThrow(/line 1: "sixty" is not a number/);
    await expect(runScore([refTsv, join(dir, 'x.wav')])).rejects.toThrow();
  });
});
