#!/usr/bin/env bash
# The test command: installs dependencies, builds, and runs every test.
# GPU tests (label gpu) report themselves skipped where no GPU exists.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh "$@"
cd build
ctest --output-on-failure --parallel "$(nproc)" --timeout 600
