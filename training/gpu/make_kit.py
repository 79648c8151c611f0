"""Builds training/data/gpu-kit/ (ignored by git): what training/gpu/run.sh needs on the GPU machine
and cannot make there, small enough to travel. The device tool carries 64 MiB in all: the tracked
files take ~16 MB, the kit ~37 MB, and a 10 MB checkpoint to resume from must fit beside them.

    python -m training.gpu.make_kit        # ~11 min on one core; needs training/data/bank, ../shared/data, PyPI

bank/         the sampled banks the renders use (7 training timbres, MuseScore for validation, the other
              instruments for leak) as Ogg Vorbis instead of 16-bit FLAC, a quarter of the size. Cost:
              a lossy copy, sample-exact in length and timing (the JSON indices stay valid) but about
              25 dB waveform SNR; rendered through the sampler, the log-mel bins within 60 dB of the
              peak move by 0.7-0.8 dB on average (0.5 at --vorbis-level 0.5, 5 MB more), small beside
              the training's EQ augmentation (+-6 dB bumps, up to 4 dB/octave tilt). The GPU run trains
              and validates on these slightly different timbres; the exported model is re-tuned back
              here on the FLAC renders. The six additive banks are not in it: run.sh bakes them there
              with the same seeded numpy code (python -m training.bank --only additiveN).
asap.tar.xz   ASAP's performances (1,031 of training works, 36 of the held-out works that
              render.py's is_val_work picks for validation), each MIDI file stripped of what
              training.midi_data.load_midi never reads (pedal values that cross no threshold, other
              controllers, sysex, text; note-offs written as velocity-0 note-ons) and checked to load
              to the same notes and pedal spans: 46 MB of MIDI, 27 MB as a plain tar.xz, 17 MB stripped.
wheels/       the packages the GPU image lacks (soundfile and cffi, mido, pretty_midi without its 6 MB
              sound font, importlib_resources, mir_eval, decorator, pycparser), for CPython 3.12 on
              x86-64, at the versions of training/.venv.
"""
from __future__ import annotations

import argparse
import io
import lzma
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from importlib.metadata import version
from pathlib import Path

import mido
import numpy as np
import soundfile as sf

from ..bank import BANK_DIR
from ..config import DATA_DIR, REPO_ROOT, SAMPLE_RATE_HZ, SHARED_DATA
from ..midi_data import load_midi
from ..render import TRAIN_BANKS, VAL_BANKS, is_val_work

KIT_DIR = DATA_DIR / 'gpu-kit'
SAMPLED_BANKS = [b for b in [*TRAIN_BANKS, *VAL_BANKS, 'other'] if not b.startswith('additive')]
WHEELS = ['soundfile', 'cffi', 'pycparser', 'mido', 'pretty_midi', 'importlib_resources', 'mir_eval', 'decorator']
PLATFORMS = ['manylinux_2_28_x86_64', 'manylinux_2_27_x86_64', 'manylinux_2_17_x86_64', 'manylinux2014_x86_64']
DEVICE_LIMIT_MIB = 64
CHECKPOINT_MB = 10.3  # training/runs/<run>/last.pt of the small config, with Adam's moments


def write_vorbis(path: Path, audio: np.ndarray, level: float) -> None:
    # In blocks: one sf.write of a whole bank (12M samples) crashed libsndfile 1.2.2's Vorbis encoder.
    with sf.SoundFile(path, 'w', SAMPLE_RATE_HZ, 1, format='OGG', subtype='VORBIS', compression_level=level) as f:
        for i in range(0, len(audio), 1 << 16):
            f.write(audio[i:i + (1 << 16)])


