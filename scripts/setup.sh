#!/usr/bin/env bash
# Installs hashmatch's build and test dependencies from Debian 12 packages.
# Idempotent: installs only what is missing, and runs apt-get update only then.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git bc python3
  libjpeg62-turbo-dev libturbojpeg0-dev libjpeg-turbo-progs  # JPEG (and djpeg for benchmarks)
  libpng-dev libwebp-dev libgif-dev libssl-dev               # other formats, digests
  libfaiss-dev libopenblas-dev                               # indexes
  libgtest-dev libbenchmark-dev nlohmann-json3-dev           # tests, benchmarks
  clang libclang-rt-14-dev                                   # libFuzzer (scripts/fuzz.sh)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "setup: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
