#!/usr/bin/env bash
# Configures and builds hashmatch in build/ (Release). Extra arguments go to
# CMake, e.g. scripts/build.sh -DHM_CUDA=OFF.
set -euo pipefail
cd "$(dirname "$0")/.."
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
[ -f build/CMakeCache.txt ] && generator=()  # keep whatever generator build/ has
cmake -S . -B build "${generator[@]}" -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build build --parallel "$(nproc)"
