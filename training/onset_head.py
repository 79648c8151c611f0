"""The piano-ensemble's onset head: a small convolutional network over both models' posteriors that
gives the onset posterior the decoder reads, in place of their fixed 0.5 / 0.5 mean.

    python -m training.render --train-seed 4242 --asap 240 --procedural 60 --out-dir training/data/head-segments
    python -m training.onset_head [--steps 9000]      # caches posteriors, trains (resumable), exports

Why: the mean treats every key alike and looks at one key and one frame. On the augmented
validation renders and on MAPS our model's onset posterior is low in the bass (median 0.01-0.1 at
true onsets below MIDI 42, against 0.4-0.5 for basic-pitch), many false notes are octaves and
twelfths of true ones, and the two models' onset peaks often lie a frame or two apart. A network
that sees the neighbourhood in time (+-6 frames) and in pitch (octaves, twelfths) and knows the
register can weigh the two models per case. A linear, per-register stacking of the two onset
logits did not beat the mean (val F1 0.844 vs 0.846); context did.

Input `posteriors` [batch, 5, frames, 88]: our onset, frame (key down) and offset posteriors and
basic-pitch's onset and note posteriors put on our frames (fusion.py `to_our_frames`). Output
`onset` [batch, frames, 88]: the logit of the 0.5 / 0.5 mean plus the network's correction, through
a sigmoid (the correction starts at zero, so training starts from the mean fusion). Training adds a
frame (key down) output of the same form as an auxiliary target. It is not exported: in a first
run its note ends scored as the mean's on the validation renders (0.480 vs 0.474 F1 with offsets)
and far below them on real recordings (MAPS, looked at once: 39.2 vs 48.1).

Training data: fresh renders of the training works (its own seed, so the excerpts are new to the
acoustic model), through the training augmentation, run through our model and basic-pitch once and
cached (`posteriors.npz` next to the segments). Labels: onset frames +-1 (the decoder takes the
peak of a run), key-down frames. Thresholds for the head are then chosen by `training.export
--retune` on the validation renders, never on MAPS.

Mix heads (`--separated DIR ...`): the same network over 10 channels, a separated stem's five
posteriors and then those of the mix it was cut from, for one separator:

    S='node_modules/.bin/tsx training/separated-val.ts --split train --separator unmix --count 110'
    D=training/data/separated-train-unmix
    $S --seed 7001 --out $D; $S --seed 7002 --voice --out $D-voice      # ~9 min each, run side by side
    $S --seed 7003 --level-jitter-db 4 --out $D-b; $S --seed 7004 --level-jitter-db 4 --voice --out $D-b-voice
    # the shipped head (mix-head.onnx): 6,000 steps on the first two sets, then 5,000 more on all four
    python -m training.onset_head --separated $D $D-voice --run unmix --steps 6000
    mkdir -p training/runs/unmix-b && cp training/runs/unmix/last.pt training/runs/unmix-b/
    python -m training.onset_head --separated $D $D-voice $D-b $D-b-voice --run unmix-b --steps 11000
    node_modules/.bin/tsx training/mix-weight.ts --write      # per separator: a head only where it beats the blend
    # on a new machine, continue the shipped head on fresh excerpts (other seeds) instead:
    python -m training.onset_head --separated $D-c $D-c-voice --run unmix-c --init-from models/piano/mix-head.onnx --head-file mix-head-c.onnx
    # variants (models/piano/MODEL_CARD.md "The mix head"): a third signal, unmix's piano stem
    # alone (NNN.piano.wav, which separated-val.ts writes for a five-stem separator), and a longer
    # time context; each starts from the shipped head, and training/mix-weight.ts scores it
    python -m training.onset_head --separated $D-c $D-c-voice $D-d --piano-stem --run unmix-piano --init-from models/piano/mix-head.onnx --head-file mix-head-piano.onnx --steps 3000
    python -m training.onset_head --separated $D-c $D-c-voice $D-d --long-context --run unmix-long --init-from models/piano/mix-head.onnx --head-file mix-head-long.onnx --steps 3000

Why: a stem from a small separator has lost some of the piano and kept some of the band; the mix
has all the piano and all the band. The blend (src/transcription/ensemble.ts `blendWithMix`)
weighs the two alike everywhere; a head can learn where a note in the mix but not in the stem is
the band's (a pad chord, a sung line) and where it is piano the separator dropped. Base: the mean
of the four onset (frame) channels. Training data: excerpts of the training works in the training
timbres (FluidR3 GM, TimGM6mb) with the e2e benchmark's band generator, half with a vocal
stand-in, through the separator (`posteriors.npz` in each folder); the onset threshold and the
frame's mix weight are chosen by training/mix-weight.ts on each separator's tuning sets (a head
trained on unmix's stems serves htdemucs's too, where it also beats the blend).
"""
from __future__ import annotations

