#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every test.
# With --sanitize: the same tests under AddressSanitizer and UBSan
# (build-sanitize/). GPU tests (label gpu) report themselves skipped where no
# GPU exists.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build
[ "${1:-}" = "--sanitize" ] && dir=build-sanitize
scripts/setup.sh
scripts/build.sh "$@"
cd "$dir"
ctest --output-on-failure --parallel "$(nproc)" --timeout 900
