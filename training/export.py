"""Exports a trained checkpoint to ONNX for onnxruntime-node, with its manifest and a parity fixture.

    python -m training.export [--config small] [--checkpoint training/runs/small/best.pt]
    python -m training.export --checkpoint a.pt b.pt c.pt   # their weights averaged (one run's late checkpoints)
    python -m training.export --retune   # keep models/piano's ONNX; choose its decoding settings again

Writes models/piano/piano.onnx (input `mel` [batch, frames, 229] log-mel; outputs `onset`, `offset`
(key release), `frame` (key down), `velocity` [batch, frames, 88] and `pedal` [batch, frames, 1]), models/piano/manifest.json (front-end parameters,
tensor names, decoding thresholds, chunking), and test/transcription/fixtures/piano-parity.{s16,json}:
a short rendered clip with the Python features, ONNX posteriors and decoded notes, which the TS test
compares against.
"""
from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Iterator
from math import gcd
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch

from .bank import load_bank
from .config import (CONFIGS, F_MAX_HZ, F_MIN_HZ, HOP_SAMPLES, LOG_FLOOR, MAX_MIDI, MIN_MIDI, MODELS_DIR, N_FFT,
                     N_MELS, REPO_ROOT, RUNS_DIR, SAMPLE_RATE_HZ, SEGMENT_DIR, SEPARATED_SIBLINGS)
from .decode import (FRAME_THRESHOLD, OFFSET_THRESHOLD, ONSET_THRESHOLD, PEDAL_HOLD_SEC, PEDAL_THRESHOLD, decode_pedal,
                     decode_with, drop_harmonic_ghosts, hold_under_pedal)
from .features import LogMel
from .fusion import BasicPitchPosteriors, fuse, fuse_config
from .onset_head import HEAD_FILE
from .midi_data import procedural
from .model import PianoTranscriber, ProbabilityModel
from .synth import Sampler

FIXTURE_DIR = REPO_ROOT / 'test' / 'transcription' / 'fixtures'
OUTPUTS = ['onset', 'offset', 'frame', 'velocity', 'pedal']
CHUNK_FRAMES = 1000  # 20 s per ONNX call
CONTEXT_FRAMES = 100  # 2 s each side, dropped after inference so the BiGRUs see both directions


def load_model(config: str, checkpoints: list[Path]) -> tuple[PianoTranscriber, dict]:
    """One checkpoint, or the mean of several (stochastic weight averaging: checkpoints of one run
    late in training lie in one basin, and their mean generalises better than any of them). The
    returned checkpoint dict is the last one's, for its step and config."""
    cks = [torch.load(c, map_location='cpu', weights_only=False) for c in checkpoints]
    state = {k: (torch.stack([ck['model'][k].float() for ck in cks]).mean(0).to(v.dtype) if v.is_floating_point() else v)
             for k, v in cks[-1]['model'].items()}
    model = PianoTranscriber(CONFIGS[config])
    model.load_state_dict(state)
    model.eval()
    return model, cks[-1]


def run_chunked(session: ort.InferenceSession, mel: np.ndarray) -> dict[str, np.ndarray]:
    """The same chunking as src/transcription/piano.ts: 1000-frame cores with 100 frames of context."""
    n = len(mel)
    out: dict[str, np.ndarray] = {}
    for core in range(0, n, CHUNK_FRAMES):
        a = max(0, core - CONTEXT_FRAMES)
        b = min(n, core + CHUNK_FRAMES + CONTEXT_FRAMES)
        res = session.run(OUTPUTS, {'mel': mel[None, a:b].astype(np.float32)})
        e = min(n, core + CHUNK_FRAMES)
        for k, r in zip(OUTPUTS, res):
            out.setdefault(k, np.zeros((n, r.shape[-1]), np.float32))[core:e] = r[0, core - a:e - a]
    return out


