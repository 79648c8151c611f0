"""Training batches: random crops of rendered segments, frame labels, and augmentation that mimics
real input (gain, EQ tilt, synthetic-room reverb, noise, other instruments leaking through)."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from .config import HOP_SAMPLES, MIN_MIDI, N_KEYS, SAMPLE_RATE_HZ, SEGMENT_DIR
from .midi_data import TIME_COLUMNS


class Segments:
    def __init__(self, name: str, directory: Path = SEGMENT_DIR):
        z = np.load(directory / f'{name}.npz')
        self.audio = z['audio']
        self.offsets = z['offsets']
        notes = z['notes']
        if notes.shape[1] != 6 or 'pedal' not in z.files:
            raise SystemExit(f'{name}.npz predates key-release labels: re-run python -m training.render')
        seg = notes[:, 0].astype(np.int64)
        self.notes = [notes[seg == i, 1:] for i in range(len(self.offsets) - 1)]
        pedal = z['pedal']
        pseg = pedal[:, 0].astype(np.int64)
        self.pedal = [pedal[pseg == i, 1:] for i in range(len(self.offsets) - 1)]

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def get(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Audio, notes [n, 5] (midi_data.py's columns) and pedal spans [m, 2] of segment i."""
        a = self.audio[self.offsets[i]:self.offsets[i + 1]].astype(np.float32) / 32768.0
        return a, self.notes[i], self.pedal[i]

    def crop(self, i: int, start: int, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, notes, pedal = self.get(i)
        a = a[start:start + n]
        if len(a) < n:
            a = np.pad(a, (0, n - len(a)))
        shift_sec, dur_sec = start / SAMPLE_RATE_HZ, n / SAMPLE_RATE_HZ
        shifted = notes.copy()
        shifted[:, TIME_COLUMNS] -= shift_sec
        keep = (shifted[:, 1] > 0) & (shifted[:, 0] < dur_sec)
        spans = pedal - shift_sec
        spans = spans[(spans[:, 1] > 0) & (spans[:, 0] < dur_sec)]
        return a, shifted[keep], spans


def labels(notes: np.ndarray, pedal: np.ndarray, n_frames: int, hop: int = HOP_SAMPLES,
           sr: int = SAMPLE_RATE_HZ) -> dict[str, np.ndarray]:
    """Frame t covers time t * hop / sr (centred STFT frames). Onset and offset (the key release)
    mark one frame each; `frame` (key down) runs from the onset frame up to, not including, the
    release frame, at least one frame; `sound` runs to the pedal-extended end instead (what the
    acoustic frame posterior can hear); `pedal` [T, 1] marks sustain-pedal-down frames."""
    fps = sr / hop
    out = {k: np.zeros((n_frames, N_KEYS), np.float32) for k in ('onset', 'offset', 'frame', 'sound', 'velocity')}
    for onset, sound_end, pitch, vel, key_end in notes:
        k = int(pitch) - MIN_MIDI
        a = int(round(onset * fps))
        b = max(int(round(key_end * fps)), a + 1)
        c = max(int(round(sound_end * fps)), b)
        if a >= 0 and a < n_frames:
            out['onset'][a, k] = 1.0
            out['velocity'][a, k] = vel / 127.0
        if 0 <= b < n_frames:  # a release before the crop (pedal still sounding) is not in it
            out['offset'][b, k] = 1.0
        out['frame'][max(a, 0):min(b, n_frames), k] = 1.0
        out['sound'][max(a, 0):min(c, n_frames), k] = 1.0
    out['pedal'] = pedal_frames(pedal, n_frames, fps).astype(np.float32)[:, None]
    return out


def pedal_frames(spans: Iterable[Sequence[float]], n_frames: int, fps: float) -> np.ndarray:
    """[n_frames] bool: the frames of pedal spans (downSec, upSec), each rounded to its nearest frame."""
    down = np.zeros(n_frames, bool)
    for a, b in spans:
        down[max(int(round(a * fps)), 0):min(int(round(b * fps)), n_frames)] = True
    return down


class Augmenter:
    def __init__(self, leak: Segments | None, rng: np.random.Generator):
        self.leak, self.rng = leak, rng

    def __call__(self, a: np.ndarray) -> np.ndarray:
        rng = self.rng
        n = len(a)
        rms = float(np.sqrt(np.mean(a ** 2))) + 1e-6
        if self.leak is not None and rng.random() < 0.4:
            j = int(rng.integers(len(self.leak)))
            la = self.leak.get(j)[0]
            s = int(rng.integers(0, max(1, len(la) - n)))
            la = np.pad(la[s:s + n], (0, max(0, n - len(la[s:s + n]))))
            lrms = float(np.sqrt(np.mean(la ** 2))) + 1e-6
            a = a + la * (rms / lrms) * 10 ** (rng.uniform(-30, -12) / 20)
        if rng.random() < 0.5:
            rt60 = rng.uniform(0.2, 1.2)
            t = np.arange(int(rt60 * SAMPLE_RATE_HZ)) / SAMPLE_RATE_HZ
            ir = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60)
            ir[:int(rng.uniform(0.002, 0.02) * SAMPLE_RATE_HZ)] = 0.0  # pre-delay before the first reflection
            ir *= rng.uniform(0.05, 0.5) / (np.sqrt(np.sum(ir ** 2)) + 1e-9)
            ir[0] = 1.0  # direct sound: keeps the labels' timing
            size = 1 << int(np.ceil(np.log2(n + len(ir))))
            a = np.fft.irfft(np.fft.rfft(a, size) * np.fft.rfft(ir, size), size)[:n].astype(np.float32)
        if rng.random() < 0.5:
            noise = rng.standard_normal(n).astype(np.float32)
            if rng.random() < 0.5:  # pinkish: integrate white noise a little
                noise = np.cumsum(noise) * 0.02
                noise -= np.convolve(noise, np.ones(801) / 801, mode='same')
            nrms = float(np.sqrt(np.mean(noise ** 2))) + 1e-9
            a = a + noise * (rms / nrms) * 10 ** (-rng.uniform(20, 50) / 20)
        gain_db = rng.uniform(-30, 0) - 20 * np.log10(float(np.sqrt(np.mean(a ** 2))) + 1e-6) - 20
        return np.clip(a * 10 ** (gain_db / 20), -1, 1).astype(np.float32)


