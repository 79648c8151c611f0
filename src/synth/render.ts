/**
 * MIDI -> audio with a SoundFont, offline, for tests, benchmarks and training data.
 *
 * spessasynth_core's synthesizer is driven directly, not through its sequencer: every MIDI event
 * is applied at its exact sample (the sequencer only acts once per 128-sample quantum, and by
 * default skips the silence before the first note, which makes every note early). Effects
 * (reverb, chorus, delay) are off and nothing is normalised, so the synthesis is linear: stems
 * rendered separately sum to the mix rendered at once.
 */
import { readFile } from 'node:fs/promises';
import tonejsMidi from '@tonejs/midi';
import { BasicMIDI, SoundBankLoader, SpessaSynthProcessor, SpessaLog, type BasicSoundBank } from 'spessasynth_core';
import { StemscribeError } from '../errors.js';
import type { AudioData, Note, PedalSpan } from '../types.js';

// @tonejs/midi is CommonJS: Node's ESM loader exposes it only as a default export.
const { Midi } = tonejsMidi;

export interface RenderOptions {
  /** SF2/SF3 file, e.g. from `soundfontPath('npm-fluidr3-mono')`. */
  soundfontPath: string;
  sampleRateHz: number;
  /** GM program (0-based, 0 = acoustic grand) forced on every non-drum channel. */
  programOverride?: number;
  /** 2 (default): the synth's stereo output; 1: the mean of left and right. */
  channels?: 1 | 2;
  /** Silence kept after the last MIDI event so releases ring out, seconds. Default 1. */
  tailSec?: number;
}

/** Synth block size; also the interval of modulator/LFO updates. */
const MAX_BLOCK_SAMPLES = 128;
const DRUM_CHANNEL = 9;
const PROGRAM_CHANGE = 0xc0;

const bankCache = new Map<string, Promise<BasicSoundBank>>();
let loggingSilenced = false;

function silenceLogging(): void {
  if (loggingSilenced) return;
  SpessaLog.setLogLevel(false, false, false);
  loggingSilenced = true;
}

/** Loads (once per path) and parses a soundfont; big fonts take a second, so they are cached. */
function loadSoundBank(path: string): Promise<BasicSoundBank> {
  let bank = bankCache.get(path);
  if (!bank) {
    bank = readFile(path).then(
      (bytes) => SoundBankLoader.fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
      (err: unknown) => {
        throw new StemscribeError(`Cannot read soundfont ${path}: ${(err as Error).message}`, 'synth', { cause: err });
      },
    );
    bankCache.set(path, bank);
    bank.catch(() => bankCache.delete(path));
  }
  return bank;
}

/** Drops cached soundfonts (each holds its decoded samples in memory). */
export function clearSoundfontCache(): void {
  bankCache.clear();
}

interface TimedMessage {
  sample: number;
  /** Status byte with channel, then data bytes. */
  bytes: number[];
}

/** Channel voice messages of a MIDI file with their sample positions, in time order. */
function midiMessages(midi: BasicMIDI, sampleRateHz: number, programOverride: number | undefined): TimedMessage[] {
  const messages: TimedMessage[] = [];
  midi.iterate((event) => {
    const status = event.statusByte as number;
    // Meta events carry their type (< 0x80) here; system messages (>= 0xF0) are not replayed.
    if (status < 0x80 || status >= 0xf0) return;
    const channel = status & 0x0f;
    const data = Array.from(event.data);
    if ((status & 0xf0) === PROGRAM_CHANGE && programOverride !== undefined && channel !== DRUM_CHANNEL) {
      data[0] = programOverride;
    }
    messages.push({ sample: Math.round(midi.midiTicksToSeconds(event.ticks) * sampleRateHz), bytes: [status, ...data] });
  });
  // Stable sort keeps file order among events at the same sample (note-off before a re-strike).
  messages.sort((a, b) => a.sample - b.sample);
  return messages;
}

/**
 * Renders a Standard MIDI File.
 * @returns planar audio at `sampleRateHz`; length = last event + `tailSec`.
 */
