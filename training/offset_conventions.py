"""How long the notes of two ground truths are held: MAPS (piano-midi.de's sequenced MIDI played
by a Disklavier) against ASAP's human performances (our training MIDI). A diagnostic, it chooses
nothing.

    python -m training.offset_conventions [--every 8]

For each note: its length, and its length over the time to the next later onset (IOI: the next
onset at least 30 ms after it and at least 50 ms away). A ratio near 1 is legato: the key is held
until the next note starts. Why it matters: F1 with offsets on MAPS rewards MAPS's convention.
Under the sustain pedal a key release makes no sound, so a transcriber can only guess that length
from the note lengths it was trained on (models/piano/MODEL_CARD.md, "Note ends and the MAPS
convention").
"""
from __future__ import annotations

import argparse

import numpy as np

from .config import SHARED_DATA
from .evaluate import MAPS_DIR, load_ref

MIN_GAP_SEC = 0.03  # onsets closer than this are one chord
MIN_IOI_SEC = 0.05


def hold_ratios(notes: np.ndarray) -> np.ndarray:
    """Notes [n, >=2] (onsetSec, offsetSec, ...) -> length / time to the next later onset, for the
    notes that have one."""
    onsets = np.unique(np.round(notes[:, 0], 2))
    nxt = np.searchsorted(onsets, notes[:, 0] + MIN_GAP_SEC)
    has = nxt < len(onsets)
    ioi = onsets[nxt[has]] - notes[has, 0]
    keep = ioi > MIN_IOI_SEC
    return (notes[has, 1] - notes[has, 0])[keep] / ioi[keep]


def summary(name: str, pieces: list[np.ndarray]) -> str:
    ratios = np.concatenate([hold_ratios(p) for p in pieces])
    lengths = np.concatenate([p[:, 1] - p[:, 0] for p in pieces])
    return (f'| {name} | {len(pieces)} | {len(lengths)} | {np.median(lengths):.3f} | {np.mean(lengths > 0.4) * 100:.0f} | '
            f'{np.median(ratios):.2f} | {np.mean(ratios >= 0.9) * 100:.0f} |')


def main() -> None:
    import pretty_midi
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--every', type=int, default=8, help='every Nth ASAP performance (all 1,067 take minutes)')
    args = ap.parse_args()
    maps = [load_ref(f) for f in sorted(MAPS_DIR.glob('*.tsv'))]
    asap = []
    for f in sorted((SHARED_DATA / 'midi' / 'asap').rglob('*.mid'))[::args.every]:
        pm = pretty_midi.PrettyMIDI(str(f))
        asap.append(np.array([(n.start, n.end) for inst in pm.instruments for n in inst.notes], np.float64))
    print('| ground truth | pieces | notes | median length, s | longer than 0.4 s, % | median length / IOI | held to the next onset (ratio >= 0.9), % |')
    print('|---|---|---|---|---|---|---|')
    print(summary('MAPS ENSTDkCl (piano-midi.de, sequenced)', maps))
    print(summary(f'ASAP performances (every {args.every}th; key releases)', asap))


if __name__ == '__main__':
    main()
