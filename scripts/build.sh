#!/usr/bin/env bash
# Configures and builds hashmatch (Release) in build/, or with --sanitize an
# AddressSanitizer + UBSan build in build-sanitize/. Extra arguments go to
# CMake, e.g. scripts/build.sh -DHM_CUDA=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
flags=()
if [ "${1:-}" = "--sanitize" ]; then
  shift
  dir=build-sanitize
  flags=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DHM_BUILD_BENCH=OFF -DHM_CUDA=OFF
         "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
         "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined")
else
  flags=(-DCMAKE_BUILD_TYPE=Release)
fi
generator=()
command -v ninja >/dev/null && [ ! -f "$dir/CMakeCache.txt" ] && generator=(-G Ninja)
cmake -S . -B "$dir" "${generator[@]}" "${flags[@]}" "$@"
cmake --build "$dir" --parallel "$(nproc)"
