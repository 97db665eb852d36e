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
timeout 240 "$tests" --gtest_output="xml:$out/gpu_tests.xml" > "$out/gpu_tests.log" 2>&1
tests_status=$?
grep -E '^\[ *(OK|FAILED|SKIPPED) *\]' "$out/gpu_tests.log" | tail -60

# GPU hosts usually have AVX-512 CPUs, which CI and the build machine lack:
# run the CPU search kernels' tests there too (their AVX-512 cases skip elsewhere).
cpu_tests="$bin/hm_tests"; [ -x "$cpu_tests" ] || cpu_tests="$src/tests/hm_tests"
if [ -x "$cpu_tests" ]; then
  echo "== CPU search kernels on this CPU"
  timeout 120 "$cpu_tests" --gtest_filter='HammingCpu*:FlatIndex*:MihIndex*:*ExactIndexTypes*:Matcher*' \
    > "$out/cpu_search_tests.log" 2>&1
  echo "cpu search tests: exit $?, $(grep -c '^\[       OK \]' "$out/cpu_search_tests.log") passed, $(grep -cE '^\[  SKIPPED \] .*\([0-9]+ ms\)' "$out/cpu_search_tests.log") skipped"
  grep -E '^\[  (FAILED|SKIPPED) ' "$out/cpu_search_tests.log" | head -20
fi

echo "== benchmarks"
timeout 90 "$bench_pdq" --benchmark_min_time=0.2 \
  --benchmark_out="$out/bench_pdq.json" --benchmark_out_format=json 2>&1 | tail -20
timeout 120 "$bench_ham" --benchmark_min_time=0.2 \
  --benchmark_out="$out/bench_hamming.json" --benchmark_out_format=json 2>&1 | tail -20

echo "== summary"
python3 - "$out" "$tests_status" <<'PY'
import json, os, sys
import xml.etree.ElementTree as ET
out, status = sys.argv[1:3]
passed = failed = skipped = 0
try:
    for case in ET.parse(os.path.join(out, "gpu_tests.xml")).iter("testcase"):
        if case.find("failure") is not None: failed += 1
        elif case.get("result") == "skipped" or case.find("skipped") is not None: skipped += 1
        else: passed += 1
except Exception as e:
    print("no test XML:", e)
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
