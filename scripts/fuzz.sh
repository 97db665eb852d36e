#!/usr/bin/env bash
# Fuzzes every decoder and PDQ with libFuzzer under AddressSanitizer and
# UBSan: hm_fuzz_decode (format sniffing, any decoder), hm_fuzz_jpeg, _png,
# _webp, _gif, _bmp (one decoder each) and hm_fuzz_pdq (PdqSink and the fast
# kernel against the reference on fuzzer-chosen pixels). Each target starts
# from its committed seed corpus, tests/fuzz/corpus/<target>/; what it finds
# grows build-libfuzzer/corpus/<target>/. Only our code is instrumented for
# coverage (the codec libraries are the system's), so libFuzzer steers by what
# our decoders and sink do.
# Usage: scripts/fuzz.sh [SECONDS]  (per target; default 60). Needs clang and
# libclang-rt-14-dev (scripts/setup.sh installs them). Runs every target, then
# exits 1 if any crashed, listing each crashing input (in
# build-libfuzzer/crashes/<target>/); rerun one with
# build-libfuzzer/tests/fuzz/<target> FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
dir=build-libfuzzer
targets=(hm_fuzz_decode hm_fuzz_jpeg hm_fuzz_png hm_fuzz_webp hm_fuzz_gif hm_fuzz_bmp hm_fuzz_pdq)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
[ -f "$dir/CMakeCache.txt" ] && generator=()  # keep the generator it was made with
cmake -S . -B "$dir" "${generator[@]}" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHM_CUDA=OFF -DHM_BUILD_TESTS=OFF -DHM_BUILD_BENCH=OFF \
  -DHM_BUILD_FUZZERS=ON \
  "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined,fuzzer-no-link -fno-sanitize-recover=undefined" \
  "-DCMAKE_C_FLAGS=-fsanitize=address,undefined,fuzzer-no-link" >/dev/null
cmake --build "$dir" --target "${targets[@]}" --parallel "$(nproc)"

failed=()
for t in "${targets[@]}"; do
  mkdir -p "$dir/corpus/$t" "$dir/crashes/$t"
  echo "fuzz.sh: $t for ${seconds}s"
  # New inputs go to the first directory; the committed seeds are only read.
  if ! "$dir/tests/fuzz/$t" "$dir/corpus/$t" "tests/fuzz/corpus/$t" \
      -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=4096 \
      -artifact_prefix="$dir/crashes/$t/" -print_final_stats=1 >"$dir/$t.log" 2>&1; then
    failed+=("$t")
    tail -n 60 "$dir/$t.log"
  fi
  grep -E '^(stat::number_of_executed_units|stat::new_units_added)' "$dir/$t.log" || true
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: FAILED: ${failed[*]}; crashing inputs:"
  for t in "${failed[@]}"; do ls -1 "$dir/crashes/$t"/* 2>/dev/null | sed 's/^/  /'; done
  exit 1
fi
echo "fuzz.sh: ${#targets[@]} targets, no crash"
