/** Discovers the transcribers and separators the tree provides at run time. */
import { cpus } from 'node:os';
import type { Separator, Transcriber } from '../../src/types.js';
import { tryImport } from './modules.js';

/** onnxruntime threads for benchmarks: every core (speed is measured, nothing else runs). */
export const BENCH_THREADS = Math.max(1, cpus().length);

export interface Available<T> {
  names: string[];
  create?: (name: string) => Promise<T>;
  reason?: string;
}

export async function availableTranscribers(): Promise<Available<Transcriber>> {
  const loaded = await tryImport(() => import('../../src/transcription/index.js'), 'src/transcription/index.ts');
  if (!loaded.ok) return { names: [], reason: loaded.reason };
  const mod = loaded.module as unknown as {
    TRANSCRIBER_NAMES?: readonly string[];
    createTranscriber: (name: string, opts?: { intraOpNumThreads?: number }) => Promise<Transcriber>;
  };
  const names = [...(mod.TRANSCRIBER_NAMES ?? ['basic-pitch'])];
  return { names, create: (name) => mod.createTranscriber(name, { intraOpNumThreads: BENCH_THREADS }) };
}

export async function availableSeparators(): Promise<Available<Separator>> {
  const loaded = await tryImport(() => import('../../src/separation/index.js'), 'src/separation/index.ts');
  if (!loaded.ok) return { names: [], reason: loaded.reason };
  const mod = loaded.module as unknown as {
    SEPARATOR_NAMES?: readonly string[];
    createSeparator: (name: string, opts?: { intraOpNumThreads?: number }) => Promise<Separator>;
  };
  const names = [...(mod.SEPARATOR_NAMES ?? ['htdemucs', 'none'])];
  return { names, create: (name) => mod.createSeparator(name, { intraOpNumThreads: BENCH_THREADS }) };
}
