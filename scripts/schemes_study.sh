#!/usr/bin/env bash
# The schemes study (configs/sweeps/schemes.json): BP, fa, sign, ssfa, EfficientGrad at P = 0.9 and
# gradient filtering (vanilla, R = 2, R = 4 on the last 4 layers) on ResNet-20 Fashion-MNIST, each
# simulated with the separate and the interleaved backward schedule.
#
# Gradient filtering fine-tunes a pretrained network, as its paper does: this script first
# pretrains ResNet-20 with BP on one part of the training set (--pretrain-range, default images
# [0, 30000)), then runs the sweep with every scheme trained on the other part (--train-range,
# default [30000, 60000)) and the filtering grid's init_from pointing at that pretraining.
#
# usage: scripts/schemes_study.sh [--out DIR] [--jobs N] [--data-dir DIR] [--epochs N]
#                                 [--width W] [--pretrain-range B:E] [--train-range B:E]
#                                 [--build DIR]
set -euo pipefail

# The whole script is one function, read in full before it runs: a study takes hours, and a script
# file replaced meanwhile (a checkout, a merge) must not change the commands of the running one.
main() {
prog="schemes_study.sh"
die() {
  echo "$prog: $*" >&2
  exit 1
}
usage() {
  cat <<'EOF'
usage: scripts/schemes_study.sh [options]
  --out DIR             output folder (default out/schemes_study in the repository, which
                        configs/sweeps/schemes.json's init_from names); must be new, empty or one
                        this script made (it holds the marker file .schemes-study)
  --jobs N              trainings / simulations run at once by the sweep (default: number of cores)
  --data-dir DIR        Fashion-MNIST folder (default: the training config's,
                        /usr/share/datasets/fashion-mnist)
  --epochs N            epochs of the pretraining and of every scheme's training (default 5)
  --width W             channel width multiplier of ResNet-20 (default 0.25, as schemes.json)
  --pretrain-range B:E  training images [B, E) of the pretraining (default 0:30000)
  --train-range B:E     training images [B, E) every scheme trains or fine-tunes on (default
                        30000:60000); must not overlap the pretraining's
  --build DIR           build folder holding bin/egtrain and bin/egsim (default build)
Re-running into the same folder with the same options resumes: a finished pretraining is kept and
the sweep skips the points it has finished. Other options need a new folder.
EOF
}

repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/out/schemes_study"
jobs=$(nproc 2>/dev/null || echo 1)
data_dir=""
epochs=5
width=0.25
pretrain_range="0:30000"
train_range="30000:60000"
build="$repo/build"
# The training config's mini-batch (configs/train/resnet20_fashion_mnist.json), which sets the
# number of mini-batches per epoch and so the traced (last) one.
batch=64

posint() {  # name value: a whole number from 1 to 999999
  [[ "$2" =~ ^[1-9][0-9]{0,5}$ ]] || die "$1: '$2' must be a whole number from 1 to 999999"
}
range() {  # name value: B:E, whole numbers, B < E
  [[ "$2" =~ ^(0|[1-9][0-9]{0,8}):([1-9][0-9]{0,8})$ ]] && ((BASH_REMATCH[1] < BASH_REMATCH[2])) ||
    die "$1: '$2' must be BEGIN:END, whole numbers with BEGIN below END"
}
while [ $# -gt 0 ]; do
  opt="$1"
  case "$opt" in
    -h | --help) usage; exit 0 ;;
    --out | --jobs | --data-dir | --epochs | --width | --pretrain-range | --train-range | --build)
      [ $# -ge 2 ] || die "$opt: needs a value"
      val="$2"
      shift 2 ;;
    *) die "unknown argument '$opt' (see --help)" ;;
  esac
  case "$opt" in
    --out) out="$val" ;;
    --jobs) posint --jobs "$val"; jobs="$val" ;;
    --epochs) posint --epochs "$val"; epochs="$val" ;;
    --data-dir) data_dir="$val" ;;
    --width)
      [[ "$val" =~ ^(0|[1-9][0-9]?)?(\.[0-9]{1,6})?$ && "$val" =~ [1-9] ]] ||
        die "--width: '$val' must be a positive number such as 1 or 0.25"
      width="$val" ;;
    --pretrain-range) range --pretrain-range "$val"; pretrain_range="$val" ;;
    --train-range) range --train-range "$val"; train_range="$val" ;;
    --build) build="$val" ;;
  esac