import argparse
import functools
import json
import time
from math import gcd
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .config import (DATA_DIR, HOP_SAMPLES, MIN_MIDI, MODELS_DIR, N_KEYS, REPO_ROOT, RUNS_DIR, SAMPLE_RATE_HZ,
                     SEPARATED_SIBLINGS)

FRAME_SEC = HOP_SAMPLES / SAMPLE_RATE_HZ
INPUTS = ('onset', 'frame', 'offset', 'bp_onset', 'bp_note')
HEAD_FILE = 'onset-head.onnx'
CONTEXT_FRAMES = 6  # the receptive field each side in time: kernels 5, 3, 3, 5
LONG_DILATIONS = (4, 16)  # --long-context: two more time convolutions (kernel 3), +-26 frames in all
LOGIT_EPS = 1e-4


def logit(p: torch.Tensor) -> torch.Tensor:
    p = p.clamp(LOGIT_EPS, 1 - LOGIT_EPS)
    return torch.log(p / (1 - p))


class OnsetHead(nn.Module):
    """[B, 5, T, 88] posteriors -> logits [B, 2, T, 88] (onset, key down): the mean fusion's logits
    plus a learned correction. Four convolutions with residual connections: a local one (5 frames x
    3 keys), one across octaves (dilation 12 keys), one across twelfths (dilation 19), one over
    time; the key's register enters as a constant input channel."""

    def __init__(self, channels: int = 24, inputs: int = len(INPUTS), base_groups: int | None = None,
                 long_context: bool = False):
        super().__init__()
        # Inputs come in groups of INPUTS (one signal's posteriors each: the stem's, then the mix's,
        # then a five-stem separator's piano stem's); the base is the mean of the first `base_groups`
        # groups' two onset (two frame) channels (default: all), so a group added later starts as
        # pure correction input and a head trained without it can be continued exactly.
        base = (base_groups or inputs // len(INPUTS)) * len(INPUTS)
        self.onset_channels = [c for c in range(base) if c % len(INPUTS) in (0, 3)]
        self.frame_channels = [c for c in range(base) if c % len(INPUTS) in (1, 4)]
        self.local = nn.Conv2d(inputs + 1, channels, (5, 3), padding=(2, 1))
        self.octave = nn.Conv2d(channels, channels, 3, padding=(1, 12), dilation=(1, 12))
        self.twelfth = nn.Conv2d(channels, channels, 3, padding=(1, 19), dilation=(1, 19))
        self.time = nn.Conv2d(channels, channels, (5, 1), padding=(2, 0))
        # Dilated time convolutions see half a second each side: a string pad's note holds its
        # level for seconds, a piano note decays, which +-6 frames cannot tell apart.
        self.long = nn.ModuleList([nn.Conv2d(channels, channels, (3, 1), padding=(d, 0), dilation=(d, 1))
                                   for d in (LONG_DILATIONS if long_context else ())])
        self.out = nn.Conv2d(channels, 2, 1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.register_buffer('register', torch.linspace(-1, 1, N_KEYS).view(1, 1, 1, N_KEYS))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        base = torch.stack([logit(x[:, self.onset_channels].mean(1)), logit(x[:, self.frame_channels].mean(1))], 1)
        reg = self.register.expand(x.shape[0], 1, x.shape[2], N_KEYS)
        h = torch.relu(self.local(torch.cat([x, reg], 1)))
        h = h + torch.relu(self.octave(h))
        h = h + torch.relu(self.twelfth(h))
        h = h + torch.relu(self.time(h))
        for conv in self.long:
            h = h + torch.relu(conv(h))
        return base + self.out(h)


class Exported(nn.Module):
    """The graph onnxruntime runs: onset probability only, [B, T, 88]."""

    def __init__(self, head: OnsetHead):
        super().__init__()
        self.head = head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.head(x)[:, 0])


def stack_inputs(ours: dict[str, np.ndarray], bp_onset: np.ndarray, bp_note: np.ndarray) -> np.ndarray:
    """Our posteriors ([T, 88] each) and basic-pitch's ([bpFrames, 88], its own frame rate) ->
    the head's input [5, T, 88]."""
    from .fusion import to_our_frames
    n = len(ours['onset'])
    return np.stack([ours['onset'], ours['frame'], ours['offset'], to_our_frames(bp_onset, n, FRAME_SEC),
                     to_our_frames(bp_note, n, FRAME_SEC)]).astype(np.float32)


class OnsetHeadRunner:
    """The exported head in onnxruntime, on a whole recording at once (the TS port runs it in
    chunks with CONTEXT_FRAMES of context, which gives the same values)."""

    def __init__(self, path: Path = MODELS_DIR / HEAD_FILE, threads: int = 1):
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(path), opts, providers=['CPUExecutionProvider'])

    @staticmethod
    @functools.cache
    def cached(path: Path) -> 'OnsetHeadRunner':
        return OnsetHeadRunner(path)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """[5, T, 88] -> onset posterior [T, 88]."""
        return self.session.run(['onset'], {'posteriors': x[None].astype(np.float32)})[0][0]


