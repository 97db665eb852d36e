#!/usr/bin/env bash
# Fuzzes the decoders and the PDQ sink with libFuzzer under AddressSanitizer
# and UBSan, starting from every decoder fixture and the small golden images.
# Only our code is instrumented for coverage (the codec libraries are the
# system's), so libFuzzer steers by what our decoders and sink do.
# Usage: scripts/fuzz.sh [SECONDS]  (default 60). Needs clang (apt-get install
# clang libclang-rt-14-dev). Crashes land in build-fuzz/crashes/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHM_CUDA=OFF -DHM_BUILD_TESTS=OFF -DHM_BUILD_BENCH=OFF \
  -DHM_BUILD_FUZZERS=ON \
  "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined" \
  "-DCMAKE_C_FLAGS=-fsanitize=address,undefined,fuzzer-no-link" >/dev/null
cmake --build build-fuzz --target hm_fuzz_decode --parallel "$(nproc)"
mkdir -p build-fuzz/corpus build-fuzz/crashes
seeds=(tests/data/decode tests/data/decode-jpeg)
# A few small golden images; the big ones only slow each run down.
for f in tests/data/pdq-golden/images/*; do
  [ "$(stat -c %s "$f")" -lt 60000 ] && cp -n "$f" build-fuzz/corpus/ 2>/dev/null || true
done
build-fuzz/tests/fuzz/hm_fuzz_decode build-fuzz/corpus "${seeds[@]}" \
  -max_total_time="$seconds" -max_len=200000 -timeout=10 -rss_limit_mb=4096 \
  -artifact_prefix=build-fuzz/crashes/ -print_final_stats=1
