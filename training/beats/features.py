"""Frame features of a note list for the beat model. MUST stay identical to
src/postprocess/beatModel.ts `beatFeatures` (checked by test/postprocess/beatModel.test.ts through the
fixture written by export.py).

Frames at FPS per second; frame(t) = floor(t * FPS + 0.5). nb_frames = frame(last onset) + 1 + FPS.
Per frame (NB_FEATURES = 26), over the notes whose onset falls in the frame:
  0  log1p(number of onsets)            1  max velocity / 127
  2  log1p(sum of velocity / 127)       3..10  max velocity / 127 per register band of 11 keys from A0
  11 max (108 - pitch) / 87 clipped to [0, 1] (the lowest onset: bass marks beats)
  12 max log1p(min(duration, 4 s))      13 log1p(number of notes sounding, onset..offset frame)
  14..25 max velocity / 127 per pitch class (harmony changes mark bar lines)
"""
from __future__ import annotations

import numpy as np

FPS = 50
NB_FEATURES = 26
# Local-tempo classes of the auxiliary head: log-spaced beat rates (ASAP's annotated beats run from
# about 22 to 330 BPM, since they follow the notated beat).
TEMPO_MIN_BPM = 20.0
TEMPO_MAX_BPM = 340.0
TEMPO_BINS = 64


def tempo_bin_bpm() -> np.ndarray:
    """Centre BPM of each tempo class."""
    return TEMPO_MIN_BPM * (TEMPO_MAX_BPM / TEMPO_MIN_BPM) ** (np.arange(TEMPO_BINS) / (TEMPO_BINS - 1))


def frame_of(t: np.ndarray) -> np.ndarray:
    return np.floor(np.maximum(t, 0.0) * FPS + 0.5).astype(np.int64)


def nb_frames_for(notes: np.ndarray) -> int:
    last = float(notes[:, 0].max()) if len(notes) else 0.0
    return int(frame_of(np.array([last]))[0]) + 1 + FPS


def beat_features(notes: np.ndarray, nb_frames: int | None = None) -> np.ndarray:
    """notes [n, 4] (onset_sec, offset_sec, pitch, velocity) -> [nb_frames, NB_FEATURES] float32."""
    if nb_frames is None:
        nb_frames = nb_frames_for(notes)
    x = np.zeros((nb_frames, NB_FEATURES), dtype=np.float64)
    if len(notes) == 0:
        return x.astype(np.float32)
    on = notes[:, 0]
    off = notes[:, 1]
    pitch = np.clip(notes[:, 2].astype(np.int64), 21, 108)
    vel = notes[:, 3] / 127.0
    f = frame_of(on)
    keep = f < nb_frames
    f, on, off, pitch, vel = f[keep], on[keep], off[keep], pitch[keep], vel[keep]
    np.add.at(x[:, 0], f, 1.0)
    np.maximum.at(x[:, 1], f, vel)
    np.add.at(x[:, 2], f, vel)
    band = np.minimum((pitch - 21) // 11, 7)
    np.maximum.at(x, (f, 3 + band), vel)
    np.maximum.at(x[:, 11], f, np.clip((108 - pitch) / 87.0, 0.0, 1.0))
    np.maximum.at(x[:, 12], f, np.log1p(np.clip(off - on, 0.0, 4.0)))
    f_off = np.minimum(np.maximum(frame_of(off), f + 1), nb_frames)
    diff = np.zeros(nb_frames + 1)
    np.add.at(diff, f, 1.0)
    np.add.at(diff, f_off, -1.0)
    x[:, 13] = np.cumsum(diff)[:nb_frames]
    np.maximum.at(x, (f, 14 + pitch % 12), vel)
    x[:, 0] = np.log1p(x[:, 0])
    x[:, 2] = np.log1p(x[:, 2])
    x[:, 13] = np.log1p(x[:, 13])
    return x.astype(np.float32)


def targets(beats: np.ndarray, downbeats: np.ndarray, nb_frames: int) -> np.ndarray:
    """[nb_frames, 2] soft targets: 1 at the annotated frame, 0.5 on its two neighbours (Böck 2019)."""
    y = np.zeros((nb_frames, 2), dtype=np.float32)
    for k, times in enumerate((beats, downbeats)):
        fr = frame_of(np.asarray(times, dtype=np.float64))
        fr = fr[(fr >= 0) & (fr < nb_frames)]
        for d in (-1, 1):
            g = fr + d
            g = g[(g >= 0) & (g < nb_frames)]
            y[g, k] = np.maximum(y[g, k], 0.5)
        y[fr, k] = 1.0
    return y


def tempo_targets(beats: np.ndarray, nb_frames: int, half_window: int = 2) -> np.ndarray:
    """[nb_frames] int64 local-tempo class per frame (-1 outside the annotated beats): the median
    inter-beat interval over the 2 * half_window + 1 intervals around the frame's interval."""
    y = np.full(nb_frames, -1, dtype=np.int64)
    beats = np.asarray(beats, dtype=np.float64)
    if len(beats) < 3:
        return y
    ibi = np.diff(beats)
    n = len(ibi)
    bpm_bins = tempo_bin_bpm()
    fr = frame_of(beats)
    for i in range(n):
        local = np.median(ibi[max(0, i - half_window): i + half_window + 1])
        bpm = 60.0 / max(local, 1e-3)
        k = int(np.argmin(np.abs(np.log(bpm_bins) - np.log(bpm))))
        a, b = max(0, fr[i]), min(nb_frames, fr[i + 1])
        if b > a:
            y[a:b] = k
    return y
