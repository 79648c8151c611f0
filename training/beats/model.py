"""Beat/downbeat TCN over note-event frames (in the spirit of Böck & Davies, "Deconstruct, analyse,
reconstruct: how to improve tempo, beat, and downbeat estimation", ISMIR 2020, with symbolic input
instead of a spectrogram). Non-causal dilated convolutions, receptive field +-41 s at 50 fps."""
from __future__ import annotations

import torch
from torch import nn

from .features import NB_FEATURES, TEMPO_BINS

CONFIGS = {
    "small": dict(channels=32, dilations=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), kernel=5, dropout=0.1),
    # The same trunk with a local-tempo head (TEMPO_BINS log-spaced classes): auxiliary supervision
    # of the metrical level (Böck et al. 2019 multi-task), also a per-frame tempo prior for the DBN.
    "small_tempo": dict(channels=32, dilations=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512), kernel=5, dropout=0.1, tempo_bins=TEMPO_BINS),
}


class Block(nn.Module):
    def __init__(self, c: int, dilation: int, kernel: int, dropout: float):
        super().__init__()
        pad = dilation * (kernel - 1) // 2
        self.conv1 = nn.Conv1d(c, c, kernel, dilation=dilation, padding=pad)
        self.conv2 = nn.Conv1d(c, c, 1)
        self.act = nn.ELU()
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv2(self.drop(self.act(self.conv1(x))))


class BeatTCN(nn.Module):
    def __init__(self, channels: int, dilations: tuple[int, ...], kernel: int, dropout: float, tempo_bins: int = 0):
        super().__init__()
        self.tempo_bins = tempo_bins
        self.inp = nn.Sequential(nn.Conv1d(NB_FEATURES, channels, 3, padding=1), nn.ELU())
        self.blocks = nn.Sequential(*[Block(channels, d, kernel, dropout) for d in dilations])
        self.out = nn.Sequential(nn.ELU(), nn.Conv1d(channels, 2, 1))
        if tempo_bins:
            self.tempo = nn.Sequential(nn.ELU(), nn.Conv1d(channels, tempo_bins, 1))

    def forward(self, features: torch.Tensor):
        """[b, t, NB_FEATURES] -> logits [b, t, 2] (beat, downbeat); with a tempo head, also tempo
        logits [b, t, tempo_bins]."""
        x = self.inp(features.transpose(1, 2))
        x = self.blocks(x)
        beats = self.out(x).transpose(1, 2)
        if not self.tempo_bins:
            return beats
        return beats, self.tempo(x).transpose(1, 2)
