"""A small sampler: renders a (pedal-extended) note list with one bank's samples.

Per note: nearest bank pitch (and nearest velocity layer), resampled to the exact pitch (plus a
per-render detune), gain from the velocity, a darker tone for soft notes of single-layer banks, and a
damper release after the note's (pedal-extended) end. Runs in numpy at roughly 100x real time.
"""
from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from .config import SAMPLE_RATE_HZ


class Sampler:
    def __init__(self, bank: dict, damper_scale: float = 1.0):
        self.damper_scale = damper_scale  # x the release time constants below (render.py --damper-scale)
        self.audio: np.ndarray = bank['audio']
        self.samples = bank['samples']
        self.pitches = np.array([s['pitch'] for s in self.samples])
        self.velocities = np.array([s['velocity'] for s in self.samples])
        self.layers = sorted(set(self.velocities.tolist()))
        self.single_layer = len(self.layers) == 1

    def _pick(self, pitch: float, velocity: float, instrument: int | None) -> dict:
        d = np.abs(self.pitches - pitch) * 1000.0
        if instrument is not None:
            d = d + np.where(self.velocities == instrument, 0.0, 1e9)
        else:
            d = d + np.abs(self.velocities - velocity)
        return self.samples[int(np.argmin(d))]

    def render(self, notes: np.ndarray, dur_sec: float, rng: np.random.Generator, detune_cents: float = 0.0,
               instrument: int | None = None) -> np.ndarray:
        sr = SAMPLE_RATE_HZ
        out = np.zeros(int(dur_sec * sr) + 1, dtype=np.float32)
        for onset, offset, pitch, velocity in notes:
            s = self._pick(pitch, velocity, instrument)
            ratio = 2.0 ** ((pitch - s['pitch']) / 12.0 + detune_cents / 1200.0)
            # Damper: exponential release after the end, faster for low notes' heavy dampers.
            release_sec = float(np.interp(pitch, [21, 60, 108], [0.12, 0.2, 0.35])) * rng.uniform(0.7, 1.3) * self.damper_scale
            n_out = int(min((offset - onset) + 4 * release_sec, s['length'] / ratio / sr) * sr)
            start = int(round(onset * sr))
            n_out = min(n_out, len(out) - start)
            if n_out <= 0:
                continue
            pos = np.arange(n_out, dtype=np.float64) * ratio
            src = self.audio[s['start']:s['start'] + s['length']]
            wave = np.interp(pos, np.arange(len(src)), src).astype(np.float32)
            if instrument is None:
                gain = (velocity / s['velocity']) ** (1.6 if self.single_layer else 1.0)
                if self.single_layer and velocity < 100:
                    # One recorded layer: soft hammer strikes sound darker, so low-pass them.
                    cutoff = np.interp(velocity, [10, 100], [0.08, 0.6])
                    wave = lfilter([cutoff], [1, cutoff - 1], wave).astype(np.float32)
            else:
                gain = velocity / 100.0
            end = int((offset - onset) * sr)
            if end < n_out:
                t = np.arange(n_out - end, dtype=np.float32) / sr
                wave[end:] *= np.exp(-t / release_sec)
            # 2 ms attack ramp avoids clicks from resampling the sample start.
            a = min(32, n_out)
            wave[:a] *= np.linspace(0, 1, a, dtype=np.float32)
            out[start:start + n_out] += gain * wave
        return out