def pack_banks(out: Path, level: float) -> None:
    out.mkdir(parents=True)
    for name in SAMPLED_BANKS:
        audio, sr = sf.read(BANK_DIR / f'{name}.flac', dtype='float32')
        assert sr == SAMPLE_RATE_HZ, sr
        write_vorbis(out / f'{name}.ogg', audio, level)
        back, _ = sf.read(out / f'{name}.ogg', dtype='float32')
        # The JSON index addresses samples by position: the copy must decode to the same length.
        assert len(back) == len(audio), (name, len(back), len(audio))
        err = back - audio
        snr = 10 * np.log10(float(np.sum(audio ** 2)) / max(float(np.sum(err ** 2)), 1e-12))
        shutil.copy(BANK_DIR / f'{name}.json', out / f'{name}.json')
        print(f'  {name}: {(BANK_DIR / f"{name}.flac").stat().st_size / 1e6:.1f} MB FLAC -> '
              f'{(out / f"{name}.ogg").stat().st_size / 1e6:.1f} MB Vorbis, {snr:.1f} dB SNR', flush=True)


def _last_control_change(midi: mido.MidiFile) -> tuple[int, int, int] | None:
    """(tick, track, index) of the file's last controller event: pretty_midi's end time, which closes a
    pedal still down at the end, counts controller events too."""
    last = None
    for ti, track in enumerate(midi.tracks):
        tick = 0
        for i, msg in enumerate(track):
            tick += msg.time
            if msg.type == 'control_change' and (last is None or tick >= last[0]):
                last = (tick, ti, i)
    return last


def strip_midi(path: Path) -> bytes:
    """The file with only what load_midi reads: notes (note-offs as velocity-0 note-ons, so running
    status covers them), program changes, pitch bends, tempo and other structural meta events, the
    sustain-pedal events that cross load_midi's threshold (64), and the last controller event."""
    midi = mido.MidiFile(path)
    last_cc = _last_control_change(midi)
    out = mido.MidiFile(type=midi.type, ticks_per_beat=midi.ticks_per_beat)
    drop_meta = {'text', 'copyright', 'lyrics', 'marker', 'cue_marker', 'track_name', 'instrument_name',
                 'sequencer_specific'}
    for ti, track in enumerate(midi.tracks):
        kept = mido.MidiTrack()
        out.tracks.append(kept)
        tick = last_tick = 0
        pedal_down: dict[int, bool] = {}
        for i, msg in enumerate(track):
            tick += msg.time
            if msg.is_meta:
                keep = msg.type not in drop_meta
            elif msg.type == 'control_change':
                keep = (tick, ti, i) == last_cc
                if msg.control == 64 and (msg.value >= 64) != pedal_down.get(msg.channel, False):
                    pedal_down[msg.channel] = msg.value >= 64
                    keep = True
            else:
                keep = msg.type in ('note_on', 'note_off', 'program_change', 'pitchwheel')
            if not keep:
                continue
            if msg.type == 'note_off':
                msg = mido.Message('note_on', channel=msg.channel, note=msg.note, velocity=0)
            kept.append(msg.copy(time=tick - last_tick))
            last_tick = tick
    buf = io.BytesIO()
    out.save(file=buf)
    return buf.getvalue()


def _same_load(a: Path, b: Path) -> bool:
    (na, sa), (nb, sb) = load_midi(str(a)), load_midi(str(b))
    return np.array_equal(na, nb) and sa == sb


def pack_asap(out: Path, tmp: Path) -> None:
    """All of ASAP's performances: render.py's is_val_work splits them there as here (the held-out
    works make the validation split's ASAP excerpts)."""
    asap = SHARED_DATA / 'midi' / 'asap'
    files = sorted(asap.rglob('*.mid'))
    raw = kept_whole = 0
    with tarfile.open(out, 'w:xz', preset=9 | lzma.PRESET_EXTREME, format=tarfile.PAX_FORMAT) as tar:
        for f in files:
            data = strip_midi(f)
            stripped = tmp / 'stripped.mid'
            stripped.write_bytes(data)
            if not _same_load(f, stripped):
                data, kept_whole = f.read_bytes(), kept_whole + 1  # safe side: the file as it is
            raw += f.stat().st_size
            info = tarfile.TarInfo(str(f.relative_to(SHARED_DATA)))  # midi/asap/...: as render.py names sources
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    n_val = sum(is_val_work(f, asap) for f in files)
    print(f'  {len(files) - n_val} training and {n_val} held-out performances, {raw / 1e6:.1f} MB of MIDI -> '
          f'{out.stat().st_size / 1e6:.1f} MB ({kept_whole} kept whole: stripping changed what they load to)', flush=True)


