import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { expect } from 'vitest';
import type { SourceImages } from '../../src/eval/separation.js';
import { loadWavMono } from './wav.js';

export const SEP_FIXTURES = new URL('../../../shared/data/fixtures/mir_eval/separation/', import.meta.url);
export const HAVE_SEP_FIXTURES = existsSync(SEP_FIXTURES);
/** The issue asks for 1e-3 dB (mir_eval's own test uses 1e-2). */
export const SEP_TOL_DB = 1e-3;

export interface SepExpected {
  [section: string]: Record<string, number[] | number[][] | number | boolean>;
}

export interface SepCase {
  id: string;
  ref: Float64Array[];
  est: Float64Array[];
  expected: SepExpected;
}

export function sepCaseIds(): string[] {
  if (!HAVE_SEP_FIXTURES) return [];
  return readdirSync(SEP_FIXTURES)
    .filter((f) => /^output\d+\.json$/.test(f))
    .map((f) => f.slice(6, 8))
    .sort();
}

/** JSON with Python's Infinity/NaN literals. */
function parsePythonJson(text: string): SepExpected {
  const marked = text.replace(/-?Infinity|NaN/g, (m) => `"${m}"`);
  return JSON.parse(marked, (_k, v: unknown) => {
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (v === 'NaN') return NaN;
    return v;
  }) as SepExpected;
}

/** mir_eval's test loader: every wav of a folder, sorted, stacked into (nsrc, nsampl). */
export function loadSepCase(id: string): SepCase {
  const load = (dir: string): Float64Array[] => {
    const url = new URL(`${dir}/`, SEP_FIXTURES);
    return readdirSync(url)
      .filter((f) => f.endsWith('.wav'))
      .sort()
      .map((f) => loadWavMono(new URL(f, url)).samples);
  };
  return {
    id,
    ref: load(`ref${id}`),
    est: load(`est${id}`),
    expected: parsePythonJson(readFileSync(new URL(`output${id}.json`, SEP_FIXTURES), 'utf8')),
  };
}

/**
 * mir_eval's `__generate_multichannel`: channel 0 is the signal, channels 1.. are `gain` times it
 * (its `reverse` flag reverses the order of those identical channels, a no-op).
 */
export function multichannel(sources: Float64Array[], nchan: number, gain = 1): SourceImages {
  return sources.map((s) => Array.from({ length: nchan }, (_, c) => (c === 0 ? s : s.map((v) => v * gain))));
}

export function expectCloseDb(got: number[] | number[][], expected: unknown, label: string): void {
  const g = (got as number[][]).flat();
  const e = (expected as number[][]).flat();
  expect(g.length, `${label}: length`).toBe(e.length);
  e.forEach((ev, i) => {
    const gv = g[i];
    if (!Number.isFinite(ev)) expect(gv, `${label}[${i}]`).toBe(ev);
    else expect(Math.abs(gv - ev), `${label}[${i}]: got ${gv}, mir_eval ${ev}`).toBeLessThanOrEqual(SEP_TOL_DB);
  });
}