def head_labels(notes: np.ndarray, n_frames: int) -> np.ndarray:
    """Reference (onsetSec, keyOffSec, pitch) -> [2, T, 88]: onset frames +-1, key-down frames."""
    y = np.zeros((2, n_frames, N_KEYS), np.float32)
    for onset, off, pitch in notes:
        k = int(pitch) - MIN_MIDI
        a = int(round(onset / FRAME_SEC))
        b = max(int(round(off / FRAME_SEC)), a + 1)
        y[0, max(a - 1, 0):max(min(a + 2, n_frames), 0), k] = 1.0
        y[1, max(a, 0):min(b, n_frames), k] = 1.0
    return y


def build_cache(segment_dir: Path, threads: int) -> tuple[np.ndarray, np.ndarray]:
    """Runs both models once over the augmented segments; [S, 5, T, 88] float16 and the labels,
    cached in `posteriors.npz` next to the segments."""
    import onnxruntime as ort
    from . import data
    from .export import posteriors
    from .features import LogMel
    from .fusion import BasicPitchPosteriors
    from .train import key_notes
    path = segment_dir / 'posteriors.npz'
    if path.exists():
        z = np.load(path)
        return z['x'], z['y']
    segments, leak = data.Segments('train', segment_dir), data.Segments('leak', segment_dir)
    augment = data.Augmenter(leak, np.random.default_rng(99))
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(str(MODELS_DIR / 'piano.onnx'), opts, providers=['CPUExecutionProvider'])
    mel, bp = LogMel(), BasicPitchPosteriors(threads=threads)
    xs, ys = [], []
    t0 = time.time()
    for i in range(len(segments)):
        audio, notes, _ = segments.get(i)
        audio = augment(audio)
        x = stack_inputs(posteriors(audio, session, mel), *bp(audio))
        xs.append(x.astype(np.float16))
        ys.append(head_labels(key_notes(notes), x.shape[1]).astype(np.bool_))
        if i % 50 == 0:
            print(f'posteriors {i}/{len(segments)} ({time.time() - t0:.0f} s)', flush=True)
    n = min(x.shape[1] for x in xs)
    x, y = np.stack([x[:, :n] for x in xs]), np.stack([y[:, :n] for y in ys])
    np.savez(path, x=x, y=y)
    return x, y


