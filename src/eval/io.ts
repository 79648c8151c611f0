/**
 * Reading reference/estimated notes for evaluation: `.tsv`/`.txt` tables
 * (`onset offset note [velocity]`, `#` comments, tabs/spaces/commas) and `.mid` files.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { InputError, InputErrorCode } from '../errors.js';
import { decodeMidi } from '../midi/decode.js';
import type { Note } from '../types.js';

/** Velocity given to notes of a table without a velocity column. */
export const DEFAULT_VELOCITY = 100;

/**
 * Parses a whitespace/comma separated numeric table; `#` starts a comment, blank lines are
 * skipped. Every data row must have at least `minColumns` numbers.
 * [shape=(nb_rows, nb_columns)]
 */
export function parseNumberTable(text: string, minColumns: number, sourceName = 'table'): number[][] {
  const rows: number[][] = [];
  text.split(/\r?\n/).forEach((rawLine, lineIndex) => {
    const line = rawLine.replace(/#.*$/, '').trim();
    if (line === '') return;
    const fields = line.split(/[\s,]+/);
    const values = fields.map(Number);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      throw new InputError(
        InputErrorCode.NOT_AUDIO,
        `${sourceName}, line ${lineIndex + 1}: "${fields[bad]}" is not a number; expected rows of "onset offset note velocity" (seconds, seconds, MIDI number, 0-127).`,
      );
    }
    if (values.length < minColumns) {
      throw new InputError(
        InputErrorCode.NOT_AUDIO,
        `${sourceName}, line ${lineIndex + 1}: expected at least ${minColumns} columns ("onset offset note velocity"), found ${values.length}.`,
      );
    }
    rows.push(values);
  });
  return rows;
}

/** Notes from a `onset offset note [velocity]` table; `note` is a MIDI number. */
export function notesFromTsv(text: string, sourceName = 'tsv'): Note[] {
  return parseNumberTable(text, 3, sourceName).map((row) => ({
    onsetSec: row[0],
    offsetSec: row[1],
    pitchMidi: row[2],
    velocity: row.length >= 4 ? row[3] : DEFAULT_VELOCITY,
    confidence: 1,
  }));
}

/** Every note of every track of a Standard MIDI File, sorted by onset then pitch. */
export function notesFromMidi(bytes: Uint8Array, sourceName = 'midi'): Note[] {
  try {
    return decodeMidi(bytes).notes;
  } catch (cause) {
    throw new InputError(InputErrorCode.NOT_AUDIO, `${sourceName} is not a readable Standard MIDI File.`, { cause });
  }
}

/** Reads notes from a `.mid`/`.midi` or `.tsv`/`.txt`/`.csv` file. */
export async function readNotesFile(path: string): Promise<Note[]> {
  const ext = extname(path).toLowerCase();
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : (cause as Error).message;
    throw new InputError(InputErrorCode.NOT_FOUND, `Cannot read notes from ${path}: ${why}.`, { cause });
  }
  if (ext === '.mid' || ext === '.midi') return notesFromMidi(new Uint8Array(bytes), path);
  if (ext === '.tsv' || ext === '.txt' || ext === '.csv') return notesFromTsv(bytes.toString('utf8'), path);
  throw new InputError(
    InputErrorCode.NOT_AUDIO,
    `${path}: unsupported note file type "${ext}"; use a .mid or a .tsv with rows "onset offset note velocity".`,
  );
}