done
[ -n "$out" ] || die "--out: must name a folder"
pre_begin=${pretrain_range%:*} pre_end=${pretrain_range#*:}
tr_begin=${train_range%:*} tr_end=${train_range#*:}
# Fine-tuning on images the pretraining saw would not be the paper's protocol.
((pre_end <= tr_begin || tr_end <= pre_begin)) ||
  die "--train-range: $train_range overlaps --pretrain-range $pretrain_range"
((tr_end - tr_begin >= batch)) ||
  die "--train-range: $train_range holds fewer images than one mini-batch of $batch"
((pre_end - pre_begin >= batch)) ||
  die "--pretrain-range: $pretrain_range holds fewer images than one mini-batch of $batch"
if [ -n "$data_dir" ]; then
  [ -d "$data_dir" ] || die "--data-dir: $data_dir is not a folder"
  data_dir=$(cd "$data_dir" && pwd)
fi
egtrain="$build/bin/egtrain"
egsim="$build/bin/egsim"
[ -x "$egtrain" ] && [ -x "$egsim" ] ||
  die "$build/bin: egtrain and egsim not found; build them first" \
    "(cmake --build $build --target egtrain egsim)"
py=/usr/bin/python3
[ -x "$py" ] || die "$py: not found (it writes the study's copy of configs/sweeps/schemes.json)"
train_config="$repo/configs/train/resnet20_fashion_mnist.json"
sweep_config="$repo/configs/sweeps/schemes.json"

# ---- the output folder: new, empty, or marked as this script's
marker_name=".schemes-study"
marker_text="made by scripts/schemes_study.sh: it replaces only the files it wrote here"
# shellcheck source=study_folder.sh
. "$repo/scripts/study_folder.sh"
check_study_folder
# The settings a folder was made with: a resumed study must continue the same one.
settings="epochs $epochs, width $width, pretraining images $pretrain_range, training images"
data_text="the training config's"
[ -z "$data_dir" ] || data_text="$data_dir"
settings="$settings $train_range, data $data_text"
if [ -f "$out/settings.txt" ] && [ "$(cat "$out/settings.txt")" != "$settings" ]; then
  die "--out: $out was made with other options ($(cat "$out/settings.txt")); give a new folder"
fi
claim_study_folder
[ -f "$out/settings.txt" ] || echo "$settings" >"$out/settings.txt"
mkdir -p "$out/logs"

# ---- temporary folders of this run, removed however it ends
tmps=()
cleanup() {
  local p
  for p in "${tmps[@]}"; do
    case "$p" in "$out"/.tmp-*) rm -rf -- "$p" ;; esac
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Those of an earlier, interrupted run (this script's: the folder is marked, flock held).
for p in "$out"/.tmp-*; do
  if [ -e "$p" ]; then rm -rf -- "$p"; fi
done
export SC_COPYRIGHT_MESSAGE=DISABLE
last_line() { grep -v '^\s*$' "$1" | tail -n 1; }

# ---- 1. pretraining: BP on the pretraining images, trained whole or not kept
data_args=()
[ -z "$data_dir" ] || data_args=(--data-dir "$data_dir")
if [ -f "$out/pretrain/checkpoint.bin" ]; then
  echo "== pretraining: done ($out/pretrain)"
else
  echo "== pretraining: ResNet-20 (width $width), BP, $epochs epoch(s) of images $pretrain_range"
  tmp="$out/.tmp-pretrain-$$"
  tmps+=("$tmp")
  log="$out/logs/pretrain.log"
  # The mini-batch after the last: no trace (the pretraining is not simulated).
  if ! "$egtrain" --config "$train_config" "${data_args[@]}" --mode bp --pruning-rate 0 \
    --width "$width" --epochs "$epochs" --train-range "$pretrain_range" --threads 1 --seed 1 \
    --out "$tmp" >"$log" 2>&1; then
    die "egtrain failed for the pretraining ($log): $(last_line "$log")"
  fi
  [ -f "$tmp/checkpoint.bin" ] || die "the pretraining wrote no checkpoint.bin ($log)"
  rm -rf -- "$out/pretrain"
  mv -T "$tmp" "$out/pretrain"
fi

# ---- 2. the study's copy of schemes.json: its budget, its ranges, its pretraining
per_epoch=$(((tr_end - tr_begin) / batch))
trace_iteration=$((epochs * per_epoch))
tmp_config="$out/.tmp-schemes-$$.json"
tmps+=("$tmp_config")
"$py" - "$sweep_config" "$tmp_config" "$out/pretrain/checkpoint.bin" "$epochs" "$width" \
  "$trace_iteration" "$train_range" "$data_dir" "$train_config" <<'PY' || die "cannot write $out/schemes.json"
import json, os, sys
src, dst, checkpoint, epochs, width, trace_iteration, train_range, data_dir, train_config = sys.argv[1:]
with open(src) as f:
    c = json.load(f)
base = os.path.dirname(os.path.abspath(src))
t = c["training"]
t["config"] = train_config
t["epochs"] = int(epochs)
t["width"] = float(width)
t["trace_iteration"] = int(trace_iteration)
if data_dir:
    t["data_dir"] = data_dir
for g in c["grids"]:
    # The copy lives in the study folder: its paths are made absolute.
    g["hw_configs"] = [os.path.normpath(os.path.join(base, h)) for h in g["hw_configs"]]
    g["train_range"] = train_range
    if "init_from" in g:
        g["init_from"] = checkpoint
c["description"] += (" This run (scripts/schemes_study.sh): %s epoch(s), width %s, training"
                     " images %s, pretraining in %s." % (epochs, width, train_range,
                                                         os.path.dirname(checkpoint)))
with open(dst, "w") as f:
    json.dump(c, f, indent=2)
    f.write("\n")
PY
mv -f "$tmp_config" "$out/schemes.json"

# ---- 3. the sweep (resumable: finished points are skipped)
echo "== sweep: $out/schemes.json into $out/sweep, $jobs at once"
"$egsim" sweep --config "$out/schemes.json" --out "$out/sweep" --jobs "$jobs" \
  --egtrain "$egtrain" --egsim "$egsim" || die "the sweep failed (see $out/sweep/logs)"
echo "$prog: done; report in $out/sweep/report.html, table in $out/sweep/summary.csv"
}

main "$@"
exit $?