def build_separated_cache(dirs: list[Path], threads: int, piano_stem: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The mix head's training data: the excerpts that `training/separated-val.ts --split train`
    wrote (NNN.wav the separated stem, NNN.mix.wav the band mix, NNN.notes.csv), each heard as the
    product hears it (44.1 kHz, resampled once to each network's rate) through both models;
    [S, 10, T, 88] float16 (the stem's five posteriors, then the mix's) and the labels. Cached per
    folder (`posteriors.npz` in it), so a later run over more folders hears each excerpt once.
    `piano_stem`: also a five-stem separator's `piano` stem alone (NNN.piano.wav), five channels
    more after the mix's, cached apart (`posteriors.piano.npz`)."""
    import onnxruntime as ort
    import soundfile as sf
    from scipy.signal import resample_poly
    from .export import posteriors
    from .features import LogMel
    from .fusion import BasicPitchPosteriors
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    session = ort.InferenceSession(str(MODELS_DIR / 'piano.onnx'), opts, providers=['CPUExecutionProvider'])
    mel, bp = LogMel(), BasicPitchPosteriors(threads=threads)

    def heard(wav: Path) -> np.ndarray:
        audio, sr = sf.read(str(wav), dtype='float32')
        g = gcd(SAMPLE_RATE_HZ, sr)
        ours = posteriors(resample_poly(audio, SAMPLE_RATE_HZ // g, sr // g).astype(np.float32), session, mel)
        return stack_inputs(ours, *bp(audio, sr))

    def excerpts(d: Path) -> list[Path]:
        """The separated stems (NNN.wav) of the complete excerpts: the builder writes notes last."""
        return sorted(p for p in d.glob('*.wav')
                      if not p.name.endswith(SEPARATED_SIBLINGS) and p.with_suffix('.notes.csv').exists())

    def folder(d: Path) -> tuple[np.ndarray, np.ndarray]:
        path = d / 'posteriors.npz'
        if path.exists():
            z = np.load(path)
            return z['x'], z['y']
        stems = excerpts(d)
        xs, ys = [], []
        t0 = time.time()
        for i, wav in enumerate(stems):
            stem, mix = heard(wav), heard(wav.with_name(wav.stem + '.mix.wav'))
            n = min(stem.shape[1], mix.shape[1])
            notes = np.loadtxt(wav.with_suffix('.notes.csv'), delimiter=',', ndmin=2)[:, :3]
            xs.append(np.concatenate([stem[:, :n], mix[:, :n]]).astype(np.float16))
            ys.append(head_labels(notes, n).astype(np.bool_))
            if i % 20 == 0:
                print(f'{d.name}: posteriors {i}/{len(stems)} ({time.time() - t0:.0f} s)', flush=True)
        n = min(x.shape[1] for x in xs)
        x, y = np.stack([x[:, :n] for x in xs]), np.stack([y[:, :n] for y in ys])
        np.savez(path, x=x, y=y)
        return x, y

    def piano_folder(d: Path, frames: int) -> np.ndarray:
        path = d / 'posteriors.piano.npz'
        if path.exists():
            return np.load(path)['x']
        stems = sorted(d.glob('*.piano.wav'))
        if [p.name.removesuffix('.piano.wav') for p in stems] != [p.stem for p in excerpts(d)]:
            raise SystemExit(f'{d}: not every excerpt has a piano stem (build it with a five-stem separator)')
        t0 = time.time()
        xs = []
        for i, wav in enumerate(stems):
            x = heard(wav)
            pad = max(0, frames - x.shape[1])
            xs.append(np.pad(x[:, :frames], ((0, 0), (0, pad), (0, 0))).astype(np.float16))
            if i % 20 == 0:
                print(f'{d.name}: piano stem posteriors {i}/{len(stems)} ({time.time() - t0:.0f} s)', flush=True)
        x = np.stack(xs)
        np.savez(path, x=x)
        return x

    parts = [folder(d) for d in dirs]
    if piano_stem:
        parts = [(np.concatenate([x, piano_folder(d, x.shape[2])], 1), y) for d, (x, y) in zip(dirs, parts)]
    n = min(x.shape[2] for x, _ in parts)
    return np.concatenate([x[:, :, :n] for x, _ in parts]), np.concatenate([y[:, :, :n] for _, y in parts])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--segments', type=Path, default=DATA_DIR / 'head-segments')
    ap.add_argument('--run', default='onset-head')
    ap.add_argument('--steps', type=int, default=9000)
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--crop-frames', type=int, default=200)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--frame-loss-weight', type=float, default=0.5)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--checkpoint-every', type=int, default=500)
    ap.add_argument('--out-dir', type=Path, default=MODELS_DIR)
    ap.add_argument('--export-only', action='store_true', help='export the run\'s last checkpoint without training')
    ap.add_argument('--separated', type=Path, nargs='+', default=None,
                    help='train a mix head instead: folders of separated training excerpts (separated-val.ts --split train)')
    ap.add_argument('--head-file', default=None, help=f'the exported file in --out-dir (default {HEAD_FILE}, or mix-head.onnx)')
    ap.add_argument('--init-from', type=Path, default=None,
                    help='a new run starts from the weights of this exported head (e.g. models/piano/mix-head.onnx)')
    ap.add_argument('--piano-stem', action='store_true',
                    help='a mix head that also reads the separator\'s piano stem alone (NNN.piano.wav): 15 channels')
    ap.add_argument('--channels', type=int, default=24, help='the head\'s hidden channels')
    ap.add_argument('--long-context', action='store_true',
                    help=f'two more dilated time convolutions (dilations {LONG_DILATIONS}): +-26 frames of context')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    run_dir = RUNS_DIR / args.run
    run_dir.mkdir(parents=True, exist_ok=True)
    last = run_dir / 'last.pt'
    groups = (3 if args.piano_stem else 2) if args.separated else 1
    model = OnsetHead(args.channels, inputs=groups * len(INPUTS), base_groups=2 if args.piano_stem else None,
                      long_context=args.long_context)
    opt = torch.optim.Adam(model.parameters(), args.lr)
    step, rng = 0, np.random.default_rng(args.seed)
    if last.exists():
        ck = torch.load(last, map_location='cpu', weights_only=False)
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['opt'])
        step, rng = ck['step'], ck['rng']
        for group in opt.param_groups:  # a resumed run takes this command's rate (a second, lower-rate phase)
            group['lr'] = args.lr
        print(f'resumed {last} at step {step}, rate {args.lr}', flush=True)
    elif args.init_from:
        missing, unexpected = model.load_state_dict(widened(onnx_head_weights(args.init_from), model.state_dict()), strict=False)
        # Only layers the exported head lacks (--long-context) may start fresh.
        if unexpected or any(not k.startswith('long.') for k in missing):
            raise SystemExit(f'--init-from {args.init_from}: missing {missing}, unexpected {unexpected}')
        print(f'started from the weights of {args.init_from}', flush=True)
    if not args.export_only and step < args.steps:
        xs, ys = (build_separated_cache(args.separated, args.threads, args.piano_stem) if args.separated
                  else build_cache(args.segments, args.threads))
        print(f'{len(xs)} segments, {xs.shape[2]} frames each; {sum(p.numel() for p in model.parameters())} parameters', flush=True)
        t0 = time.time()
        while step < args.steps:
            idx = rng.integers(len(xs), size=args.batch)
            starts = rng.integers(0, xs.shape[2] - args.crop_frames, size=args.batch)
            x = torch.from_numpy(np.stack([xs[i, :, s:s + args.crop_frames] for i, s in zip(idx, starts)]).astype(np.float32))
            y = torch.from_numpy(np.stack([ys[i, :, s:s + args.crop_frames] for i, s in zip(idx, starts)]).astype(np.float32))
            z_ = model(x)
            bce = nn.functional.binary_cross_entropy_with_logits
            loss = bce(z_[:, 0], y[:, 0]) + args.frame_loss_weight * bce(z_[:, 1], y[:, 1])
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            if step % 100 == 0:
                print(f'step {step} loss {loss.item():.4f} ({time.time() - t0:.0f} s)', flush=True)
            if step % args.checkpoint_every == 0 or step == args.steps:
                torch.save({'model': model.state_dict(), 'opt': opt.state_dict(), 'step': step, 'rng': rng}, last)
    head_file = args.head_file or ('mix-head.onnx' if args.separated else HEAD_FILE)
    export(model.eval(), args.out_dir / head_file)
    if args.separated:
        # The TS port's parity case (test/transcription/ensemble.test.ts); the solo head's is in
        # export.py's piano-parity fixture.
        from .export import onset_head_case
        case = onset_head_case(args.out_dir / head_file, groups * len(INPUTS))
        path = REPO_ROOT / 'test' / 'transcription' / 'fixtures' / f'{Path(head_file).stem}.parity.json'
        path.write_text(json.dumps(case) + '\n')
        print(f'wrote {path}')


def onnx_head_weights(path: Path) -> dict[str, torch.Tensor]:
    """An exported head's state dict. The export keeps every weight under its module name
    (`head.local.weight`, ...), the key-down output's too, so a new machine can continue training
    the shipped head (checkpoints never go into git)."""
    import onnx
    from onnx import numpy_helper
    graph = onnx.load(str(path)).graph
    return {t.name.removeprefix('head.'): torch.from_numpy(numpy_helper.to_array(t).copy())
            for t in graph.initializer if t.name.startswith('head.')}


def widened(weights: dict[str, torch.Tensor], target: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """An exported head's weights fitted to a head with more input groups: the first convolution's
    new input channels (placed before the register channel, which stays last) start at zero, so
    the wider head computes what the exported one did until training teaches it the new input."""
    w = weights['local.weight']
    want = target['local.weight'].shape
    if w.shape == want:
        return weights
    if w.shape[0] != want[0] or w.shape[1] > want[1]:
        raise SystemExit(f'--init-from: local.weight {tuple(w.shape)} cannot start a head of {tuple(want)}')
    grown = torch.zeros(want)
    grown[:, :w.shape[1] - 1] = w[:, :-1]
    grown[:, -1] = w[:, -1]
    return {**weights, 'local.weight': grown}


def export(model: OnsetHead, path: Path) -> None:
    import onnxruntime as ort
    wrapped = Exported(model).eval()
    dummy = torch.rand(1, model.local.in_channels - 1, 120, N_KEYS)
    torch.onnx.export(wrapped, (dummy,), str(path), input_names=['posteriors'], output_names=['onset'],
                      dynamic_axes={'posteriors': {0: 'batch', 2: 'frames'}, 'onset': {0: 'batch', 1: 'frames'}},
                      opset_version=17, dynamo=False)
    with torch.no_grad():
        ref = wrapped(dummy).numpy()
    got = ort.InferenceSession(str(path), providers=['CPUExecutionProvider']).run(['onset'], {'posteriors': dummy.numpy()})[0]
    err = float(np.abs(ref - got).max())
    print(f'wrote {path} ({path.stat().st_size} bytes); ONNX vs PyTorch max abs difference {err:.2e}')
    assert err < 1e-4, err


if __name__ == '__main__':
    main()
