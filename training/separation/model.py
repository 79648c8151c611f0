"""Open-unmix (Stöter et al., JOSS 2019; github.com/sigsep/open-unmix-pytorch, MIT) as one joint
network with one output per target (vocals, drums, bass, other, piano): magnitude spectrogram -> dense encoder -> 3-layer BiLSTM (with skip)
-> dense decoder -> a non-negative mask per target and channel, times the mix magnitude.

The STFT stays outside the exported graph (src/separation/unmix.ts computes it, as `stft` here).
"""
from __future__ import annotations

import torch
from torch import nn

from .config import TARGETS, SepConfig


def stft(audio: torch.Tensor, cfg: SepConfig) -> torch.Tensor:
    """[..., samples] -> complex [..., bins, frames]; torch.stft centred, reflect padding, periodic Hann."""
    shape = audio.shape
    window = torch.hann_window(cfg.n_fft, device=audio.device, dtype=audio.dtype)
    spec = torch.stft(audio.reshape(-1, shape[-1]), cfg.n_fft, cfg.hop, window=window, center=True,
                      pad_mode='reflect', normalized=False, onesided=True, return_complex=True)
    return spec.reshape(*shape[:-1], *spec.shape[-2:])


class Unmix(nn.Module):
    """Input: mix magnitude [frames, batch, channels, bins]; output: target magnitudes
    [frames, batch, targets, channels, bins]."""

    def __init__(self, cfg: SepConfig, channels: int = 2):
        super().__init__()
        self.cfg = cfg
        self.channels = channels
        nb, mb, h = cfg.n_bins, cfg.max_bin, cfg.hidden
        nt = self.n_targets = len(TARGETS)
        self.input_mean = nn.Parameter(torch.zeros(mb))
        self.input_scale = nn.Parameter(torch.ones(mb))
        self.fc1 = nn.Linear(channels * mb, h, bias=False)
        self.bn1 = nn.BatchNorm1d(h)
        self.lstm = nn.LSTM(h, h // 2, num_layers=cfg.lstm_layers, bidirectional=True, dropout=0.4 if cfg.lstm_layers > 1 else 0)
        self.fc2 = nn.Linear(2 * h, h, bias=False)
        self.bn2 = nn.BatchNorm1d(h)
        self.fc3 = nn.Linear(h, nt * channels * nb, bias=False)
        self.bn3 = nn.BatchNorm1d(nt * channels * nb)
        self.output_scale = nn.Parameter(torch.ones(nt, 1, nb))
        self.output_mean = nn.Parameter(torch.ones(nt, 1, nb))

    def forward(self, mix_mag: torch.Tensor) -> torch.Tensor:
        frames, batch, ch, nb = mix_mag.shape
        nt = self.n_targets
        x = mix_mag[..., : self.cfg.max_bin]
        x = (x + self.input_mean) * self.input_scale
        x = self.fc1(x.reshape(frames * batch, ch * self.cfg.max_bin))
        x = torch.tanh(self.bn1(x)).reshape(frames, batch, self.cfg.hidden)
        lstm_out, _ = self.lstm(x)
        x = torch.cat([x, lstm_out], -1)
        x = torch.relu(self.bn2(self.fc2(x.reshape(frames * batch, 2 * self.cfg.hidden))))
        x = self.bn3(self.fc3(x)).reshape(frames, batch, nt, ch, nb)
        x = x * self.output_scale + self.output_mean
        return torch.relu(x) * mix_mag.unsqueeze(2)


class ExportWrapper(nn.Module):
    """ONNX signature: mix magnitude [frames, channels, bins] -> target magnitudes
    [frames, targets, channels, bins] (batch of one)."""

    def __init__(self, model: Unmix):
        super().__init__()
        self.model = model

    def forward(self, mix_mag: torch.Tensor) -> torch.Tensor:
        return self.model(mix_mag.unsqueeze(1)).squeeze(1)