def eq_tilt(mag: torch.Tensor, rng: np.random.Generator, sr: int, n_fft: int) -> torch.Tensor:
    """Random colour per example on the magnitude STFT: a spectral tilt (dB per octave around 1 kHz)
    and up to three broad peaks or dips (+-6 dB, 0.3-1.5 octaves wide) like a microphone, a room or
    another piano's soundboard would add; half of the examples stay as rendered."""
    freqs = torch.arange(mag.shape[-1], dtype=torch.float32) * sr / n_fft
    octaves = torch.log2(torch.clamp(freqs, min=30.0) / 1000.0)
    b = mag.shape[0]
    tilt_db = torch.tensor(rng.uniform(-4.0, 3.0, size=(b, 1, 1)), dtype=torch.float32) * octaves
    centres = torch.tensor(rng.uniform(np.log2(80 / 1000), np.log2(6000 / 1000), size=(b, 3, 1)), dtype=torch.float32)
    widths = torch.tensor(rng.uniform(0.3, 1.5, size=(b, 3, 1)), dtype=torch.float32)
    depth_db = torch.tensor(rng.uniform(-6, 6, size=(b, 3, 1)) * (rng.random(size=(b, 3, 1)) < 0.6), dtype=torch.float32)
    bumps_db = (depth_db * torch.exp(-0.5 * ((octaves - centres) / widths) ** 2)).sum(1, keepdim=True)
    keep = torch.tensor(rng.random(size=(b, 1, 1)) < 0.5)
    gain = torch.where(keep, torch.ones(()), 10 ** ((tilt_db + bumps_db) / 20))
    return mag * gain


def batch(segments: Segments, aug: Augmenter | None, rng: np.random.Generator, batch_size: int, seg_samples: int,
          hop: int = HOP_SAMPLES) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
    audios, notes, pedals = [], [], []
    for _ in range(batch_size):
        i = int(rng.integers(len(segments)))
        length = segments.offsets[i + 1] - segments.offsets[i]
        start = int(rng.integers(0, max(1, (length - seg_samples) // hop))) * hop
        a, n, p = segments.crop(i, start, seg_samples)
        audios.append(aug(a) if aug else a)
        notes.append(n)
        pedals.append(p)
    return np.stack(audios), notes, pedals
