"""Configurations of the `unmix` separator. The spectral constants are written into
models/unmix/manifest.json by the exporter and reproduced exactly in src/separation/unmix.ts."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
SHARED_DATA = (REPO_ROOT / '..' / 'shared' / 'data').resolve()
DATA_DIR = REPO_ROOT / 'training' / 'data' / 'separation'
RUNS_DIR = REPO_ROOT / 'training' / 'runs' / 'separation'
MODELS_DIR = REPO_ROOT / 'models' / 'unmix'

# Output order of the network and of the rendered data files (index.jsonl `stems`). `piano` is the
# GM piano family split out of `other` (songs.ts), so the transcriber gets the piano without pads.
TARGETS = ('vocals', 'drums', 'bass', 'other', 'piano')


@dataclass(frozen=True)
class SepConfig:
    name: str
    sample_rate_hz: int
    n_fft: int
    hop: int
    # Input bandwidth: the network sees bins [0, max_bin) and predicts all n_fft/2+1 bins (open-unmix).
    max_bin: int
    hidden: int
    lstm_layers: int
    segment_sec: float
    batch_size: int
    learning_rate: float
    weight_decay: float
    steps: int
    checkpoint_every: int
    validate_every: int
    # Open-unmix augmentation: probability that each stem comes from a different song.
    p_random_mix: float

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1

    def to_dict(self) -> dict:
        return asdict(self)


CONFIGS: dict[str, SepConfig] = {
    # A shared, busy 2-core CPU: 22.05 kHz, 23 ms hop (same time/frequency resolution in Hz as
    # open-unmix at 44.1 kHz), input up to 8.3 kHz (bin 768), hidden 128, 4 x 4 s batches;
    # ~1.6 M parameters (6.4 MB fp32).
    'small': SepConfig('small', 22050, 2048, 512, 768, 128, 3, 4.0, 4, 1e-3, 1e-5, 200_000, 100, 100, 0.5),
    # Open-unmix (UMX) size for the GPU machine: 44.1 kHz, n_fft 4096, hop 1024, 16 kHz input
    # bandwidth (bin 1487), hidden 512, 3-layer BiLSTM.
    'full': SepConfig('full', 44100, 4096, 1024, 1487, 512, 3, 6.0, 16, 1e-3, 1e-5, 100_000, 1000, 1000, 0.5),
}
