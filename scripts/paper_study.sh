#!/usr/bin/env bash
# The EfficientGrad study: which of its mechanisms buy how much of the paper's 2.44x throughput and
# 0.48x power, and how the gain moves with the pruning rate P.
#
# Trains ResNet-18 (CIFAR-10 shape) for a few mini-batches and writes the trace of the last one: BP,
# and EfficientGrad at P in {0, 0.5, 0.7, 0.8, 0.9, 0.95}. Simulates
#   - the cumulative ablation: configs derived from configs/hw/eyeriss_v2_bp.json by JSON edits, one
#     mechanism switched on per row (EfficientGrad trace at P = 0.9 from row 1 on);
#   - EfficientGrad on configs/hw/efficientgrad.json at every P against BP on the baseline;
# and writes ablation.{md,csv}, p_table.{md,csv}, study.html (chart + tables) and conclusion.md.
#
# usage: scripts/paper_study.sh [--out DIR] [--batch N] [--jobs N] [--data-dir DIR]
#                               [--iterations N] [--layers a,b,...] [--width W] [--build DIR]
set -euo pipefail

# The whole script is one function, read in full before it runs: a study takes long, and a script
# file replaced meanwhile (a checkout, a merge) must not change the commands of the running one.
main() {
start_ns=$(date +%s%N)
prog="paper_study.sh"
die() {
  echo "$prog: $*" >&2
  exit 1
}
usage() {
  cat <<'EOF'
usage: scripts/paper_study.sh [options]
  --out DIR         output folder (default out/paper_study in the repository); must be new,
                    empty or one this script made (it holds the marker file .paper-study)
  --batch N         mini-batch size of the traced iteration (default 8)
  --jobs N          trainings / simulations run at once (default: number of cores)
  --data-dir DIR    real CIFAR-10 (binary version: data_batch_1..5.bin, test_batch.bin);
                    without it, CIFAR-shaped (3x32x32) synthetic data
  --iterations N    mini-batches to train (default 10); the trace is of the last one. Seed 1 and
                    one thread per training: the same options give the same tables
  --layers a,b,...  simulate only these layers (default all; for quick looks and tests)
  --width W         channel width multiplier of ResNet-18 (default 1; below 1 for quick looks)
  --build DIR       build folder holding bin/egtrain and bin/egsim (default build)
Re-running into the same folder reuses the traces and simulations already there for the same
settings, so an interrupted study resumes.
EOF
}

((BASH_VERSINFO[0] > 5 || (BASH_VERSINFO[0] == 5 && BASH_VERSINFO[1] >= 1))) ||
  die "needs bash 5.1 or newer (for wait -p); this is $BASH_VERSION"
repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/out/paper_study"
batch=8
jobs=$(nproc 2>/dev/null || echo 1)
data_dir=""
iterations=10
layers=""
width=1
build="$repo/build"

posint() {  # name value: a whole number from 1 to 999999
  [[ "$2" =~ ^[1-9][0-9]{0,5}$ ]] || die "$1: '$2' must be a whole number from 1 to 999999"
}
while [ $# -gt 0 ]; do
  opt="$1"
  case "$opt" in
    -h | --help) usage; exit 0 ;;
    --out | --batch | --jobs | --data-dir | --iterations | --layers | --width | --build)
      [ $# -ge 2 ] || die "$opt: needs a value"
      val="$2"
      shift 2 ;;
    *) die "unknown argument '$opt' (see --help)" ;;
  esac
  case "$opt" in
    --out) out="$val" ;;
    --batch) posint --batch "$val"; batch="$val" ;;
    --jobs) posint --jobs "$val"; jobs="$val" ;;
    --iterations) posint --iterations "$val"; iterations="$val" ;;
    --data-dir) data_dir="$val" ;;
    --layers)
      [[ "$val" =~ ^[A-Za-z0-9_.]+(,[A-Za-z0-9_.]+)*$ ]] ||
        die "--layers: '$val' must be layer names separated by commas"
      layers="$val" ;;
    --width)
      [[ "$val" =~ ^(0|[1-9][0-9]?)?(\.[0-9]{1,6})?$ && "$val" =~ [1-9] ]] ||
        die "--width: '$val' must be a positive number such as 1 or 0.25"
      width="$val" ;;
    --build) build="$val" ;;
  esac