def _without_sound_font(wheel: Path) -> None:
    """pretty_midi's wheel is 5.6 MB, nearly all TimGM6mb.sf2 for its own synthesizer, which we never use."""
    src = zipfile.ZipFile(io.BytesIO(wheel.read_bytes()))
    with zipfile.ZipFile(wheel, 'w', zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename.endswith('.sf2'):
                continue
            data = src.read(item)
            if item.filename.endswith('.dist-info/RECORD'):
                data = b''.join(line for line in data.splitlines(keepends=True) if b'.sf2,' not in line)
            dst.writestr(item, data)


def fetch_wheels(out: Path) -> None:
    pins = [f'{name}=={version(name)}' for name in WHEELS]
    subprocess.run([sys.executable, '-m', 'pip', 'download', '-q', '--no-deps', '--only-binary=:all:',
                    '--python-version', '3.12', '--implementation', 'cp', *[a for p in PLATFORMS for a in ('--platform', p)],
                    '-d', str(out), *pins], check=True)
    for wheel in out.glob('pretty_midi-*.whl'):
        _without_sound_font(wheel)
    for wheel in sorted(out.iterdir()):
        print(f'  {wheel.name}: {wheel.stat().st_size / 1e6:.2f} MB')


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob('*') if f.is_file()) if path.is_dir() else path.stat().st_size


def travelling_bytes() -> int:
    """Tracked and untracked-not-ignored files: what the device tool sends besides the carried paths."""
    out = subprocess.run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard'], cwd=REPO_ROOT,
                         check=True, capture_output=True).stdout
    return sum((REPO_ROOT / p).stat().st_size for p in out.decode().split('\0') if p and (REPO_ROOT / p).is_file())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--vorbis-level', type=float, default=0.7,
                    help='libsndfile compression level, 0 (best quality) to 1 (smallest): 0.7 is ~1/4 of the FLAC')
    ap.add_argument('--max-mb', type=float, default=55.0, help='fail if the kit comes out larger')
    args = ap.parse_args()
    KIT_DIR.mkdir(parents=True, exist_ok=True)
    for part in ('bank', 'wheels', 'asap.tar.xz'):  # a last.pt put there to resume from stays
        if (KIT_DIR / part).is_dir():
            shutil.rmtree(KIT_DIR / part)
        (KIT_DIR / part).unlink(missing_ok=True)
    print('banks', flush=True)
    pack_banks(KIT_DIR / 'bank', args.vorbis_level)
    print('ASAP', flush=True)
    with tempfile.TemporaryDirectory() as d:
        pack_asap(KIT_DIR / 'asap.tar.xz', Path(d))
    print('wheels', flush=True)
    fetch_wheels(KIT_DIR / 'wheels')
    kit = _size(KIT_DIR) / 1e6
    tree = travelling_bytes() / 1e6
    total_mib = (kit + tree) * 1e6 / 2 ** 20
    with_checkpoint = total_mib + (0 if (KIT_DIR / 'last.pt').exists() else CHECKPOINT_MB * 1e6 / 2 ** 20)
    print(f'{KIT_DIR.relative_to(REPO_ROOT)}: {kit:.1f} MB; with the working tree ({tree:.1f} MB) '
          f'{total_mib:.1f} of the device tool\'s {DEVICE_LIMIT_MIB} MiB, {with_checkpoint:.1f} with a checkpoint to resume from')
    if with_checkpoint > DEVICE_LIMIT_MIB:
        print(f'warning: over {DEVICE_LIMIT_MIB} MiB with a checkpoint: a resumed run would not travel')
    if kit > args.max_mb:
        raise SystemExit(f'kit is {kit:.1f} MB, over --max-mb {args.max_mb}')


if __name__ == '__main__':
    main()
