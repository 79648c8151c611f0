#!/usr/bin/env bash
# The one command a GPU session runs (training/README.md, "On the GPU machine"), from the repository
# root of the device's copy, with the kit that `python -m training.gpu.make_kit` built here carried
# along (training/data/gpu-kit). It installs the kit's wheels if the image lacks them, unpacks the
# sampled banks and the ASAP training MIDI, bakes the six additive banks, renders the training set
# in WORKERS processes, fine-tunes the shipped model (models/piano/piano.onnx, or the kit's
# last.pt to resume a run) on the GPU for MINUTES, and exports it untuned. What comes back, in $OUT:
#   piano/piano.onnx, piano/manifest.json   the exported model, thresholds 0.5 (re-tune them here)
#   last.pt, best.pt                        checkpoints: last.pt to resume, best.pt the one exported
#   log.txt, log.tsv                        this script's output, training's validation log
#
#   bash training/gpu/run.sh [MINUTES]      # default 5
#
# The whole run stays under BUDGET_MIN (default 8.5) minutes: training gets what the steps before
# it left, less 1.5 minutes for its start and the export. Environment (defaults): DEVICE (cuda),
# WORKERS (14), ASAP / PROCEDURAL / VAL / LEAK render counts (3200 / 800 / 40 / 100: 22 h, as here),
# CONFIG (small: the shipped model's), INIT (models/piano/piano.onnx, the weights a new run starts
# from; empty: from scratch, e.g. with CONFIG=full), RUN (gpu: the folder under training/runs),
# THREADS (4, torch's CPU threads in training), TRAIN_ARGS (more training options, e.g. "--lr 5e-4"),
# PY (python3).
# SMALL=1 is the smoke test for a CPU machine: DEVICE=cpu, 2 workers, 8 training excerpts, 1 thread.
set -euo pipefail

MINUTES=${1:-5}
: "${OUT:?set OUT to the folder whose files come back}"
KIT=training/data/gpu-kit
if [ "${SMALL:-0}" = 1 ]; then
  DEVICE=${DEVICE:-cpu} WORKERS=${WORKERS:-2} ASAP=${ASAP:-6} PROCEDURAL=${PROCEDURAL:-2} VAL=${VAL:-4}
  LEAK=${LEAK:-4} THREADS=${THREADS:-1}
fi
DEVICE=${DEVICE:-cuda} WORKERS=${WORKERS:-14} ASAP=${ASAP:-3200} PROCEDURAL=${PROCEDURAL:-800}
VAL=${VAL:-40} LEAK=${LEAK:-100} CONFIG=${CONFIG:-small} RUN=${RUN:-gpu} THREADS=${THREADS:-4}
INIT=${INIT-models/piano/piano.onnx} PY=${PY:-python3} BUDGET_MIN=${BUDGET_MIN:-8.5}
export PYTHONUNBUFFERED=1

mkdir -p "$OUT"
exec > >(tee -a "$OUT/log.txt") 2>&1  # under $OUT from the first line: it comes back even if killed
tee_pid=$!
trap 'exec >&- 2>&-; wait $tee_pid 2>/dev/null || true' EXIT  # the log complete before the command returns
stage() { echo "== $(date +%T) +${SECONDS}s $*"; }

[ -d "$KIT" ] || { echo "no $KIT: build it with python -m training.gpu.make_kit and carry it"; exit 1; }
# This writes training/data/segments, which the CPU machine's own renders occupy: meant for a copy.
if [ -e training/data/segments/train.npz ] && [ "${FORCE:-0}" != 1 ]; then
  echo "training/data/segments/train.npz exists: this is not a fresh copy (FORCE=1 overwrites it)"; exit 1
fi

stage "packages"
if ! $PY -c 'import soundfile, pretty_midi, mido, mir_eval' 2>/dev/null; then
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site "$KIT"/wheels/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
$PY -c 'import soundfile, pretty_midi, mido, mir_eval, torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'

stage "banks and ASAP"
mkdir -p training/data/bank training/data/gpu-asap
cp "$KIT"/bank/* training/data/bank/
$PY -c "import tarfile; tarfile.open('$KIT/asap.tar.xz').extractall('training/data/gpu-asap', filter='data')" &
untar=$!  # Python's tarfile: the image need not have xz
quiet() { grep -v '^[a-z_0-9]*\.\(flac\|json\|ogg\) ' || true; }  # bank.py's closing list of every bank file
additive=()
for i in 0 1 2 3 4 5; do
  [ -e training/data/bank/additive$i.json ] || additive+=("additive$i")
done
if [ "${SMALL:-0}" = 1 ]; then  # one process: the CPU machine's cores are shared
  [ ${#additive[@]} = 0 ] || OMP_NUM_THREADS=1 $PY -m training.bank --only "$(IFS=,; echo "${additive[*]}")" | quiet
else  # one process per bank, ~the time of one
  pids=()
  for b in "${additive[@]}"; do
    OMP_NUM_THREADS=1 $PY -m training.bank --only "$b" | quiet &
    pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p"; done
fi
wait $untar

stage "render: $ASAP ASAP + $PROCEDURAL procedural excerpts in $WORKERS processes, $VAL val, $LEAK leak"
OMP_NUM_THREADS=1 $PY -m training.render --workers "$WORKERS" --asap "$ASAP" --procedural "$PROCEDURAL" --val "$VAL" \
  --leak "$LEAK" --data-dir training/data/gpu-asap

# Training gets the budget's rest, less 1.5 minutes for its start (segments, BatchNorm calibration)
# and the export.
TRAIN_MIN=$($PY -c "print(round(max(0.2, min($MINUTES, $BUDGET_MIN - $SECONDS / 60 - 1.5)), 2))")
stage "train $CONFIG on $DEVICE for $TRAIN_MIN minutes (asked: $MINUTES)"
if [ -e "$KIT/last.pt" ]; then  # train.py resumes from the run folder's last.pt (then ignores --init-from)
  mkdir -p "training/runs/$RUN"
  cp "$KIT/last.pt" "training/runs/$RUN/last.pt"
fi
# shellcheck disable=SC2086  # TRAIN_ARGS is a list of options
$PY -m training.train --config "$CONFIG" --device "$DEVICE" ${INIT:+--init-from "$INIT"} --minutes "$TRAIN_MIN" \
  --run "$RUN" --threads "$THREADS" ${TRAIN_ARGS:-}
for f in last.pt best.pt log.tsv; do  # before the export, so they come back even if it runs out of time
  [ ! -e "training/runs/$RUN/$f" ] || cp "training/runs/$RUN/$f" "$OUT/"
done

stage "export"
ckpt=training/runs/$RUN/best.pt
# No best.pt: no validation ran (a very short run), or a resumed run never beat the carried best.
[ -e "$ckpt" ] || ckpt=training/runs/$RUN/last.pt
$PY -m training.export --config "$CONFIG" --checkpoint "$ckpt" --out-dir "$OUT/piano" --no-tune
stage "done: exported $ckpt"
ls -l "$OUT" "$OUT/piano"