done
[ -n "$out" ] || die "--out: must name a folder"
egtrain="$build/bin/egtrain"
egsim="$build/bin/egsim"
[ -x "$egtrain" ] && [ -x "$egsim" ] ||
  die "$build/bin: egtrain and egsim not found; build them first" \
    "(cmake --build $build --target egtrain egsim)"
py=/usr/bin/python3
[ -x "$py" ] || die "$py: not found (the study's tables are written by scripts/paper_study.py)"
helper="$repo/scripts/paper_study.py"

data_args=()
if [ -n "$data_dir" ]; then
  [ -d "$data_dir" ] || die "--data-dir: $data_dir is not a folder"
  for f in data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin \
    test_batch.bin; do
    [ -f "$data_dir/$f" ] || die "--data-dir: $data_dir/$f not found (CIFAR-10 binary version)"
  done
  data_dir=$(cd "$data_dir" && pwd)
  data_tag="cifar10-$(printf '%s' "$data_dir" | sha256sum | cut -c1-8)"
  data_args=(--dataset cifar10 --data-dir "$data_dir" --train-subset "$((batch * iterations))"
    --test-subset 1)
  data_text="CIFAR-10 ($data_dir)"
else
  data_tag="synthetic"
  # As many samples as the trained mini-batches take, so the run is one epoch; one test sample
  # keeps the end-of-epoch evaluation negligible.
  data_args=(--dataset synthetic --synthetic-channels 3 --synthetic-height 32 --synthetic-width 32
    --synthetic-train-size "$((batch * iterations))" --synthetic-test-size 1)
  data_text="CIFAR-shaped synthetic data"
fi

# ---- the output folder: new, empty, or marked as this script's
marker_name=".paper-study"
marker_text="made by scripts/paper_study.sh: it replaces only the files it wrote here"
# shellcheck source=study_folder.sh
. "$repo/scripts/study_folder.sh"
check_study_folder
claim_study_folder
mkdir -p "$out/traces" "$out/train" "$out/sim" "$out/logs"