def posteriors(audio: np.ndarray, session: ort.InferenceSession, mel: LogMel) -> dict[str, np.ndarray]:
    """Our model's posteriors for a whole recording: features, then the network in chunks as the
    TypeScript transcriber runs it."""
    with torch.no_grad():
        m = mel(torch.from_numpy(audio)[None])[0].numpy()
    return run_chunked(session, m)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--config', default='small', choices=list(CONFIGS))
    ap.add_argument('--checkpoint', type=Path, nargs='+', default=None)
    ap.add_argument('--out-dir', type=Path, default=MODELS_DIR)
    ap.add_argument('--no-tune', dest='tune', action='store_false',
                    help='keep the default 0.5 thresholds instead of choosing them on the rendered validation set')
    ap.add_argument('--profiles', default='solo,separated',
                    help='with --retune: the decoding profiles to choose again (the others stay as the manifest has them)')
    ap.add_argument('--retune', action='store_true',
                    help="keep the exported model in --out-dir as it is (no checkpoint needed) and choose its decoding "
                         "settings and the ensemble's again; rewrites the manifest's thresholds and the parity fixture")
    args = ap.parse_args()
    if args.retune:
        retune(args.out_dir, set(args.profiles.split(',')))
        return
    model, ck = load_model(args.config, args.checkpoint or [RUNS_DIR / args.config / 'best.pt'])
    args.out_dir.mkdir(parents=True, exist_ok=True)
    onnx_path = args.out_dir / 'piano.onnx'
    wrapped = ProbabilityModel(model).eval()
    dummy = torch.randn(1, 300, N_MELS)
    torch.onnx.export(wrapped, (dummy,), str(onnx_path), input_names=['mel'], output_names=OUTPUTS,
                      dynamic_axes={'mel': {0: 'batch', 1: 'frames'}, **{k: {0: 'batch', 1: 'frames'} for k in OUTPUTS}},
                      opset_version=17, dynamo=False)
    wrapped.eval()  # the exporter restores the wrapper's mode, which would re-enable dropout
    with torch.no_grad():
        ref = [t.numpy() for t in wrapped(dummy)]
    sess = ort.InferenceSession(str(onnx_path), providers=['CPUExecutionProvider'])
    got = sess.run(OUTPUTS, {'mel': dummy.numpy()})
    err = max(float(np.abs(a - b).max()) for a, b in zip(ref, got))
    print(f'ONNX vs PyTorch max abs difference: {err:.2e}')
    assert err < 1e-4, err
    sha = hashlib.sha256(onnx_path.read_bytes()).hexdigest()
    if args.tune:
        thresholds, ensemble, solo, solo_ensemble, pedal = tune_thresholds(sess, head=args.out_dir / HEAD_FILE)
    else:
        thresholds = {'onset': ONSET_THRESHOLD, 'frame': FRAME_THRESHOLD, 'offset': OFFSET_THRESHOLD}
        ensemble = {'onsetWeight': 0.5, 'frameWeight': 0.5, 'thresholds': thresholds}
        solo, solo_ensemble, pedal = thresholds, ensemble, PEDAL_THRESHOLD
    manifest = {
        'name': 'piano',
        'version': f"0.3.0-{args.config}-step{ck['step']}" + (f'-swa{len(args.checkpoint)}' if args.checkpoint and len(args.checkpoint) > 1 else ''),
        'license': 'CC-BY-NC-SA-4.0 (conservatively: trained on renders of ASAP MIDI, CC BY-NC-SA 4.0; see MODEL_CARD.md)',
        'file': 'piano.onnx',
        'sha256': sha,
        'config': ck['config'],
        'trainingStep': ck['step'],
        'features': {'sampleRateHz': SAMPLE_RATE_HZ, 'hopSamples': HOP_SAMPLES, 'fftSize': N_FFT, 'melBins': N_MELS,
                     'fMinHz': F_MIN_HZ, 'fMaxHz': F_MAX_HZ, 'logFloor': LOG_FLOOR, 'window': 'hann-periodic',
                     'center': 'zero-pad', 'magnitude': 'abs', 'melScale': 'slaney', 'melNorm': 'slaney'},
        'input': 'mel',
        'outputs': {k: k for k in OUTPUTS},
        'minPitchMidi': MIN_MIDI,
        'keys': MAX_MIDI - MIN_MIDI + 1,
        'chunkFrames': CHUNK_FRAMES,
        'contextFrames': CONTEXT_FRAMES,
        # Decoding profiles: `thresholds` for a separated stem (the default), `solo` for a recording
        # of the piano alone; the same two for the piano-ensemble (training/fusion.py, ensemble.ts).
        'thresholds': {**thresholds, 'pedal': pedal},
        'solo': {'thresholds': solo},
        'ensemble': {**ensemble, 'with': 'basic-pitch', 'solo': solo_ensemble},
    }
    (args.out_dir / 'manifest.json').write_text(json.dumps(manifest, indent=2) + '\n')
    print(f'wrote {onnx_path} ({onnx_path.stat().st_size} bytes) and manifest.json')
    write_fixture(sess, manifest, args.out_dir)


