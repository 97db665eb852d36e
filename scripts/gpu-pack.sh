#!/usr/bin/env bash
# Builds the GPU test and benchmark binaries here (nvcc, sm_90) and packs them,
# with every shared library they load, into .devrt/ for a GPU machine that has
# the CUDA driver but none of our Debian packages. Then, on that machine, from
# the repository root: scripts/gpu-check.sh .devrt
#   usage: scripts/gpu-pack.sh [BUILD_DIR]   (default build-gpu)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-gpu}
pack=.devrt
shared_tools=../shared/tools/device-pack.sh
[ -x "$shared_tools" ] || { echo "gpu-pack: $shared_tools not found (it sits beside the checkout)" >&2; exit 2; }
grep -qx '/.devrt/' .git/info/exclude 2>/dev/null || echo '/.devrt/' >> .git/info/exclude

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DHM_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90 >/dev/null
targets=(hashmatch hm_gpu_tests hm_tests hm_bench_pdq_cuda hm_bench_hamming_cuda)
ninja -C "$build" "${targets[@]}"

rm -rf "$pack" && mkdir -p "$pack/bin"
for exe in "$build/cli/hashmatch" "$build/tests/hm_gpu_tests" "$build/tests/hm_tests" "$build/bench/hm_bench_pdq_cuda" \
           "$build/bench/hm_bench_hamming_cuda"; do
  strip -o "$pack/bin/$(basename "$exe")" "$exe"
done
"$shared_tools" "$pack" "$pack"/bin/*
# The tests find their data at the path they were built with.
echo "$PWD/tests/data" > "$pack/test_data_path"
du -sh "$pack"
