/**
 * The project's benchmark: `npm run bench` (full, tens of minutes on 2 cores) or
 * `npm run bench:quick` (a few excerpts, a few minutes).
 *
 * Prints markdown tables and writes `bench/results/<timestamp>.json` with every number and the
 * machine's details (CPU, cores, RAM, Node, git commit), so runs can be compared.
 *
 * Sections (each skips with a message when its data or module is missing):
 *   1. transcription  MAPS ENSTDkCl, real piano recordings: note P/R/F1, frame F1, speed
 *   2. separation     MUSDB18 sample excerpt: SDR per stem per separator
 *   3. e2e            rendered piano + band mixes -> separation -> transcription vs clean piano
 *   4. postprocess    post-processing effects (bench/postprocess.ts)
 *   5. speed          per-stage real-time factor and peak RSS (bench/speed.ts, child processes)
 *
 * Options: --quick            few excerpts
 *          --e2e-mixes N      number of rendered mixes (default 1 quick, 3 full)
 *          --e2e-seconds S    length of each mix (default 15 quick, 20 full)
 *          --e2e-separators a,b   only these separators (e.g. unmix,none)
 *          --e2e-transcribers a,b only these transcribers
 *          --e2e-oracle           also the true piano and its ideal ratio mask as stems (upper bounds)
 *          --e2e-piano k          rendered, recorded or both (default: both; quick: rendered)
 *          --only a,b         run only these sections (names above)
 *          --speed-args "..." arguments for bench/speed.ts (default by mode)
 *          --out FILE         result path (default bench/results/<timestamp>.json)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runE2eSection, type PianoAudio } from './lib/e2e.js';
import { machineInfo, machineLine } from './lib/machine.js';
import { maxRssMB } from './lib/modules.js';
import { runPostprocessSection } from './lib/postprocess.js';
import { runSeparationSection } from './lib/separation.js';
import { runSpeedSection } from './lib/speed.js';
import { runTranscriptionSection } from './lib/transcription.js';

const SECTIONS = ['transcription', 'separation', 'e2e', 'postprocess', 'speed'] as const;
type SectionName = (typeof SECTIONS)[number];

interface Args {
  quick: boolean;
  only: Set<SectionName>;
  speedArgs?: string[];
  out?: string;
  e2eMixes?: number;
  e2eSeconds?: number;
  e2eSeparators?: string[];
  e2eTranscribers?: string[];
  e2ePiano?: PianoAudio[];
  e2eOracle?: boolean;
}

function parseArgs(argv: readonly string[]): Args {
  const args: Args = { quick: false, only: new Set(SECTIONS) };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') args.quick = true;
    else if (a === '--only') {
      const names = (argv[++i] ?? '').split(',').filter(Boolean);
      const bad = names.filter((n) => !(SECTIONS as readonly string[]).includes(n));
      if (bad.length > 0) throw new Error(`Unknown section(s) ${bad.join(', ')}; choose from ${SECTIONS.join(', ')}.`);
      args.only = new Set(names as SectionName[]);
    } else if (a === '--speed-args') args.speedArgs = (argv[++i] ?? '').split(/\s+/).filter(Boolean);
    else if (a === '--out') args.out = argv[++i];
    else if (a === '--e2e-mixes') args.e2eMixes = Number(argv[++i]);
    else if (a === '--e2e-seconds') args.e2eSeconds = Number(argv[++i]);
    else if (a === '--e2e-separators') args.e2eSeparators = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--e2e-oracle') args.e2eOracle = true;
    else if (a === '--e2e-transcribers') args.e2eTranscribers = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (a === '--e2e-piano') {
      const v = argv[++i] ?? '';
      if (v !== 'rendered' && v !== 'recorded' && v !== 'both') throw new Error(`--e2e-piano takes rendered, recorded or both, not "${v}".`);
      args.e2ePiano = v === 'both' ? ['rendered', 'recorded'] : [v];
    }
    else throw new Error(`Unknown option ${a}. Options: --quick, --only ${SECTIONS.join(',')}, --e2e-mixes N, --e2e-seconds S, --e2e-separators a,b, --e2e-transcribers a,b, --e2e-piano rendered|recorded|both, --speed-args "...", --out FILE`);
  }
  return args;
}

const log = (s: string): void => {
  process.stderr.write(`${s}\n`);
};

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const machine = machineInfo();
  const result: Record<string, unknown> = { startedAt: startedAt.toISOString(), quick: args.quick, machine };
  const md: string[] = [`# stemscribe benchmark${args.quick ? ' (quick)' : ''}`, '', `${startedAt.toISOString()}; ${machineLine(machine)}.`];
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const out = args.out ?? join(dirname(fileURLToPath(import.meta.url)), 'results', `${stamp}${args.quick ? '-quick' : ''}.json`);
  mkdirSync(dirname(out), { recursive: true });
  // Written after every section, so a long run that is stopped keeps what it measured.
  const save = (): void => {
    result.markdown = md.join('\n');
    writeFileSync(out, `${JSON.stringify(result, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n`);
  };
  const section = async (name: SectionName, title: string, fn: () => Promise<{ markdown: string }>): Promise<void> => {
    if (!args.only.has(name)) return;
    log(`[${name}]`);
    const t0 = Date.now();
    try {
      const r = await fn();
      const wallSec = (Date.now() - t0) / 1000;
      result[name] = { ...r, wallSec, maxRssMBAfter: maxRssMB() };
      md.push('', `## ${title}`, '', r.markdown);
      log(`[${name}] done in ${wallSec.toFixed(0)} s`);
    } catch (e) {
      const msg = (e as Error).stack ?? String(e);
      result[name] = { error: msg };
      md.push('', `## ${title}`, '', `_Failed: ${(e as Error).message}_`);
      log(`[${name}] failed: ${msg}`);
    }
    save();
    log(`[${name}] results so far in ${out}`);
  };

  await section('transcription', 'Transcription (MAPS ENSTDkCl, real piano)', () => runTranscriptionSection(args.quick, log));
  await section('separation', 'Separation (MUSDB18 sample)', () => runSeparationSection(log));
  await section('e2e', 'End to end (rendered mixes, piano MIDI as ground truth)', () =>
    runE2eSection(args.quick, log, {
      mixes: args.e2eMixes,
      seconds: args.e2eSeconds,
      ...(args.e2eSeparators ? { separators: args.e2eSeparators } : {}),
      ...(args.e2eOracle ? { oracle: true } : {}),
      ...(args.e2eTranscribers ? { transcribers: args.e2eTranscribers } : {}),
      ...(args.e2ePiano ? { pianoAudio: args.e2ePiano } : {}),
    }),
  );
  await section('postprocess', 'Post-processing effects', () => runPostprocessSection(args.quick));
  await section('speed', 'Speed and memory per stage', () => runSpeedSection(args.quick, log, args.speedArgs));

  const totalSec = (Date.now() - startedAt.getTime()) / 1000;
  result.totalSec = totalSec;
  md.push('', `Total ${(totalSec / 60).toFixed(1)} min; this process's peak RSS ${maxRssMB()} MB (all in-process sections together).`);
  save();
  process.stdout.write(`${md.join('\n')}\n\nResults written to ${out}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${(e as Error).message}\n`);
  process.exitCode = 1;
});
