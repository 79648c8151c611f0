/**
 * The CLI as a user meets it: a real child process, real files, exit codes and stderr.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import tonejsMidi from '@tonejs/midi';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeWav } from '../../src/audio/wav.js';
import { loadPianoParityClip } from '../helpers/pianoClip.js';

interface NoteRow {
  onsetSec: number;
  offsetSec: number;
}

const { Midi } = tonejsMidi;

const BIN = fileURLToPath(new URL('../../bin/stemscribe.js', import.meta.url));

function runCli(args: string[]): { status: number | null; stderr: string; stdout: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    encoding: 'utf8',
    env: { ...process.env, STEMSCRIBE_DEBUG: '' },
    timeout: 120_000,
  });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}

/** A short piano-like tone sequence (decaying harmonic tones), 22.05 kHz mono. */
function toneSequenceWav(): Uint8Array {
  const sampleRateHz = 22_050;
  const pitches = [60, 64, 67, 72];
  const noteSec = 0.5;
  const samples = new Float32Array(Math.round(sampleRateHz * (pitches.length * noteSec + 0.5)));
  pitches.forEach((pitch, k) => {
    const f0 = 440 * 2 ** ((pitch - 69) / 12);
    const start = Math.round(k * noteSec * sampleRateHz);
    for (let i = 0; i < noteSec * sampleRateHz; i++) {
      const t = i / sampleRateHz;
      let v = 0;
      for (let h = 1; h <= 4; h++) v += Math.sin(2 * Math.PI * f0 * h * t) / h;
      samples[start + i] += 0.3 * v * Math.exp(-3 * t);
    }
  });
  return encodeWav({ sampleRateHz, channels: [samples] }, { format: 'pcm16' });
}

describe('CLI: stemscribe', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'stemscribe-cli-'));
  });

  it('prints help with the separator licence note', () => {
    const { status, stdout } = runCli(['transcribe', '--help']);
    expect(status).toBe(0);
    expect(stdout).toMatch(/--separator/);
    expect(stdout).toMatch(/research and\s+personal use only/);
  });

  it('transcribes a WAV file without separation into a readable MIDI file, picture and JSON', () => {
    const input = join(dir, 'tones.wav');
    writeFileSync(input, toneSequenceWav());
    const out = join(dir, 'tones.mid');
    const json = join(dir, 'tones.json');
    const { status, stderr } = runCli([input, '-o', out, '--no-separation', '--json', json, '-q']);
    expect(stderr).toBe('');
    expect(status).toBe(0);
    const midi = new Midi(readFileSync(out));
    const pitches = new Set(midi.tracks.flatMap((t) => t.notes.map((n) => n.midi)));
    for (const p of [60, 64, 67, 72]) expect(pitches.has(p)).toBe(true);
    expect(readFileSync(join(dir, 'tones.svg'), 'utf8')).toMatch(/^<svg|<\?xml/);
    const doc = JSON.parse(readFileSync(json, 'utf8')) as { notes: unknown[] };
    expect(doc.notes.length).toBe(midi.tracks.reduce((n, t) => n + t.notes.length, 0));
  });

  it('holds notes released under the pedal unless --key-releases is given', () => {
    const input = join(dir, 'pedalled.wav');
    // The parity clip holds the pedal down over 1.4-2.5 s (test/transcription/fixtures).
    writeFileSync(input, encodeWav({ sampleRateHz: 16_000, channels: [loadPianoParityClip()] }, { format: 'pcm16' }));
    const notesOf = (extra: string[]): NoteRow[] => {
      const json = join(dir, `pedalled${extra.length}.json`);
      const { status, stderr } = runCli([input, '-o', join(dir, 'pedalled.mid'), '--no-separation', '--transcriber', 'piano', '--raw', '--json', json, '-q', ...extra]);
      expect(stderr).toBe('');
      expect(status).toBe(0);
      return (JSON.parse(readFileSync(json, 'utf8')) as { notes: NoteRow[] }).notes;
    };
    const held = notesOf([]);
    const heard = notesOf(['--key-releases']);
    expect(heard.map((n) => n.onsetSec)).toEqual(held.map((n) => n.onsetSec));
    expect(held.filter((n, i) => n.offsetSec > heard[i].offsetSec).length).toBeGreaterThan(0);
    held.forEach((n, i) => expect(n.offsetSec).toBeGreaterThanOrEqual(heard[i].offsetSec));
  });

  it('writes a valid, empty MIDI file for silence, with a warning', () => {
    const input = join(dir, 'silence.wav');
    writeFileSync(input, encodeWav({ sampleRateHz: 22_050, channels: [new Float32Array(22_050 * 2)] }));
    const out = join(dir, 'silence.mid');
    const { status, stderr } = runCli([input, '-o', out, '--no-separation', '-q']);
    expect(status).toBe(0);
    expect(stderr).toMatch(/warning: .*silent/);
    const midi = new Midi(readFileSync(out));
    expect(midi.tracks.reduce((n, t) => n + t.notes.length, 0)).toBe(0);
  });

  const badInputs: Array<[string, () => Uint8Array, RegExp]> = [
    ['empty', () => new Uint8Array(0), /empty/i],
    ['not audio', () => new TextEncoder().encode('This is a shopping list, not a song.\n'.repeat(50)), /not .*audio|not a supported audio/i],
    ['truncated', () => toneSequenceWav().subarray(0, 5_000), /truncated|incomplete|cut off/i],
  ];
  for (const [label, makeBytes, reason] of badInputs) {
    it(`refuses ${label} input with one clear line, exit code 2 and no output file`, () => {
      const input = join(dir, `bad-${label.replace(/ /g, '-')}.wav`);
      writeFileSync(input, makeBytes());
      const outDir = mkdtempSync(join(dir, 'out-'));
      const { status, stderr } = runCli([input, '-o', join(outDir, 'x.mid'), '--no-separation', '-q']);
      expect(status).toBe(2);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(input);
      expect(lines[0]).toMatch(reason);
      expect(stderr).not.toMatch(/\bat .*\.ts:\d+/);
      expect(readdirSync(outDir)).toEqual([]);
    });
  }

  it('refuses an input longer than --max-duration-sec', () => {
    const input = join(dir, 'long.wav');
    writeFileSync(input, toneSequenceWav());
    const out = join(dir, 'long.mid');
    const { status, stderr } = runCli([input, '-o', out, '--no-separation', '--max-duration-sec', '1', '-q']);
    expect(status).toBe(2);
    expect(stderr).toMatch(/long|limit/i);
    expect(existsSync(out)).toBe(false);
  });

  it('names a missing file', () => {
    const { status, stderr } = runCli([join(dir, 'nope.flac'), '-q']);
    expect(status).toBe(2);
    expect(stderr).toMatch(/nope\.flac: no such file/);
  });
});