# ---- cleanup of this run's temporary folders and of the jobs it started
tmps=()
pids=()
cleanup() {
  local p
  # A job is a subshell running egtrain or egsim: stop the tool (its child) and then the job.
  # Background jobs ignore SIGINT in a script, so an interrupted study must stop them itself.
  for p in "${pids[@]}"; do
    pkill -TERM -P "$p" 2>/dev/null || true
    kill "$p" 2>/dev/null || true
  done
  wait 2>/dev/null || true
  for p in "${tmps[@]}"; do
    case "$p" in "$out"/*/.tmp-*) rm -rf -- "$p" ;; esac
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A trace is reused only when it was written by the same egtrain binary from the same training
# config and settings; a simulation only when the same egsim binary ran it (the helper adds the
# config's and its referenced files' contents, the trace and the layers).
train_id=$(cat "$egtrain" "$repo/configs/train/resnet18_cifar10.json" | sha256sum | cut -c1-10)
sim_id=$(sha256sum <"$egsim" | cut -c1-16)
settings="b${batch}_i${iterations}_w${width}_${data_tag}_${train_id}"
describe="ResNet-18, $data_text, batch $batch, trace of mini-batch $iterations"
[ "$width" = 1 ] || describe="$describe, width $width"
[ -z "$layers" ] || describe="$describe, layers $layers only"
export SC_COPYRIGHT_MESSAGE=DISABLE

echo "== $prog: $describe; output in $out"
"$py" "$helper" plan --repo "$repo" --out "$out" --egsim "$egsim" --settings "$settings" \
  --sim-id "$sim_id" --describe "$describe" --layers "$layers" || exit 1

# ---- a small job pool: at most $jobs tasks at once; a failed task's one-line error is kept
fail_file="$out/logs/.tmp-failed-$$"
tmps+=("$fail_file")
running=0
reap() {  # waits for one job; stops the study at the first failure (cleanup stops the rest)
  local rc=0 done_pid="" p left=()
  wait -n -p done_pid || rc=$?
  running=$((running - 1))
  # Forget the finished job, so cleanup never signals a process id the system has reused.
  for p in "${pids[@]}"; do [ "$p" = "$done_pid" ] || left+=("$p"); done
  pids=("${left[@]}")
  if [ "$rc" != 0 ] && [ ! -s "$fail_file" ]; then
    echo "a training or simulation job failed (exit code $rc)" >>"$fail_file"
  fi
  if [ -s "$fail_file" ]; then
    echo "$prog: $(head -n 1 "$fail_file")" >&2
    exit 1
  fi
}
launch() {
  while [ "$running" -ge "$jobs" ]; do reap; done
  "$@" &
  pids+=("$!")
  running=$((running + 1))
}
drain() {
  while [ "$running" -gt 0 ]; do reap; done
}
last_line() { grep -v '^\s*$' "$1" | tail -n 1; }

train() {  # name mode P
  local name="$1" mode="$2" p="$3" log="$out/logs/train_$1.log"
  local tmp="$out/traces/.tmp-$1-$$" tmp_run="$out/train/.tmp-$1-$$"
  if ! "$egtrain" --config "$repo/configs/train/resnet18_cifar10.json" "${data_args[@]}" \
    --batch "$batch" --iterations "$iterations" --trace-iteration "$iterations" --width "$width" \
    --mode "$mode" --pruning-rate "$p" --threads 1 --seed 1 --log-every 0 \
    --trace-out "$tmp" --out "$tmp_run" >"$log" 2>&1; then
    echo "egtrain failed for $name ($log): $(last_line "$log")" >>"$fail_file"
    return 1
  fi
  rm -rf -- "$out/train/$name"
  mv -T "$tmp_run" "$out/train/$name"
  mv -T "$tmp" "$out/traces/$name"
}
simulate() {  # key config trace
  local key="$1" config="$2" trace="$3" log="$out/logs/sim_$1.log" tmp="$out/sim/.tmp-$1-$$"
  local layer_args=()
  [ -z "$layers" ] || layer_args=(--layers "$layers")
  if ! "$egsim" run --config "$config" --trace "$out/traces/$trace" --out "$tmp" --no-check \
    --no-progress "${layer_args[@]}" >"$log" 2>&1; then
    echo "egsim run failed for $(basename "$config") on $trace ($log): $(last_line "$log")" \
      >>"$fail_file"
    return 1
  fi
  mv -T "$tmp" "$out/sim/$key"
}

# The plan's lines, read before any job starts (a job must not share the loop's input).
mapfile -t plan_lines <"$out/plan.tsv"
todo_train=()
todo_sim=()
for line in "${plan_lines[@]}"; do
  IFS=$'\t' read -r kind a b c <<<"$line"
  if [ "$kind" = train ] && [ ! -f "$out/traces/$a/manifest.json" ]; then
    todo_train+=("$line")
    tmps+=("$out/traces/.tmp-$a-$$" "$out/train/.tmp-$a-$$")
  elif [ "$kind" = sim ] && [ ! -f "$out/sim/$a/report.json" ]; then
    todo_sim+=("$line")
    tmps+=("$out/sim/.tmp-$a-$$")
  fi
done
n_train=${#todo_train[@]}
n_sim=${#todo_sim[@]}
echo "== training: $n_train of $(grep -c '^train' "$out/plan.tsv") traces to write, $jobs at once"
for line in "${todo_train[@]}"; do
  IFS=$'\t' read -r kind a b c <<<"$line"
  launch train "$a" "$b" "$c" </dev/null
done
drain
echo "== simulating: $n_sim of $(grep -c '^sim' "$out/plan.tsv") distinct runs to do, $jobs at once"
for line in "${todo_sim[@]}"; do
  IFS=$'\t' read -r kind a b c <<<"$line"
  launch simulate "$a" "$b" "$c" </dev/null
done
drain

echo
"$py" "$helper" tables --out "$out" || exit 1
end_ns=$(date +%s%N)
wall=$(((end_ns - start_ns) / 1000000))
printf '\n%s: wall time %d.%03d s (%d trace(s) written, %d simulation(s) run, --jobs %d);' \
  "$prog" $((wall / 1000)) $((wall % 1000)) "$n_train" "$n_sim" "$jobs"
printf ' tables in %s\n' "$out"
}

main "$@"
exit $?
