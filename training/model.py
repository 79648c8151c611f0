"""Onsets-and-Frames-style transcriber (ours) and the 2020 seed project's frame classifier (baseline)."""
from __future__ import annotations

import torch
from torch import nn

from .config import N_KEYS, N_MELS, SEED_CONTEXT_FRAMES, SEED_N_MELS, ModelConfig


class ConvStack(nn.Module):
    """Log-mel [B, T, mels] -> [B, T, fc_units]: three 3x3 convs, pooling over frequency only."""

    def __init__(self, n_mels: int, channels: tuple[int, int, int], fc_units: int, dropout: bool = True):
        super().__init__()
        c1, c2, c3 = channels
        p_conv, p_fc = (0.25, 0.5) if dropout else (0.0, 0.0)
        self.cnn = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.BatchNorm2d(c1), nn.ReLU(),
            nn.Conv2d(c1, c2, 3, padding=1), nn.BatchNorm2d(c2), nn.ReLU(),
            nn.MaxPool2d((1, 2)), nn.Dropout(p_conv),
            nn.Conv2d(c2, c3, 3, padding=1), nn.BatchNorm2d(c3), nn.ReLU(),
            nn.MaxPool2d((1, 2)), nn.Dropout(p_conv),
        )
        # LayerNorm: without it the fc outputs grew to std ~12 within 200 steps, saturating the
        # GRUs and the frame sigmoid, and training sat at the class prior.
        self.fc = nn.Sequential(nn.Linear(c3 * (n_mels // 4), fc_units), nn.LayerNorm(fc_units), nn.Dropout(p_fc))

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        # channels-last: oneDNN's convolutions and their backward pass run ~30 % faster on the CPU.
        x = self.cnn(mel.unsqueeze(1).contiguous(memory_format=torch.channels_last))  # [B, C, T, F]
        x = x.transpose(1, 2).flatten(-2)  # [B, T, C*F]
        return self.fc(x)


class BiGRU(nn.Module):
    def __init__(self, n_in: int, n_hidden: int):
        super().__init__()
        self.rnn = nn.GRU(n_in, n_hidden, batch_first=True, bidirectional=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rnn(x)[0]


class PianoTranscriber(nn.Module):
    """small: one shared conv stack and BiGRU feed onset/offset/velocity heads; the frame head
    sees the (detached) onset and offset posteriors through a second BiGRU, as in Onsets and Frames.
    oaf: separate conv stacks for onset, offset, frame and velocity (the original design)."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.shared = cfg.name != 'oaf'
        f, r = cfg.fc_units, cfg.rnn_units
        self.input_norm = nn.BatchNorm1d(N_MELS) if cfg.input_norm else None
        if self.shared:
            self.trunk = ConvStack(N_MELS, cfg.conv_channels, f, cfg.dropout)
            self.rnn = BiGRU(f, r)
        else:
            self.onset_stack = nn.Sequential(ConvStack(N_MELS, cfg.conv_channels, f), BiGRU(f, r))
            self.offset_stack = nn.Sequential(ConvStack(N_MELS, cfg.conv_channels, f), BiGRU(f, r))
            self.frame_stack = ConvStack(N_MELS, cfg.conv_channels, f)
            self.velocity_stack = ConvStack(N_MELS, cfg.conv_channels, f)
        n_rnn = 2 * r
        self.onset_head = nn.Linear(n_rnn, N_KEYS)
        self.offset_head = nn.Linear(n_rnn, N_KEYS)
        self.velocity_head = nn.Linear(n_rnn if self.shared else f, N_KEYS)
        self.frame_pre = nn.Linear(f, N_KEYS)
        self.combined = BiGRU(3 * N_KEYS, r // 2 if self.shared else r)
        self.frame_head = nn.Linear(r if self.shared else 2 * r, N_KEYS)
        # Sustain pedal (one value per frame): lets notes end at the key release, as a performance
        # MIDI file and MAPS's ground truth have them, while the MIDI keeps the sound via CC 64.
        self.pedal_head = nn.Linear(n_rnn, 1)
        # Start at the label priors (onsets/offsets ~0.2% of key-frames, frames ~5%) instead of 0.5,
        # so the first few hundred steps learn the music instead of the class balance.
        for head, prior in ((self.onset_head, 0.002), (self.offset_head, 0.002), (self.frame_head, 0.05),
                            (self.frame_pre, 0.05)):
            nn.init.constant_(head.bias, float(torch.logit(torch.tensor(prior))))

    def forward(self, mel: torch.Tensor) -> dict[str, torch.Tensor]:
        """Returns logits for onset, offset (key release), frame (key down), frame_pre (sounding),
        each [B, T, 88], pedal [B, T, 1], and a velocity in [0, 1] (sigmoid) [B, T, 88]."""
        if self.input_norm is not None:
            mel = self.input_norm(mel.transpose(1, 2)).transpose(1, 2)
        if self.shared:
            h = self.trunk(mel)
            s = self.rnn(h)
            onset, offset, velocity = self.onset_head(s), self.offset_head(s), self.velocity_head(s)
            pedal = self.pedal_head(s)
            frame_in = h
        else:
            onset = self.onset_head(self.onset_stack(mel))
            offset_h = self.offset_stack(mel)
            offset = self.offset_head(offset_h)
            pedal = self.pedal_head(offset_h)
            velocity = self.velocity_head(self.velocity_stack(mel))
            frame_in = self.frame_stack(mel)
        pre_logits = self.frame_pre(frame_in)
        comb = torch.cat([torch.sigmoid(onset).detach(), torch.sigmoid(offset).detach(), torch.sigmoid(pre_logits)], dim=-1)
        frame = self.frame_head(self.combined(comb))
        return {'onset': onset, 'offset': offset, 'frame': frame, 'velocity': torch.sigmoid(velocity),
                'frame_pre': pre_logits, 'pedal': pedal}


class ProbabilityModel(nn.Module):
    """What is exported: mel -> sigmoid posteriors (onset, offset, frame, velocity, pedal)."""

    def __init__(self, model: PianoTranscriber):
        super().__init__()
        self.model = model

    def forward(self, mel: torch.Tensor):
        out = self.model(mel)
        return (torch.sigmoid(out['onset']), torch.sigmoid(out['offset']), torch.sigmoid(out['frame']), out['velocity'],
                torch.sigmoid(out['pedal']))


class SeedBaseline(nn.Module):
    """The 2020 seed design: a 7-frame window of 22,050 Hz log-mel (hop 512) into four dense
    layers of 500, predicting which keys sound in the centre frame."""

    def __init__(self):
        super().__init__()
        n_in = SEED_CONTEXT_FRAMES * SEED_N_MELS
        layers: list[nn.Module] = []
        for _ in range(4):
            layers += [nn.Linear(n_in, 500), nn.ReLU(), nn.Dropout(0.2)]
            n_in = 500
        self.mlp = nn.Sequential(*layers, nn.Linear(500, N_KEYS))
        self.norm = nn.BatchNorm1d(SEED_N_MELS)

    def forward(self, mel: torch.Tensor) -> dict[str, torch.Tensor]:
        """mel [B, T, mels] -> frame logits [B, T, 88]; edge frames see zero-padded context."""
        x = self.norm(mel.transpose(1, 2)).transpose(1, 2)
        half = SEED_CONTEXT_FRAMES // 2
        x = nn.functional.pad(x, (0, 0, half, half))
        windows = x.unfold(1, SEED_CONTEXT_FRAMES, 1)  # [B, T, mels, 7]
        windows = windows.transpose(2, 3).flatten(-2)
        return {'frame': self.mlp(windows)}
