#!/usr/bin/env bash
# Builds the libFuzzer harnesses of the input readers (tests/fuzz) with clang, ASan and UBSan in
# build-fuzz/, then runs each harness for SECONDS and prints a table of harness, seconds, runs and
# findings.
#
#   scripts/fuzz.sh SECONDS [HARNESS...]     (default: every harness, one after the other)
#
# Each harness starts from its checked-in seeds (tests/fuzz/corpus/<h>, read only) and past
# findings (tests/fuzz/regressions/<h>), and keeps what it learns in build-fuzz/corpus/<h>, so
# later runs continue where earlier ones stopped. Findings (crash-*, timeout-*, oom-*, leak-*:
# the input that caused them) go to build-fuzz/findings/<h>/; the log of each run to
# build-fuzz/logs/<h>.log; every run adds a line per harness to build-fuzz/history.tsv (date, commit,
# harness, seconds, runs, new findings). To keep a finding as a regression input that the normal test suite
# replays, copy it to tests/fuzz/regressions/<h>/ and fix the reader.
#
# Needs the packages of `scripts/setup.sh --fuzz`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-fuzz"
ALL=(npy trace trace_map hw_config dram_config energy sweep report idx cifar train_config checkpoint)

usage() {
  echo "usage: scripts/fuzz.sh SECONDS [HARNESS...]   harnesses: ${ALL[*]}" >&2
  exit 2
}
[ $# -ge 1 ] || usage
SECONDS_EACH="$1"
shift
[[ "$SECONDS_EACH" =~ ^[1-9][0-9]*$ ]] || usage
HARNESSES=("$@")
[ ${#HARNESSES[@]} -gt 0 ] || HARNESSES=("${ALL[@]}")
for h in "${HARNESSES[@]}"; do
  [[ " ${ALL[*]} " == *" $h "* ]] || { echo "fuzz: unknown harness '$h'" >&2; usage; }
done

# Limits that turn a reader's misbehaviour into a finding (each is a libFuzzer flag):
# - one input may take at most TIMEOUT seconds: the readers parse a few KiB in milliseconds, so
#   anything near this is a hang (20 s leaves room for ASan on a loaded 2-core machine);
# - one allocation may be at most MALLOC_MB: no valid input of these sizes needs more than a few
#   MiB, so a larger request is a size taken from the input unchecked;
# - the process may use at most RSS_MB in total (ASan's shadow and quarantine included).
TIMEOUT=20
MALLOC_MB=512
RSS_MB=2048
# Longest input per harness: a little over its largest seed, so the fuzzer can grow the seeds but
# spends its time on structure rather than on long random tails.
max_len() {
  case "$1" in
    cifar) echo 40000 ;;      # six files of whole 3073-byte records
    checkpoint) echo 32768 ;; # 10-23 KiB seeds: the tiny network plus its header
    *) echo 8192 ;;           # configs, manifests, reports: 0.1-4 KiB seeds
  esac
}

if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found; run scripts/setup.sh --fuzz first" >&2
  exit 1
fi
LAUNCHER=()
if command -v ccache >/dev/null; then LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEGSIM_BUILD_FUZZERS=ON -DEGSIM_BUILD_TESTS=OFF "${LAUNCHER[@]}" >/dev/null
targets=()
for h in "${HARNESSES[@]}"; do targets+=(--target "fuzz_$h"); done
cmake --build "$BUILD" -j"$(nproc)" "${targets[@]}" >/dev/null

# The harnesses write the files a reader takes by path into a scratch directory under TMPDIR:
# in memory when /dev/shm is available. Removed at the end, with what crashed runs left behind.
SCRATCH="$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo "${TMPDIR:-/tmp}")/egsim-fuzz.XXXXXX")"
trap 'rm -rf "$SCRATCH"' EXIT
# Findings newer than this file are this run's (the folder's own time changes with its contents).
STAMP="$SCRATCH/.start"
touch "$STAMP"

