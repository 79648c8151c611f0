"""The `piano-ensemble` transcriber's fusion: our piano model's posteriors averaged with basic-pitch's.

Why: the two models err differently. Ours is trained on rendered pianos only and is precise but
misses notes on real recordings (MAPS: P 0.83, R 0.59); basic-pitch learned from real recordings of
many instruments and finds more notes but also more wrong ones (P 0.74, R 0.69). Averaging their
onset and frame posteriors before decoding keeps what both agree on. Mirrors
src/transcription/ensemble.ts (tested against the fixture that training/export.py writes).

basic-pitch's frames are centred at j * 256 / 22050 s, ours at t * 0.02 s: each basic-pitch frame
goes to the nearest of our frames, and a frame that receives several keeps their maximum (an onset
peak must not be averaged away by its neighbours).
"""
from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np

from .config import MODELS_DIR, REPO_ROOT, SAMPLE_RATE_HZ

BASIC_PITCH_ONNX = REPO_ROOT / 'models' / 'basic-pitch' / 'basic-pitch.onnx'
BP_SAMPLE_RATE_HZ = 22050
BP_HOP_SAMPLES = 256
BP_WINDOW_SAMPLES = 43844
BP_FRAMES_PER_WINDOW = 172
BP_HALF_OVERLAP_FRAMES = 15
BP_KEPT_FRAMES = BP_FRAMES_PER_WINDOW - 2 * BP_HALF_OVERLAP_FRAMES


class BasicPitchPosteriors:
    """basic-pitch's onset and note posteriors, unwrapped as src/transcription/basicPitch.ts does
    (15 frames of zeros first, windows advanced by the 142 kept frames)."""

    def __init__(self, path: Path = BASIC_PITCH_ONNX, threads: int = 1):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), opts, providers=['CPUExecutionProvider'])

    def __call__(self, audio: np.ndarray, sr: int = SAMPLE_RATE_HZ) -> tuple[np.ndarray, np.ndarray]:
        """Mono audio at `sr` -> (onset, note) [frames, 88] at 22,050 / 256 frames per second."""
        from scipy.signal import resample_poly
        g = gcd(BP_SAMPLE_RATE_HZ, sr)
        x = resample_poly(audio, BP_SAMPLE_RATE_HZ // g, sr // g).astype(np.float32) if sr != BP_SAMPLE_RATE_HZ else audio
        n_frames = int(np.ceil(len(x) / BP_HOP_SAMPLES))
        x = np.concatenate([np.zeros(BP_HALF_OVERLAP_FRAMES * BP_HOP_SAMPLES, np.float32), x])
        onsets, notes = [], []
        for start in range(0, n_frames * BP_HOP_SAMPLES, BP_KEPT_FRAMES * BP_HOP_SAMPLES):
            w = x[start:start + BP_WINDOW_SAMPLES]
            w = np.pad(w, (0, BP_WINDOW_SAMPLES - len(w)))
            onset, note = self.session.run(['onset', 'note'], {'input_2': w[None, :, None]})
            keep = slice(BP_HALF_OVERLAP_FRAMES, BP_HALF_OVERLAP_FRAMES + BP_KEPT_FRAMES)
            onsets.append(onset[0, keep])
            notes.append(note[0, keep])
        return np.concatenate(onsets)[:n_frames], np.concatenate(notes)[:n_frames]


def to_our_frames(bp: np.ndarray, n_frames: int, frame_sec: float) -> np.ndarray:
    """[bp_frames, 88] -> [n_frames, 88]: each basic-pitch frame to the nearest of our frames, max
    where several meet; frames that receive none stay 0 (cannot happen: basic-pitch's frames are denser)."""
    idx = np.rint(np.arange(len(bp)) * (BP_HOP_SAMPLES / BP_SAMPLE_RATE_HZ) / frame_sec).astype(np.int64)
    keep = idx < n_frames
    out = np.zeros((n_frames, bp.shape[1]), np.float32)
    np.maximum.at(out, idx[keep], bp[keep])
    return out


def fuse(ours: dict[str, np.ndarray], bp_onset: np.ndarray, bp_note: np.ndarray, onset_weight: float,
         frame_weight: float, frame_sec: float) -> dict[str, np.ndarray]:
    """Our posteriors with onset and frame replaced by weighted means with basic-pitch's
    (`*_weight` is ours: 1 keeps ours alone); offset, velocity and pedal stay ours."""
    n = len(ours['onset'])
    out = dict(ours)
    out['onset'] = (onset_weight * ours['onset'] + (1 - onset_weight) * to_our_frames(bp_onset, n, frame_sec)).astype(np.float32)
    out['frame'] = (frame_weight * ours['frame'] + (1 - frame_weight) * to_our_frames(bp_note, n, frame_sec)).astype(np.float32)
    return out


def fuse_config(ours: dict[str, np.ndarray], bp_onset: np.ndarray, bp_note: np.ndarray, cfg: dict, frame_sec: float,
                model_dir: Path | None = None) -> dict[str, np.ndarray]:
    """`fuse` with a manifest's fusion settings (`onsetWeight`, `frameWeight`, optional `onsetHead`,
    a file in `model_dir`): with a head, the onset posterior is the head's (onset_head.py), as
    src/transcription/ensemble.ts `fuseWithOnsetHead` does."""
    out = fuse(ours, bp_onset, bp_note, cfg['onsetWeight'], cfg['frameWeight'], frame_sec)
    if cfg.get('onsetHead'):
        from .onset_head import OnsetHeadRunner, stack_inputs
        out['onset'] = OnsetHeadRunner.cached((model_dir or MODELS_DIR) / cfg['onsetHead'])(stack_inputs(ours, bp_onset, bp_note))
    return out
