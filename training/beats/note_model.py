"""Note-level beat/downbeat/tempo CRNN, a CPU-sized version of PM2S's RNNJointBeatModel (Liu, Mou,
Benetos, ISMIR 2022): convolutions over neighbouring notes, then bidirectional GRUs over the whole
note sequence, with per-note heads for beat, downbeat and local tempo (inter-beat-interval classes).
PM2S stacks three 2-layer biGRUs of 512 units (beat -> downbeat -> tempo); here one shared trunk
and a small downbeat GRU on top keep one CPU thread at a few steps per second."""
from __future__ import annotations

import torch
from torch import nn

from .features import TEMPO_BINS
from .note_features import NB_NOTE_FEATURES

NOTE_CONFIGS = {
    "crnn96": dict(hidden=96, kernel=9, gru_layers=2, downbeat_hidden=48, dropout=0.15),
    # The GPU size (training/gpu/beats.sh): 2.5 M parameters, 5x crnn96's, nearer PM2S's. Larger
    # would not fit beside the piano GPU kit in the device's 64 MiB once committed (~10 MB ONNX).
    "crnn192": dict(hidden=192, kernel=9, gru_layers=3, downbeat_hidden=96, dropout=0.2),
}


class NoteBeatCRNN(nn.Module):
    def __init__(self, hidden: int, kernel: int, gru_layers: int, downbeat_hidden: int, dropout: float):
        super().__init__()
        pad = kernel // 2
        self.conv = nn.Sequential(
            nn.Conv1d(NB_NOTE_FEATURES, hidden, kernel, padding=pad), nn.ELU(), nn.Dropout(dropout),
            nn.Conv1d(hidden, hidden, kernel, padding=pad), nn.ELU(), nn.Dropout(dropout),
        )
        self.gru = nn.GRU(hidden, hidden, num_layers=gru_layers, batch_first=True, bidirectional=True,
                          dropout=dropout if gru_layers > 1 else 0.0)
        self.mix = nn.Sequential(nn.Linear(2 * hidden, hidden), nn.ELU(), nn.Dropout(dropout))
        self.beat = nn.Linear(hidden, 1)
        self.tempo = nn.Linear(hidden, TEMPO_BINS)
        # Downbeats need bar-level context on top of the beat evidence: a second, smaller biGRU.
        self.gru_downbeat = nn.GRU(hidden, downbeat_hidden, batch_first=True, bidirectional=True)
        self.downbeat = nn.Linear(2 * downbeat_hidden, 1)

    def forward(self, features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """[b, n, NB_NOTE_FEATURES] -> logits [b, n, 2] (beat, downbeat) and tempo logits [b, n, TEMPO_BINS]."""
        x = self.conv(features.transpose(1, 2)).transpose(1, 2)  # [b, n, hidden]
        x, _ = self.gru(x)  # [b, n, 2 * hidden]
        x = self.mix(x)  # [b, n, hidden]
        d, _ = self.gru_downbeat(x)  # [b, n, 2 * downbeat_hidden]
        logits = torch.cat([self.beat(x), self.downbeat(d)], dim=-1)  # [b, n, 2]
        return logits, self.tempo(x)
