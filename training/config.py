"""Shared constants and model configurations. The feature constants are written into
models/piano/manifest.json by the exporter and reproduced exactly in src/transcription/piano.ts."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = (REPO_ROOT / '..' / 'shared' / 'data').resolve()
DATA_DIR = REPO_ROOT / 'training' / 'data'
RUNS_DIR = REPO_ROOT / 'training' / 'runs'
MODELS_DIR = REPO_ROOT / 'models' / 'piano'
SEGMENT_DIR = DATA_DIR / 'segments'
# training/separated-val.ts writes these beside each excerpt's separated stem (NNN.wav); a reader of the stems skips them.
SEPARATED_SIBLINGS = ('.clean.wav', '.mix.wav', '.piano.wav')

# Audio front end of our model (Onsets-and-Frames style log-mel).
SAMPLE_RATE_HZ = 16000
HOP_SAMPLES = 320  # 20 ms frames: onsets resolvable well inside mir_eval's 50 ms tolerance
N_FFT = 2048
N_MELS = 229
F_MIN_HZ = 30.0
F_MAX_HZ = 8000.0
LOG_FLOOR = 1e-5

MIN_MIDI = 21
MAX_MIDI = 108
N_KEYS = MAX_MIDI - MIN_MIDI + 1

# The 2020 seed project's front end (baseline only).
SEED_SAMPLE_RATE_HZ = 22050
SEED_HOP_SAMPLES = 512
SEED_N_FFT = 2048
SEED_N_MELS = 229
SEED_CONTEXT_FRAMES = 7


@dataclass(frozen=True)
class ModelConfig:
    name: str
    conv_channels: tuple[int, int, int]
    fc_units: int
    rnn_units: int  # per direction
    segment_sec: float
    batch_size: int
    learning_rate: float
    steps: int
    checkpoint_every: int
    dropout: bool = True
    input_norm: bool = False

    def to_dict(self) -> dict:
        return asdict(self)


CONFIGS: dict[str, ModelConfig] = {
    # Fits a shared 2-core CPU (~4 MFLOP per 20 ms frame). No dropout and a per-mel-bin input
    # BatchNorm: it only gets a few thousand steps there, and regularisation slowed it down.
    'small': ModelConfig('small', (16, 16, 32), 256, 96, 4.0, 8, 2e-3, 200_000, 200, False, True),
    # GPU machine, committable size: shared trunk, ~2.9M parameters (~11 MB fp32 ONNX).
    'full': ModelConfig('full', (32, 32, 64), 512, 192, 10.0, 16, 6e-4, 100_000, 500),
    # The original Onsets-and-Frames layout (separate conv stacks per head), 21M parameters
    # (~85 MB): only with quantisation or weights kept outside git.
    'oaf': ModelConfig('oaf', (48, 48, 96), 768, 256, 20.0, 8, 6e-4, 100_000, 1000, True),
}
