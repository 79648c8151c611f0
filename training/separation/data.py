"""Rendered multitrack songs (training/separation/render.ts) and open-unmix-style augmentation:
random gains per stem, random channel swaps, stems drawn from different songs, random mix level,
and `piano` stems swapped for the piano model's solo renders (PianoBank)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

from .config import DATA_DIR, REPO_ROOT, TARGETS

# The piano model's training renders (python -m training.render): 16 kHz mono int16, 20 s segments.
PIANO_SEGMENTS = REPO_ROOT / 'training' / 'data' / 'segments' / 'train.npz'
PIANO_SEGMENTS_RATE_HZ = 16000


@dataclass
class Song:
    name: str
    samples: int
    sample_rate_hz: int
    scale: float
    pcm: np.ndarray  # int16 memmap [targets, channels, samples]
    meta: dict

    def read(self, start: int, length: int, target: int | None = None) -> np.ndarray:
        """float32 [targets, 2, length] (or [2, length] for one target)."""
        sl = self.pcm[:, :, start:start + length] if target is None else self.pcm[target, :, start:start + length]
        return sl.astype(np.float32) * np.float32(self.scale)


def load_split(split: str, sample_rate_hz: int, data_dir: Path = DATA_DIR) -> list[Song]:
    indexes = sorted((data_dir / split).glob('index*.jsonl'))  # index.jsonl, or index-<shard>.jsonl
    if not indexes:
        raise FileNotFoundError(f'{data_dir / split}/index.jsonl is missing: render the songs first (node_modules/.bin/tsx training/separation/render.ts)')
    songs = []
    lines = sorted((ln for ix in indexes for ln in ix.read_text().splitlines() if ln.strip()), key=lambda ln: json.loads(ln)['name'])
    for line in lines:
        if not line.strip():
            continue
        e = json.loads(line)
        if e['sampleRateHz'] != sample_rate_hz:
            raise ValueError(f"{e['name']} is at {e['sampleRateHz']} Hz, the config wants {sample_rate_hz} Hz: "
                             f"render with --train-rate-hz {sample_rate_hz} into another --out folder")
        stems = tuple(e.get('stems', ('vocals', 'drums', 'bass', 'other')))
        if stems != TARGETS:
            raise ValueError(f"{e['name']} stores stems {stems}, the model wants {TARGETS}: re-render the songs "
                             f"(RENDER_FRESH=1 node_modules/.bin/tsx training/separation/render.ts ...)")
        pcm = np.memmap(data_dir / split / f"{e['name']}.s16", dtype=np.int16, mode='r').reshape(len(TARGETS), 2, e['samples'])
        songs.append(Song(e['name'], e['samples'], e['sampleRateHz'], e['scale'], pcm, e))
    return songs


def rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(x.astype(np.float64) ** 2) + 1e-12))


class PianoBank:
    """Solo piano performances from the piano model's renders (ASAP MIDI through its 13 timbres:
    Salamander's sampled grand, SoundFont grands, additive pianos with inharmonicity; never MAPS or
    piano-midi.de) to use as `piano` stems. Why: the songs' own pianos are GM SoundFont patches,
    and a separator that knows only those leaves much of a real piano in `other` (models/unmix
    MODEL_CARD.md). The renders are mono at 16 kHz: resampled, and panned by a random few dB."""

    def __init__(self, sample_rate_hz: int, path: Path = PIANO_SEGMENTS):
        if not path.exists():
            raise FileNotFoundError(f'{path} is missing: render the piano segments first (python -m training.render)')
        z = np.load(path)
        self.audio, self.offsets = z['audio'], z['offsets']
        g = gcd(sample_rate_hz, PIANO_SEGMENTS_RATE_HZ)
        self.up, self.down = sample_rate_hz // g, PIANO_SEGMENTS_RATE_HZ // g

    def read(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """float32 [2, n] at the songs' rate (silence-padded if a segment is shorter)."""
        from scipy.signal import resample_poly
        need = -(-n * self.down // self.up) + 32
        i = int(rng.integers(len(self.offsets) - 1))
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        start = a + int(rng.integers(max(1, b - a - need)))
        x = self.audio[start:min(start + need, b)].astype(np.float32) / 32768.0
        y = resample_poly(x, self.up, self.down).astype(np.float32)[:n]
        y = np.pad(y, (0, n - len(y)))
        pan_db = rng.uniform(-3, 3)
        return np.stack([y * np.float32(10 ** (-pan_db / 40)), y * np.float32(10 ** (pan_db / 40))])


class Augmented:
    """Draws [batch, targets, 2, samples] training examples whose sum over targets is the mix."""

    def __init__(self, songs: list[Song], segment_samples: int, p_random_mix: float,
                 piano_bank: PianoBank | None = None, p_piano_bank: float = 0.0):
        self.songs = [s for s in songs if s.samples > segment_samples]
        self.n = segment_samples
        self.p_random_mix = p_random_mix
        self.piano_bank = piano_bank
        self.p_piano_bank = p_piano_bank if piano_bank is not None else 0.0

    def example(self, rng: np.random.Generator) -> np.ndarray:
        base = self.songs[rng.integers(len(self.songs))]
        base_start = int(rng.integers(base.samples - self.n))
        out = np.empty((len(TARGETS), 2, self.n), np.float32)
        for j in range(len(TARGETS)):
            song, start = base, base_start
            if rng.random() < self.p_random_mix:
                song = self.songs[rng.integers(len(self.songs))]
                start = int(rng.integers(song.samples - self.n))
            x = song.read(start, self.n, j)
            # Stems are rendered at their GM levels; spread them so no stem is always loud or quiet.
            x *= np.float32(10 ** (rng.uniform(-9, 3) / 20))
            if rng.random() < 0.5:
                x = x[::-1]
            out[j] = x
        piano = TARGETS.index('piano')
        if rng.random() < self.p_piano_bank:
            # A solo piano performance, -6..+6 dB against the rest of the band.
            x = self.piano_bank.read(rng, self.n)
            band = rms_db(np.delete(out, piano, axis=0).sum(0))
            level = rms_db(x)
            if level > -100 and band > -100:
                x *= np.float32(10 ** ((band + rng.uniform(-6, 6) - level) / 20))
            out[piano] = x
        # Mix level between -30 and -10 dBFS RMS (rendered songs sit near -25, mastered songs near -12).
        level = rms_db(out.sum(0))
        if level > -100:
            out *= np.float32(10 ** ((rng.uniform(-30, -10) - level) / 20))
        return out

    def batch(self, rng: np.random.Generator, size: int) -> np.ndarray:
        return np.stack([self.example(rng) for _ in range(size)])


def fixed_segments(songs: list[Song], segment_samples: int, per_song: int = 2) -> np.ndarray:
    """Unaugmented validation segments (each song's own stems), [n, targets, 2, samples]."""
    out = []
    for s in songs:
        for k in range(per_song):
            start = (s.samples - segment_samples) * (k + 1) // (per_song + 1)
            out.append(s.read(start, segment_samples))
    return np.stack(out)
