"""Per-note features and targets of the note-level beat model. MUST stay identical to
src/postprocess/noteBeatModel.ts `noteBeatFeatures` (checked by test/postprocess/noteBeatModel.test.ts
through the fixture written by note_export.py).

Notes are ordered by onset, then pitch (`sort_notes`). Per note (NB_NOTE_FEATURES = 95):
  0..87  one-hot pitch, A0 (21) .. C8 (108), clipped into that range
  88     min(dt, 4) / 4, dt = onset - previous onset (0 for the first note), seconds
  89     log(max(dt, 1e-3)) / 4          (resolves the short gaps: chord spread, ornaments)
  90     dt < 35 ms (the note belongs to the previous note's chord)
  91     min(duration, 4) / 4             duration = offset - onset, seconds
  92     log(max(duration, 1e-2)) / 4
  93     velocity / 127
  94     min(dt_next, 4) / 4, dt_next = next onset - onset (0 for the last note)

As PM2S (Liu, Mou, Benetos, "Performance MIDI-to-score conversion by neural beat tracking", ISMIR
2022): the network sees only the note sequence; time enters through the onset differences, so its
input does not depend on the frame rate or the piece's length.
"""
from __future__ import annotations

import numpy as np

# The local-tempo classes (the inter-beat-interval head) are the frame-level model's: log-spaced
# beat rates over ASAP's annotated range.
from .features import tempo_bin_bpm

NB_PITCHES = 88
NB_NOTE_FEATURES = NB_PITCHES + 7
CHORD_GAP_SEC = 0.035
# A note is "on" an annotated beat when its onset is this close to it (ASAP's beat times are note
# onsets of the aligned score notes; 90 % of the beats have an onset within 20 ms).
BEAT_TOLERANCE_SEC = 0.035


def sort_notes(notes: np.ndarray) -> np.ndarray:
    """notes [n, 4] (onset_sec, offset_sec, pitch, velocity) ordered by onset, then pitch."""
    return notes[np.lexsort((notes[:, 2], notes[:, 0]))]


def note_features(notes: np.ndarray) -> np.ndarray:
    """notes [n, 4] (onset_sec, offset_sec, pitch, velocity), sorted -> [n, NB_NOTE_FEATURES] float32."""
    n = len(notes)
    x = np.zeros((n, NB_NOTE_FEATURES), dtype=np.float64)
    if n == 0:
        return x.astype(np.float32)
    on = notes[:, 0]
    pitch = np.clip(notes[:, 2].astype(np.int64), 21, 108)
    x[np.arange(n), pitch - 21] = 1.0
    dt = np.concatenate([[0.0], np.diff(on)])
    dt_next = np.concatenate([np.diff(on), [0.0]])
    dur = np.maximum(notes[:, 1] - on, 0.0)
    x[:, 88] = np.minimum(dt, 4.0) / 4.0
    x[:, 89] = np.log(np.maximum(dt, 1e-3)) / 4.0
    x[:, 90] = dt < CHORD_GAP_SEC
    x[:, 91] = np.minimum(dur, 4.0) / 4.0
    x[:, 92] = np.log(np.maximum(dur, 1e-2)) / 4.0
    x[:, 93] = notes[:, 3] / 127.0
    x[:, 94] = np.minimum(dt_next, 4.0) / 4.0
    return x.astype(np.float32)


def _near(onsets: np.ndarray, times: np.ndarray, tol: float) -> np.ndarray:
    """[n] bool: onset within tol seconds of one of `times` (sorted)."""
    if len(times) == 0:
        return np.zeros(len(onsets), dtype=bool)
    idx = np.searchsorted(times, onsets)
    lo = times[np.clip(idx - 1, 0, len(times) - 1)]
    hi = times[np.clip(idx, 0, len(times) - 1)]
    return np.minimum(np.abs(onsets - lo), np.abs(onsets - hi)) <= tol


def note_targets(onsets: np.ndarray, beats: np.ndarray, downbeats: np.ndarray) -> np.ndarray:
    """[n, 2] float32: is the note on a beat, on a downbeat (within BEAT_TOLERANCE_SEC)."""
    y = np.zeros((len(onsets), 2), dtype=np.float32)
    y[:, 0] = _near(onsets, np.sort(beats), BEAT_TOLERANCE_SEC)
    y[:, 1] = _near(onsets, np.sort(downbeats), BEAT_TOLERANCE_SEC)
    return y


def note_tempo_targets(onsets: np.ndarray, beats: np.ndarray, half_window: int = 2) -> np.ndarray:
    """[n] int64 local-tempo class per note (-1 outside the annotated beats): the median of the
    2 * half_window + 1 inter-beat intervals around the interval the onset falls in."""
    y = np.full(len(onsets), -1, dtype=np.int64)
    beats = np.sort(np.asarray(beats, dtype=np.float64))
    if len(beats) < 3:
        return y
    ibi = np.diff(beats)
    local = np.array([np.median(ibi[max(0, i - half_window): i + half_window + 1]) for i in range(len(ibi))])
    cls = np.argmin(np.abs(np.log(tempo_bin_bpm())[None] - np.log(60.0 / np.maximum(local, 1e-3))[:, None]), axis=1)
    # Onsets just before a beat (within the tolerance) belong to the interval that the beat starts.
    i = np.searchsorted(beats, onsets + BEAT_TOLERANCE_SEC, side="right") - 1
    inside = (i >= 0) & (i < len(ibi))
    y[inside] = cls[i[inside]]
    return y
