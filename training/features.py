"""Log-mel front end. Defined here once and reproduced exactly in src/transcription/piano.ts
(periodic Hann window, frames centred on t * hop with zero padding, magnitude STFT, Slaney mel
filterbank with Slaney area normalisation, natural log with a floor)."""
from __future__ import annotations

import numpy as np
import torch

from .config import F_MAX_HZ, F_MIN_HZ, HOP_SAMPLES, LOG_FLOOR, N_FFT, N_MELS, SAMPLE_RATE_HZ


def hz_to_mel(f: np.ndarray) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    lin = f / (200.0 / 3)
    log = 15.0 + np.log(np.maximum(f, 1e-10) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, log, lin)


def mel_to_hz(m: np.ndarray) -> np.ndarray:
    m = np.asarray(m, dtype=np.float64)
    lin = m * (200.0 / 3)
    log = 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0))
    return np.where(m >= 15.0, log, lin)


def mel_filterbank(sr: int = SAMPLE_RATE_HZ, n_fft: int = N_FFT, n_mels: int = N_MELS,
                   fmin: float = F_MIN_HZ, fmax: float = F_MAX_HZ) -> np.ndarray:
    """[n_mels, n_fft // 2 + 1] float32 (same as librosa.filters.mel with htk=False, norm='slaney')."""
    fft_hz = np.arange(n_fft // 2 + 1, dtype=np.float64) * sr / n_fft
    pts = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    w = np.zeros((n_mels, len(fft_hz)))
    for i in range(n_mels):
        lower = (fft_hz - pts[i]) / (pts[i + 1] - pts[i])
        upper = (pts[i + 2] - fft_hz) / (pts[i + 2] - pts[i + 1])
        w[i] = np.maximum(0.0, np.minimum(lower, upper)) * (2.0 / (pts[i + 2] - pts[i]))
    return w.astype(np.float32)


class LogMel(torch.nn.Module):
    def __init__(self, sr: int = SAMPLE_RATE_HZ, hop: int = HOP_SAMPLES, n_fft: int = N_FFT, n_mels: int = N_MELS):
        super().__init__()
        self.hop, self.n_fft = hop, n_fft
        self.register_buffer('window', torch.hann_window(n_fft, periodic=True))
        self.register_buffer('fb', torch.from_numpy(mel_filterbank(sr, n_fft, n_mels, F_MIN_HZ, min(F_MAX_HZ, sr / 2))))

    def magnitude(self, audio: torch.Tensor) -> torch.Tensor:
        """[batch, samples] -> [batch, frames, bins] with frames = samples // hop + 1."""
        spec = torch.stft(audio, self.n_fft, self.hop, window=self.window, center=True, pad_mode='constant',
                          return_complex=True)
        return spec.abs().transpose(1, 2)

    def from_magnitude(self, mag: torch.Tensor) -> torch.Tensor:
        return torch.log(torch.clamp(mag @ self.fb.T, min=LOG_FLOOR))

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.from_magnitude(self.magnitude(audio))


def n_frames(n_samples: int, hop: int = HOP_SAMPLES) -> int:
    return n_samples // hop + 1
