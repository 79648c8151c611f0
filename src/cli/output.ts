/** File output for the CLI: every file is written whole or not at all (temp file + rename). */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmpPath = `${path}.partial-${process.pid}`;
  try {
    await writeFile(tmpPath, data);
    await rename(tmpPath, path);
  } catch (error) {
    await rm(tmpPath, { force: true });
    throw error;
  }
}

/** `song.mid` -> `song.svg`: the piano-roll picture sits next to the MIDI file. */
export function siblingPath(midiPath: string, extension: string): string {
  const base = midiPath.replace(/\.(mid|midi)$/i, '');
  return `${base}${extension}`;
}