def retune(model_dir: Path, profiles: set[str]) -> None:
    """Decoding settings chosen again for the shipped weights (checkpoints are not kept in git)."""
    manifest_path = model_dir / 'manifest.json'
    manifest = json.loads(manifest_path.read_text())
    onnx_path = model_dir / manifest['file']
    if hashlib.sha256(onnx_path.read_bytes()).hexdigest() != manifest['sha256']:
        raise SystemExit(f'{onnx_path} does not match its manifest checksum')
    sess = ort.InferenceSession(str(onnx_path), providers=['CPUExecutionProvider'])
    old_pedal = manifest['thresholds'].get('pedal', PEDAL_THRESHOLD)
    thresholds, ensemble, solo, solo_ensemble, pedal = tune_thresholds(sess, profiles, model_dir / HEAD_FILE, old_pedal)
    old_ensemble = manifest.get('ensemble', {})
    manifest['thresholds'] = {**(thresholds if 'separated' in profiles else manifest['thresholds']), 'pedal': pedal}
    if 'separated' in profiles:
        old_ensemble = {**old_ensemble, **ensemble}
    if 'solo' in profiles:
        manifest['solo'] = {'thresholds': solo}
        old_ensemble = {**old_ensemble, 'solo': solo_ensemble}
    manifest['ensemble'] = {**old_ensemble, 'with': old_ensemble.get('with', 'basic-pitch')}
    manifest_path.write_text(json.dumps(manifest, indent=2) + '\n')
    print(f'rewrote {manifest_path}')
    write_fixture(sess, manifest, model_dir)


SEPARATED_DIR = REPO_ROOT / 'training' / 'data' / 'separated-val'
# The onset-support grid: (frames averaged, minimum mean frame posterior); (4, 0.0) is off.
SUPPORTS = [(4, 0.0)] + [(w, s) for w in (4, 6) for s in (0.15, 0.2, 0.25)]
# The harmonic-ghost grid: (confidence below which a note may be a ghost, ratio); (0, 1) is off.
GHOSTS = [(0.0, 1.0)] + [(c, r) for c in (0.4, 0.5, 0.6) for r in (0.6, 0.7, 0.8)]

# The minimum note duration grid, seconds (decode.py `apply_minimum_duration`); 0 is off.
MIN_DURATIONS = (0.0, 0.04, 0.06, 0.08, 0.1)

# How far a note released under the pedal may be held (decode.py `hold_under_pedal`), seconds. The hold
# itself is the product's convention, never switched off here (the renders' truth, human key releases under
# the pedal, would always vote against it); only its reach is chosen, the smallest of the best.
PEDAL_HOLDS = (0.5, 1.0, 2.0, 3.0)

