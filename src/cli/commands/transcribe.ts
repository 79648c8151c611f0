/** `stemscribe <audio> -o <out.mid>`: the main job, a thin adapter over `runPipeline`. */
import { stat, readFile } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { Command, Option } from 'commander';
import { encodeWav } from '../../audio/wav.js';
import { DEFAULT_INPUT_LIMITS } from '../../audio/limits.js';
import { InputError, InputErrorCode } from '../../errors.js';
import { runPipeline, type PipelineResult } from '../../pipeline/run.js';
import { renderPianoRollSvg } from '../../picture/pianoroll.js';
import { SEPARATOR_NAMES, type SeparatorName } from '../../separation/index.js';
import { DEFAULT_TRANSCRIBER, TRANSCRIBER_NAMES, type TranscriberName } from '../../transcription/index.js';
import { presentStems } from '../../separation/stems.js';
import { createProgressReporter } from '../progress.js';
import { siblingPath, writeFileAtomic } from '../output.js';
import { addPostprocessOptions, postprocessOptionsFromCli } from '../postprocessFlags.js';

const LICENSE_NOTE =
  'The default separator, htdemucs, uses Meta\'s Demucs v4 weights, licensed for research and\n' +
  'personal use only. Use --separator none for solo piano, or another separator for other uses.';

interface TranscribeFlags {
  output?: string;
  stems?: string;
  separator: SeparatorName;
  separation: boolean;
  transcriber: TranscriberName;
  raw?: boolean;
  json?: string;
  picture: boolean;
  keyReleases?: boolean;
  maxDurationSec: number;
  quiet?: boolean;
  [flag: string]: unknown;
}

export function registerTranscribeCommand(program: Command): void {
  const cmd = program
    .command('transcribe', { isDefault: true })
    .description('Transcribe the piano part of a song (WAV, FLAC, MP3 or Ogg Vorbis) into a MIDI file.')
    .argument('<audio>', 'the audio file to transcribe')
    .option('-o, --output <file.mid>', 'where to write the MIDI file (default: next to the input)')
    .option('--stems <dir>', 'also write the separated stems as WAV files into this folder')
    .addOption(new Option('--separator <name>', 'stem separator').choices([...SEPARATOR_NAMES]).default('htdemucs'))
    .option('--no-separation', 'transcribe the input as it is (solo piano); same as --separator none')
    .addOption(
      new Option('--transcriber <name>', 'note transcriber').choices([...TRANSCRIBER_NAMES]).default(DEFAULT_TRANSCRIBER),
    )
    .option('--raw', "skip musical post-processing: write the model's notes as they are")
    .option(
      '--key-releases',
      'under the sustain pedal, end notes where the model heard them fade instead of holding them to the next note (sounds the same: the pedal is in the MIDI file)',
    )
    .option('--json <notes.json>', 'also write the notes, tempo and key as JSON')
    .option('--no-picture', 'do not write the piano-roll picture (<out>.svg) next to the MIDI file')
    .addOption(
      new Option('--max-duration-sec <seconds>', 'refuse longer inputs')
        .argParser(parsePositiveNumber)
        .default(DEFAULT_INPUT_LIMITS.maxDurationSec),
    )
    .option('-q, --quiet', 'no progress bars or summary')
    .addHelpText('after', `\n${LICENSE_NOTE}\n`);
  addPostprocessOptions(cmd);
  cmd.action(async (audioPath: string, flags: TranscribeFlags) => {
    await transcribeFile(audioPath, flags);
  });
}

function parsePositiveNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`expected a positive number, got '${value}'`);
  return parsed;
}

async function readInput(audioPath: string, maxBytes: number): Promise<Uint8Array> {
  let sizeBytes: number;
  try {
    const info = await stat(audioPath);
    if (!info.isFile()) throw new InputError(InputErrorCode.NOT_FOUND, `${audioPath}: not a file.`);
    sizeBytes = info.size;
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(InputErrorCode.NOT_FOUND, `${audioPath}: no such file.`, { cause: error });
  }
  // Check the size before reading, so a huge file is refused without loading it.
  if (sizeBytes > maxBytes) {
    throw new InputError(
      InputErrorCode.TOO_LARGE,
      `${audioPath}: the file is ${(sizeBytes / 1e6).toFixed(0)} MB; the limit is ${(maxBytes / 1e6).toFixed(0)} MB. Trim or compress it first.`,
    );
  }
  return new Uint8Array(await readFile(audioPath));
}

async function transcribeFile(audioPath: string, flags: TranscribeFlags): Promise<void> {
  const separator: SeparatorName = flags.separation ? flags.separator : 'none';
  const outputPath = flags.output ?? `${audioPath.slice(0, audioPath.length - extname(audioPath).length)}.mid`;
  const limits = { ...DEFAULT_INPUT_LIMITS, maxDurationSec: flags.maxDurationSec };
  const bytes = await readInput(audioPath, limits.maxBytes);

  const showProgress = !flags.quiet && process.stderr.isTTY === true;
  const progress = createProgressReporter(showProgress);
  let result: PipelineResult;
  try {
    result = await runPipeline(
      { bytes, fileName: audioPath },
      {
        separator,
        transcriber: flags.transcriber,
        postprocess: flags.raw ? 'raw' : postprocessOptionsFromCli(flags),
        limits,
        trackName: basename(audioPath, extname(audioPath)),
        holdUnderPedal: !flags.keyReleases,
      },
      progress.hooks,
    );
  } finally {
    progress.stop();
  }

  // Outputs are written only after every stage succeeded, each file atomically.
  await writeFileAtomic(outputPath, result.midi);
  const written = [outputPath];
  if (flags.picture) {
    const svgPath = siblingPath(outputPath, '.svg');
    await writeFileAtomic(svgPath, renderPianoRollSvg(result.score));
    written.push(svgPath);
  }
  if (flags.json) {
    await writeFileAtomic(flags.json, JSON.stringify(notesDocument(audioPath, result), null, 2));
    written.push(flags.json);
  }
  if (flags.stems && result.stems) {
    for (const [name, audio] of presentStems(result.stems)) {
      const stemPath = join(flags.stems, `${name}.wav`);
      await writeFileAtomic(stemPath, encodeWav(audio, { format: 'pcm16' }));
      written.push(stemPath);
    }
  }

  for (const warning of result.warnings) process.stderr.write(`stemscribe: warning: ${warning}\n`);
  if (!flags.quiet) {
    const timing = result.timings.map((t) => `${t.stage} ${t.elapsedSec.toFixed(1)} s`).join(', ');
    process.stderr.write(
      `${result.score.notes.length} notes from ${result.durationSec.toFixed(1)} s of audio (${timing}).\n` +
        `Wrote ${written.join(', ')}\n`,
    );
  }
}

/** The `--json` document: everything a script needs without parsing MIDI. */
function notesDocument(source: string, result: PipelineResult): Record<string, unknown> {
  return {
    source,
    durationSec: result.durationSec,
    models: result.models,
    tempos: result.score.tempos,
    timeSignatures: result.score.timeSignatures,
    keys: result.score.keys,
    notes: result.score.notes,
    pedal: result.score.pedal ?? [],
    warnings: result.warnings,
    timings: result.timings,
  };
}
