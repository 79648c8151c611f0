#!/usr/bin/env bash
# The note-level beat model (models/beats-notes, issue #5) at GPU size, in one device command, from the
# repository root of the device's copy, with training/data/gpu-kit-beats carried along (built here by
# `python -m training.beats.kit pack`: every ASAP performance's notes and beat annotations, 15 MB).
# What comes back, in $OUT:
#   beats-notes/beats.onnx, beats-notes/manifest.json   the best checkpoint (validation loss), exported
#   best.pt, log.json, log.txt                          the best checkpoint, the validation log, this output
# Score the ONNX file back here with the pipeline's fusion and decoder:
#   npx tsx bench/beatsTune.ts --grid fuse-pipeline --model-dir <files_at>/beats-notes [--fold test]
#
#   bash training/gpu/beats.sh [MINUTES]     # default 7: inside one 10-minute device command
#
# Environment (defaults): DEVICE (cuda), CONFIG (crnn192), BATCH (64), WORKERS (14), WARP (0.5, the
# rubato augmentation's probability), LR (1e-3), VAL_EVERY (250), INIT (empty: from scratch; an ONNX
# file or checkpoint of the same config), TRAIN_ARGS (more note_train options), PY (python3).
# SMALL=1 is the smoke test for a CPU machine: crnn96, batch 4, 2 workers, 0.5 minutes, val every 60.
set -euo pipefail

MINUTES=${1:-7}
: "${OUT:?set OUT to the folder whose files come back}"
KIT=training/data/gpu-kit-beats/asap-beats.npz.xz
if [ "${SMALL:-0}" = 1 ]; then
  DEVICE=${DEVICE:-cpu} CONFIG=${CONFIG:-crnn96} BATCH=${BATCH:-4} WORKERS=${WORKERS:-2} VAL_EVERY=${VAL_EVERY:-60}
  MINUTES=${1:-0.5}
fi
DEVICE=${DEVICE:-cuda} CONFIG=${CONFIG:-crnn192} BATCH=${BATCH:-64} WORKERS=${WORKERS:-14} WARP=${WARP:-0.5}
LR=${LR:-1e-3} VAL_EVERY=${VAL_EVERY:-250} INIT=${INIT:-} PY=${PY:-python3}
RUN=training/runs/beats-notes-gpu
export PYTHONUNBUFFERED=1 PYTHONPATH=.${PYTHONPATH:+:$PYTHONPATH}
# The parsed-data cache lives outside the copy, so a CPU machine's own cache is never overwritten.
export BEATS_CACHE=${BEATS_CACHE:-/tmp/stemscribe-beats-gpu/asap-notes.pkl}

mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1  # under $OUT from the first line: it comes back even if killed
tee_pid=$!
trap 'exec >&- 2>&-; wait $tee_pid 2>/dev/null || true' EXIT
stage() { echo "== $(date +%T) +${SECONDS}s $*"; }

[ -e "$KIT" ] || { echo "no $KIT: build it with python -m training.beats.kit pack and carry it"; exit 1; }
$PY -c 'import torch, onnx; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
stage "unpack"
$PY -m training.beats.kit unpack "$KIT"

stage "train $CONFIG on $DEVICE for $MINUTES minutes"
# shellcheck disable=SC2086  # TRAIN_ARGS is a list of options
$PY -m training.beats.note_train --config "$CONFIG" --device "$DEVICE" --batch "$BATCH" --workers "$WORKERS" \
  --warp "$WARP" --lr "$LR" --val-every "$VAL_EVERY" --minutes "$MINUTES" --threads 4 --run-dir "$RUN" \
  ${INIT:+--init "$INIT"} ${TRAIN_ARGS:-}
for f in best.pt log.json; do  # before the export, so they come back even if it runs out of time; last.pt (with Adam's moments) is too big to carry back in
  [ ! -e "$RUN/$f" ] || cp "$RUN/$f" "$OUT/"
done

stage "export"
ckpt=$RUN/best.pt
[ -e "$ckpt" ] || ckpt=$RUN/last.pt
if $PY -c 'import onnxruntime' 2>/dev/null; then
  $PY -m training.beats.note_export --checkpoint "$ckpt" --out-dir "$OUT/beats-notes" --fixture '' --version 0.3.0
else  # the GPU image has no onnxruntime: export here from best.pt (note_export --checkpoint)
  echo "no onnxruntime: export best.pt back on the CPU machine"
fi
stage "done"
ls -l "$OUT"