# Cached per tuning example: our posteriors, basic-pitch's (onset, note), reference notes (onset, key release, pitch).
Cache = list[tuple[dict[str, np.ndarray], tuple[np.ndarray, np.ndarray], np.ndarray]]


def augmented_val(segment_dir: Path = SEGMENT_DIR) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The rendered validation set (held-out works and timbre; never MAPS) through the training
    augmentation (fixed seed), as (audio, reference notes: onset, key release, pitch): real input is
    never as clean as a render, and thresholds tuned on clean renders under-detect on real recordings."""
    from .data import Augmenter, Segments
    from .train import key_notes
    val = Segments('val', segment_dir)
    augment = Augmenter(Segments('leak', segment_dir), np.random.default_rng(2024))
    for i in range(len(val)):
        audio, notes, _ = val.get(i)
        yield augment(audio), key_notes(notes)


def clean_val_cache(sess: ort.InferenceSession) -> Cache:
    """The tuning set of the solo profile: `augmented_val` through both models."""
    mel, basic_pitch = LogMel(), BasicPitchPosteriors()
    return [(posteriors(audio, sess, mel), basic_pitch(audio), notes) for audio, notes in augmented_val()]


def separated_val_cache(sess: ort.InferenceSession) -> Cache | None:
    """training/separated-val.ts's set: held-out works in the held-out timbre, mixed with a band and
    separated (the product's default path); None when it has not been built. The separated stems
    then get the augmentation's room and noise (not its leaked instruments: separation leaves its
    own), for the reason the clean renders do: a rendered piano is drier and cleaner than a
    recorded one. (It changed only the offset threshold chosen: the onset threshold of 0.4 stayed,
    and it still costs 2.3 onset points on the e2e mixes with the recorded MAPS piano after htdemucs,
    55.8 -> 53.5, while the rendered ones gain 2.3.)"""
    import soundfile as sf
    from scipy.signal import resample_poly
    from .data import Augmenter
    wavs = sorted(p for p in SEPARATED_DIR.glob('*.wav') if not p.name.endswith(SEPARATED_SIBLINGS))
    if not wavs:
        return None
    mel, basic_pitch = LogMel(), BasicPitchPosteriors()
    augment = Augmenter(None, np.random.default_rng(2025))
    cache = []
    for wav in wavs:
        audio, sr = sf.read(str(wav), dtype='float32')
        g = gcd(SAMPLE_RATE_HZ, sr)
        ours = augment(resample_poly(audio, SAMPLE_RATE_HZ // g, sr // g).astype(np.float32))
        notes = np.loadtxt(wav.with_suffix('.notes.csv'), delimiter=',', ndmin=2)[:, :3]
        # A key pressed and released in one MIDI tick still sounds (the renderer gives it 1 ms); mir_eval
        # wants every interval positive.
        notes[:, 1] = np.maximum(notes[:, 1], notes[:, 0] + 1e-3)
        cache.append((posteriors(ours, sess, mel), basic_pitch(ours), notes))
    return cache


def tune_profile(cache: Cache, name: str, supports: list[tuple[int, float]],
                 head: Path | None = None, pedal_threshold: float = PEDAL_THRESHOLD) -> tuple[dict, dict]:
    """Our model's decoding settings and the piano-ensemble's fusion (training/fusion.py) on one
    tuning set. Onsets do not depend on the frame, offset and release settings: the onset threshold
    with the onset support (and the fusion's onset weight) first by note F1, then the onset threshold
    again with the harmonic-ghost rule (decode.py `drop_harmonic_ghosts`), then the rest by F1 with
    offsets. With `head` (an onset head, onset_head.py), the ensemble is also tuned with the head's
    onset posterior, and the head is kept if it gives the higher note F1."""
    from .train import note_scores
    fs = HOP_SAMPLES / SAMPLE_RATE_HZ

    def score(th: dict, key: str, w_on: float = 1.0, w_fr: float = 1.0, head_onsets: list | None = None) -> float:
        scores = []
        for i, (post, (bp_on, bp_note), n) in enumerate(cache):
            p = post if (w_on, w_fr) == (1.0, 1.0) else fuse(post, bp_on, bp_note, w_on, w_fr, fs)
            if head_onsets is not None:
                p = {**p, 'onset': head_onsets[i]}
            scores.append(note_scores(n, decode_with(p, fs, th, pedal_threshold))[key])
        return float(np.mean(scores))

    def settings(on: float, sup: tuple[int, float], ghost: tuple[float, float] = GHOSTS[0], fr: float = 0.5,
                 off: float = 0.5, fall: int = 0, min_dur: float = 0.0, hold: float = PEDAL_HOLD_SEC) -> dict:
        th = {'onset': on, 'frame': fr, 'offset': off, 'releaseFallFrames': fall}
        if sup[1] > 0:
            th = {**th, 'support': sup[1], 'supportFrames': sup[0]}
        if ghost[0] > 0:
            th = {**th, 'ghostConfidence': ghost[0], 'ghostRatio': ghost[1]}
        th = {**th, 'minDurationSec': min_dur} if min_dur > 0 else th
        return {**th, 'pedalHoldSec': hold}

    offsets, falls = (0.5, 0.7, 1.01), (0, 3)
    ours_onsets = (0.05, 0.1, 0.2, 0.3)
    # The onset threshold is chosen again with the ghost rule below; only the support is kept from here.
    _, sup = max([(t, sp) for t in ours_onsets for sp in supports], key=lambda x: score(settings(*x), 'f1'))
    on, ghost = max([(t, g) for t in ours_onsets for g in GHOSTS], key=lambda x: score(settings(x[0], sup, x[1]), 'f1'))
    fr, off, fall = max([(fr, off, f) for fr in (0.2, 0.3, 0.4, 0.5) for off in offsets for f in falls],
                        key=lambda x: score(settings(on, sup, ghost, *x), 'f1_off'))
    # The minimum duration only lengthens short notes: chosen last, with the release settings fixed.
    md = max(MIN_DURATIONS, key=lambda m: score(settings(on, sup, ghost, fr, off, fall, m), 'f1_off'))
    hold = max(PEDAL_HOLDS, key=lambda h: score(settings(on, sup, ghost, fr, off, fall, md, h), 'f1_off'))
    th = settings(on, sup, ghost, fr, off, fall, md, hold)
    print(f'{name}: ours alone {th}; F1 {score(th, "f1"):.3f}, with offsets {score(th, "f1_off"):.3f}', flush=True)

    def tune_ensemble(head_onsets: list | None) -> tuple[dict, float]:
        # The head takes the mean of the onsets inside it: only the frame weight is searched for it.
        ens_onsets, on_weights = ((0.1, 0.15, 0.2, 0.3, 0.4), (0.5,)) if head_onsets else ((0.2, 0.25, 0.3, 0.4), (0.7, 0.6, 0.5))
        w_on, _, e_sup = max([(w, t, sp) for w in on_weights for t in ens_onsets for sp in supports],
                             key=lambda x: score(settings(x[1], x[2]), 'f1', x[0], 0.5, head_onsets))
        e_on, e_ghost = max([(t, g) for t in ens_onsets for g in GHOSTS],
                            key=lambda x: score(settings(x[0], e_sup, x[1]), 'f1', w_on, 0.5, head_onsets))
        w_fr, e_fr, e_off, e_fall = max([(w, fr, off, f) for w in (0.7, 0.5, 0.3) for fr in (0.2, 0.3, 0.4)
                                         for off in offsets for f in falls],
                                        key=lambda x: score(settings(e_on, e_sup, e_ghost, *x[1:]), 'f1_off', w_on, x[0], head_onsets))
        e_md = max(MIN_DURATIONS, key=lambda m: score(settings(e_on, e_sup, e_ghost, e_fr, e_off, e_fall, m), 'f1_off',
                                                      w_on, w_fr, head_onsets))
        e_hold = max(PEDAL_HOLDS, key=lambda h: score(settings(e_on, e_sup, e_ghost, e_fr, e_off, e_fall, e_md, h), 'f1_off',
                                                      w_on, w_fr, head_onsets))
        eth = settings(e_on, e_sup, e_ghost, e_fr, e_off, e_fall, e_md, e_hold)
        f1 = score(eth, 'f1', w_on, w_fr, head_onsets)
        print(f'{name}: ensemble with basic-pitch{" and the onset head" if head_onsets else ""} '
              f'{eth} (weights {w_on} / {w_fr}); F1 {f1:.3f}, with offsets {score(eth, "f1_off", w_on, w_fr, head_onsets):.3f}', flush=True)
        return {'onsetWeight': w_on, 'frameWeight': w_fr, 'thresholds': eth}, f1

    ensemble, f1 = tune_ensemble(None)
    if head is not None and head.exists():
        from .onset_head import OnsetHeadRunner, stack_inputs
        runner = OnsetHeadRunner(head)
        with_head, f1_head = tune_ensemble([runner(stack_inputs(post, *bp)) for post, bp, _ in cache])
        if f1_head > f1:
            ensemble = {**with_head, 'onsetHead': head.name}
    return th, ensemble


def tune_thresholds(sess: ort.InferenceSession, profiles: set[str] = frozenset({'solo', 'separated'}),
                    head: Path | None = None, pedal: float = PEDAL_THRESHOLD) -> tuple[dict, dict, dict, dict, float]:
    """Decoding settings in two profiles, each chosen on its own tuning set, never on MAPS:
    `separated` (the manifest's `thresholds` and `ensemble`, the default) on the separated set of
    training/separated-val.ts, and `solo` (`solo`, `ensemble.solo`) on the augmented clean renders.
    Why two: the onset-support rule raised clean validation F1 0.790 -> 0.832 but cost the e2e
    mixes 5.8 points after separation, whose key-down posteriors are weaker. Without a separated set
    (a machine without Node), `separated` is tuned on the clean renders without the support rule.
    `head`: an onset head (onset_head.py) each profile's ensemble may use, if it tunes better with it.
    First, with `solo`, the sustain pedal's threshold on the augmented clean renders (choose_pedal_threshold;
    otherwise `pedal` is kept): the notes released under the pedal are held (decode.py hold_under_pedal),
    so every profile is decoded with it.
    Returns (thresholds, ensemble, solo thresholds, solo ensemble, pedal threshold); a profile not in
    `profiles` is returned empty."""
    clean: Cache | None = None
    solo_th, solo_ens, th, ens = {}, {}, {}, {}
    if 'solo' in profiles:
        clean = clean_val_cache(sess)
        pedal = choose_pedal_threshold(clean)
        solo_th, solo_ens = tune_profile(clean, f'solo ({len(clean)} augmented clean renders)', SUPPORTS, head, pedal)
    if 'separated' in profiles:
        separated = separated_val_cache(sess)
        if separated is None:
            print(f'no separated tuning set in {SEPARATED_DIR} (node_modules/.bin/tsx training/separated-val.ts): '
                  'the separated profile is tuned on the clean renders without onset support', flush=True)
            th, ens = tune_profile(clean or clean_val_cache(sess), 'separated (clean renders, no support)', SUPPORTS[:1],
                                   pedal_threshold=pedal)
        else:
            th, ens = tune_profile(separated, f'separated ({len(separated)} separated mixes)', SUPPORTS, head, pedal)
    return th, ens, solo_th, solo_ens, pedal


PEDAL_THRESHOLDS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def choose_pedal_threshold(cache: Cache, segment_dir: Path = SEGMENT_DIR) -> float:
    """The pedal posterior's threshold whose decoded spans (decode_pedal) best match the renders'
    pedal, by frame F1 over the tuning set (`augmented_val`'s order is the val segments'). Why: the
    spans go into the MIDI file and decide which notes are held (hold_under_pedal); 0.5 was only a
    default (2026-12-05: F1 0.802 at 0.5, 0.822 at 0.3)."""
    from .data import Segments, pedal_frames
    val = Segments('val', segment_dir)
    fs = HOP_SAMPLES / SAMPLE_RATE_HZ
    counts = {t: np.zeros(3) for t in PEDAL_THRESHOLDS}  # true positive, estimated, reference frames
    for i, (post, _, _) in enumerate(cache):
        pedal = post['pedal'].reshape(-1)
        ref = pedal_frames(val.get(i)[2], len(pedal), 1 / fs)  # the pedal head's training target
        for t in PEDAL_THRESHOLDS:
            est = pedal_frames(decode_pedal(pedal, fs, t), len(pedal), 1 / fs)
            counts[t] += ((est & ref).sum(), est.sum(), ref.sum())
    f1 = {t: 2 * c[0] / max(c[1] + c[2], 1) for t, c in counts.items()}
    best = max(PEDAL_THRESHOLDS, key=lambda t: f1[t])
    print('pedal threshold: ' + ', '.join(f'{t} F1 {v:.3f}' for t, v in f1.items()) + f'; chosen {best}', flush=True)
    return best



def ghost_case() -> dict:
    """Random notes (dense, many octaves and twelfths within the window) and the indices that
    decode.py's drop_harmonic_ghosts keeps, for the TS port's parity test."""
    rng = np.random.default_rng(11)
    n = 300
    notes = np.zeros((n, 5))
    notes[:, 0] = np.round(np.sort(rng.uniform(0, 3, n)), 6)
    notes[:, 1] = notes[:, 0] + 0.1
    notes[:, 2] = rng.integers(48, 73, n)
    notes[:, 4] = np.round(rng.uniform(0, 1, n), 6)
    onsets, pitches = notes[:, 0].tolist(), notes[:, 2].astype(int).tolist()
    kept = drop_harmonic_ghosts(np.column_stack([notes, np.arange(n)]), 0.5, 0.7)[:, 5].astype(int).tolist()
    return {'onsetSec': onsets, 'pitchMidi': pitches, 'confidence': notes[:, 4].tolist(), 'maxConfidence': 0.5,
            'ratio': 0.7, 'kept': kept}


def pedal_hold_case() -> dict:
    """Random notes (chords, repeated keys, gaps) and pedal spans, and the offsets that decode.py's
    hold_under_pedal gives them, for the TS port's parity test."""
    rng = np.random.default_rng(12)
    n = 200
    notes = np.zeros((n, 5))
    notes[:, 0] = np.round(np.sort(rng.uniform(0, 20, n)), 6)
    notes[:, 1] = np.round(notes[:, 0] + rng.uniform(0.02, 0.4, n), 6)
    notes[:, 2] = rng.integers(55, 67, n)
    edges = np.round(np.sort(rng.uniform(0, 21, 16)), 6)
    spans = [(float(a), float(b)) for a, b in zip(edges[::2], edges[1::2])]
    held = hold_under_pedal(notes, spans, 0.7)
    return {'onsetSec': notes[:, 0].tolist(), 'offsetSec': notes[:, 1].tolist(), 'pitchMidi': notes[:, 2].astype(int).tolist(),
            'pedal': [{'onsetSec': a, 'offsetSec': b} for a, b in spans], 'maxGapSec': 0.7, 'heldOffsetSec': held[:, 1].tolist()}


def onset_head_case(head: Path, channels: int = 5) -> dict:
    """The onset head (or a mix head, 10 channels) on a made-up input (a formula the TS test
    rebuilds) at a few probe frames, for the TS port's parity test: chunked there, whole here."""
    from .onset_head import OnsetHeadRunner
    frames, probes = 1100, [0, 5, 500, 999, 1000, 1006, 1099]
    c, t, k = np.meshgrid(np.arange(channels), np.arange(frames), np.arange(88), indexing='ij')
    x = (0.5 + 0.5 * np.sin(0.37 * t + 0.11 * k * (c + 1) + c)) ** 3
    out = OnsetHeadRunner(head)(x.astype(np.float32))
    return {'frames': frames, 'probeFrames': probes, 'onset': [[round(float(v), 6) for v in out[p]] for p in probes]}


def write_fixture(sess: ort.InferenceSession, manifest: dict, model_dir: Path = MODELS_DIR) -> None:
    """3 s of procedural material with the held-out timbre: Python features, posteriors, and the notes
    of our model and of the piano-ensemble, each with both decoding profiles of the manifest."""
    rng = np.random.default_rng(7)
    notes, _ = procedural(rng, 3.0)
    audio = Sampler(load_bank('musescore')).render(notes[:, :4], 3.0, rng)
    audio = np.round(audio / np.abs(audio).max() * 0.5 * 32767).astype(np.int16)
    FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    (FIXTURE_DIR / 'piano-parity.s16').write_bytes(audio.astype('<i2').tobytes())
    x = torch.from_numpy(audio.astype(np.float32) / 32768.0)[None]
    mel = LogMel()(x)[0].numpy()
    post = run_chunked(sess, mel)
    fs = HOP_SAMPLES / SAMPLE_RATE_HZ
    bp = BasicPitchPosteriors()(audio.astype(np.float32) / 32768.0)

    pedal = manifest['thresholds'].get('pedal', PEDAL_THRESHOLD)

    def ensemble_notes(fusion: dict) -> np.ndarray:
        return decode_with(fuse_config(post, *bp, fusion, fs, model_dir), fs, fusion['thresholds'], pedal)

    def as_json(est: np.ndarray) -> list[dict]:
        return [{'onsetSec': round(float(n[0]), 6), 'offsetSec': round(float(n[1]), 6), 'pitchMidi': int(n[2]),
                 'velocity': int(n[3])} for n in est]
    ensemble = manifest['ensemble']
    est = decode_with(post, fs, manifest['thresholds'], pedal)
    probe_frames = [0, 1, 37, 75, 120, len(mel) - 1]
    fixture = {
        'sampleRateHz': SAMPLE_RATE_HZ,
        'frames': len(mel),
        'probeFrames': probe_frames,
        'mel': [[round(float(v), 5) for v in mel[t]] for t in probe_frames],
        'posteriors': {k: [[round(float(v), 6) for v in post[k][t]] for t in probe_frames] for k in OUTPUTS},
        'notes': as_json(est),
        'ensembleNotes': as_json(ensemble_notes(ensemble)),
        'soloNotes': as_json(decode_with(post, fs, manifest['solo']['thresholds'], pedal)),
        'soloEnsembleNotes': as_json(ensemble_notes(ensemble['solo'])),
        'pedal': [{'onsetSec': round(a, 6), 'offsetSec': round(b, 6)}
                  for a, b in decode_pedal(post['pedal'][:, 0], fs, pedal)],
        'referenceNotes': [{'onsetSec': float(n[0]), 'offsetSec': float(n[4]), 'pitchMidi': int(n[2])} for n in notes],
        'ghostCase': ghost_case(),
        'pedalHoldCase': pedal_hold_case(),
    }
    if (model_dir / HEAD_FILE).exists():
        fixture['onsetHeadCase'] = onset_head_case(model_dir / HEAD_FILE)
    (FIXTURE_DIR / 'piano-parity.json').write_text(json.dumps(fixture) + '\n')
    from .train import key_notes, note_scores
    f1 = note_scores(key_notes(notes), est[:, :3])['f1'] if len(est) else 0.0
    print(f'fixture: {len(mel)} frames, {len(est)} decoded notes, {len(notes)} reference notes, note F1 {f1:.3f}')


if __name__ == '__main__':
    main()
