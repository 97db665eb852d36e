#!/usr/bin/env bash
# The one script to run on a GPU machine: the GPU parity tests (ctest label
# gpu) and the GPU benchmarks, then a short table. Finishes in under 8 minutes.
#   scripts/gpu-check.sh .devrt     binaries packed here by scripts/gpu-pack.sh
#   scripts/gpu-check.sh BUILD_DIR  a CUDA build made on the GPU machine itself
# Logs and benchmark JSON go to $OUT (when set) or gpu-check-out/.
set -uo pipefail
cd "$(dirname "$0")/.."
src=${1:-.devrt}
out=${OUT:-gpu-check-out}
mkdir -p "$out"
if [ -f "$src/env.sh" ]; then
  # shellcheck disable=SC1091
  source "$src/env.sh"
  bin="$src/bin"; tests="$bin/hm_gpu_tests"; bench_pdq="$bin/hm_bench_pdq_cuda"
  bench_ham="$bin/hm_bench_hamming_cuda"; cli="$bin/hashmatch"
  data=$(cat "$src/test_data_path")
  if [ ! -d "$data" ]; then  # built elsewhere: show the data where the binaries look for it
    mkdir -p "$(dirname "$data")" && ln -sfn "$PWD/tests/data" "$data"
  fi
else
  bin="$src"; tests="$src/tests/hm_gpu_tests"; bench_pdq="$src/bench/hm_bench_pdq_cuda"
  bench_ham="$src/bench/hm_bench_hamming_cuda"; cli="$src/cli/hashmatch"
fi

nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv,noheader | tee "$out/device.txt"
"$cli" info | tee "$out/info.txt"

echo "== parity tests (label gpu)"
timeout 300 "$tests" --gtest_brief=0 > "$out/gpu_tests.log" 2>&1
tests_status=$?
grep -E '^\[ *(OK|FAILED|SKIPPED) *\]' "$out/gpu_tests.log" | grep -v ' tests\?, listed below' | tail -40
passed=$(grep -c '^\[       OK \]' "$out/gpu_tests.log")
failed=$(grep -E '^\[  FAILED  \] [A-Za-z]' "$out/gpu_tests.log" | grep -vc 'listed below')
skipped=$(grep -c '^\[  SKIPPED \]' "$out/gpu_tests.log")

echo "== benchmarks"
timeout 120 "$bench_pdq" --benchmark_filter='Cuda' --benchmark_min_time=0.5 \
  --benchmark_out="$out/bench_pdq.json" --benchmark_out_format=json 2>&1 | tail -20
timeout 150 "$bench_ham" --benchmark_filter='Cuda' --benchmark_min_time=0.5 \
  --benchmark_out="$out/bench_hamming.json" --benchmark_out_format=json 2>&1 | tail -20

echo "== summary"
python3 - "$out" "$passed" "$failed" "$skipped" "$tests_status" <<'PY'
import json, os, sys
out, passed, failed, skipped, status = sys.argv[1:6]
device = open(os.path.join(out, "device.txt")).read().strip()
def load(name):
    try:
        return json.load(open(os.path.join(out, name)))["benchmarks"]
    except Exception:
        return []
rows = [("device", device), ("gpu tests", f"{passed} passed, {failed} failed, {skipped} skipped (exit {status})")]
for b in load("bench_pdq.json"):
    if "items_per_second" in b:
        rows.append((b["name"], f"{b['items_per_second']:.4g} frames/s"))
for b in load("bench_hamming.json"):
    if "items_per_second" in b:
        extra = f", {b['ceiling_pct']:.1f}% of the popcount ceiling" if "ceiling_pct" in b else ""
        rows.append((b["name"], f"{b['items_per_second']:.4g} comparisons/s{extra}"))
width = max(len(k) for k, _ in rows)
for k, v in rows:
    print(f"{k:<{width}}  {v}")
PY