export async function renderMidi(midiBytes: Uint8Array, opts: RenderOptions): Promise<AudioData> {
  const { sampleRateHz, programOverride } = opts;
  const outChannels = opts.channels ?? 2;
  const tailSec = opts.tailSec ?? 1;
  if (!(sampleRateHz >= 8000 && sampleRateHz <= 192000)) {
    throw new StemscribeError(`Sample rate ${sampleRateHz} Hz is outside 8000..192000 Hz.`, 'synth');
  }
  if (programOverride !== undefined && !(Number.isInteger(programOverride) && programOverride >= 0 && programOverride <= 127)) {
    throw new StemscribeError(`programOverride ${programOverride} is not a GM program number 0..127.`, 'synth');
  }
  silenceLogging();
  let midi: BasicMIDI;
  try {
    const copy = midiBytes.slice();
    midi = BasicMIDI.fromArrayBuffer(copy.buffer);
  } catch (err) {
    throw new StemscribeError(`Not a readable MIDI file: ${(err as Error).message}`, 'synth', { cause: err });
  }
  const bank = await loadSoundBank(opts.soundfontPath);
  const messages = midiMessages(midi, sampleRateHz, programOverride);

  const synth = new SpessaSynthProcessor(sampleRateHz, {
    effectsEnabled: false,
    eventsEnabled: false,
    maxBufferSize: MAX_BLOCK_SAMPLES,
  });
  // Allocate voices instead of stealing them, so dense passages render the same alone or mixed.
  synth.setSystemParameter('autoAllocateVoices', true);
  synth.soundBankManager.addSoundBank(bank, 'main');
  await synth.processorInitialized;
  if (programOverride !== undefined) {
    for (let ch = 0; ch < 16; ch++) if (ch !== DRUM_CHANNEL) synth.programChange(ch, programOverride);
  }

  const lastSample = messages.length > 0 ? messages[messages.length - 1].sample : 0;
  const nbSamples = lastSample + Math.round(tailSec * sampleRateHz);
  const left = new Float32Array(nbSamples);
  const right = new Float32Array(nbSamples);
  let pos = 0;
  const renderUntil = (end: number): void => {
    while (pos < end) {
      const count = Math.min(MAX_BLOCK_SAMPLES, end - pos);
      synth.process(left, right, pos, count);
      pos += count;
    }
  };
  for (const message of messages) {
    renderUntil(Math.min(message.sample, nbSamples));
    synth.processMessage(message.bytes);
  }
  renderUntil(nbSamples);

  if (outChannels === 2) return { sampleRateHz, channels: [left, right] };
  const mono = new Float32Array(nbSamples);
  for (let i = 0; i < nbSamples; i++) mono[i] = 0.5 * (left[i] + right[i]);
  return { sampleRateHz, channels: [mono] };
}

export interface NotesToMidiOptions {
  /** GM program (0-based). Default 0, acoustic grand piano. */
  program?: number;
  /** Sustain-pedal spans written as controller 64. */
  pedal?: readonly PedalSpan[];
  /** MIDI channel 0..15. Default 0. */
  channel?: number;
}

/**
 * Writes notes (seconds) as a one-track Standard MIDI File at 120 bpm, 480 ppq (1.04 ms per tick).
 * Velocities are clamped to 1..127.
 */
export function notesToMidi(notes: readonly Note[], opts: NotesToMidiOptions = {}): Uint8Array {
  const midi = new Midi();
  const track = midi.addTrack();
  track.channel = opts.channel ?? 0;
  track.instrument.number = opts.program ?? 0;
  for (const note of notes) {
    track.addNote({
      midi: note.pitchMidi,
      time: note.onsetSec,
      duration: Math.max(note.offsetSec - note.onsetSec, 0.001),
      velocity: Math.min(127, Math.max(1, Math.round(note.velocity))) / 127,
    });
  }
  for (const span of opts.pedal ?? []) {
    track.addCC({ number: 64, time: span.onsetSec, value: 1 });
    track.addCC({ number: 64, time: span.offsetSec, value: 0 });
  }
  return midi.toArray();
}

/** `notesToMidi` then `renderMidi`. */
export function renderNotes(
  notes: readonly Note[],
  opts: RenderOptions & Omit<NotesToMidiOptions, 'channel'>,
): Promise<AudioData> {
  return renderMidi(notesToMidi(notes, { program: opts.program, pedal: opts.pedal }), opts);
}