mkdir -p "$BUILD/findings" "$BUILD/logs" "$BUILD/corpus"
rows=()
total_findings=0
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
for h in "${HARNESSES[@]}"; do
  findings="$BUILD/findings/$h"
  mkdir -p "$findings" "$BUILD/corpus/$h"
  before=$(find "$findings" -type f | wc -l)
  dict=()
  [ -f "$ROOT/tests/fuzz/dict/$h.dict" ] && dict=(-dict="$ROOT/tests/fuzz/dict/$h.dict")
  seeds=("$ROOT/tests/fuzz/corpus/$h")
  [ -d "$ROOT/tests/fuzz/regressions/$h" ] && seeds+=("$ROOT/tests/fuzz/regressions/$h")
  log="$BUILD/logs/$h.log"
  echo "fuzz: $h for ${SECONDS_EACH}s (log: $log)"
  # Fork mode (-fork=1) runs the inputs in a child process and starts a new one after a finding,
  # so one crash does not end the run; -ignore_* keeps going after each kind of finding.
  set +e
  (cd "$findings" && TMPDIR="$SCRATCH" "$BUILD/fuzz/fuzz_$h" "$BUILD/corpus/$h" "${seeds[@]}" \
    "${dict[@]}" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time="$SECONDS_EACH" -timeout="$TIMEOUT" -malloc_limit_mb="$MALLOC_MB" \
    -rss_limit_mb="$RSS_MB" -max_len="$(max_len "$h")" -artifact_prefix="$findings/" \
    -print_final_stats=1) >"$log" 2>&1
  set -e
  # In fork mode each progress line reads "#<runs>: cov: ... time: <s>s job: ..."; the last one
  # has the totals.
  last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1)
  runs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
  cov=$(sed -E 's/.* cov: ([0-9]+) .*/\1/' <<<"$last")
  after=$(find "$findings" -type f | wc -l)
  new=$((after - before))
  total_findings=$((total_findings + new))
  rows+=("$(printf '%-12s %8s %12s %8s %9s' "$h" "$SECONDS_EACH" "${runs:-0}" "${cov:-?}" "$new")")
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$commit" "$h" "$SECONDS_EACH" \
    "${runs:-0}" "$new" >>"$BUILD/history.tsv"
done

echo
printf '%-12s %8s %12s %8s %9s\n' harness seconds runs coverage findings
for r in "${rows[@]}"; do echo "$r"; done
if [ "$total_findings" -gt 0 ]; then
  # One line per distinct problem: each new finding is replayed and grouped by its first
  # diagnostic (sanitizer report, uncaught exception, libFuzzer's timeout or memory message), with
  # quoted input text and addresses left out.
  echo
  echo "new findings by first diagnostic (count, harness, diagnostic, one input):"
  for h in "${HARNESSES[@]}"; do
    find "$BUILD/findings/$h" -type f -newer "$STAMP" | sort | while read -r input; do
      line=$(TMPDIR="$SCRATCH" timeout $((TIMEOUT * 2)) "$BUILD/fuzz/fuzz_$h" -timeout="$TIMEOUT" \
        -malloc_limit_mb="$MALLOC_MB" -rss_limit_mb="$RSS_MB" "$input" 2>&1 |
        grep -m1 -E 'runtime error|what\(\)|ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)' |
        sed -E 's#^[^ ]*/([^/ ]*: runtime error)#\1#; s/^.*(what\(\)|ERROR: )/\1/;
                s/ on (unknown )?address 0x[0-9a-f]+.*//; s/\x27[^\x27]*\x27/\x27...\x27/g' || true)
      printf '%s\t%s\t%s\n' "$h" "${line:-no diagnostic on replay}" "$input"
    done
  done | sort -t$'\t' -k1,2 | awk -F'\t' '
    { key = $1 "\t" $2; if (!(key in n)) { order[++k] = key; first[key] = $3 } n[key]++ }
    END { for (i = 1; i <= k; i++) { split(order[i], p, "\t");
          printf "%4d  %-12s %s\n      %s\n", n[order[i]], p[1], p[2], first[order[i]] } }'
  echo "(replay one: build-fuzz/fuzz/fuzz_<harness> FILE; keep it in tests/fuzz/regressions/<harness>/)"
  exit 1
fi
