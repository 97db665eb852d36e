#!/usr/bin/env bash
# The main job on the bundled sample images: installs dependencies, builds,
# and hashes samples/images (PDQ with its 8 dihedral variants, MD5, SHA-1,
# SHA-256), printing one JSON record per file.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh "$@" >/dev/null
echo "== hashmatch hash --dihedral -r samples/images" >&2
# Exit status 1 means "some files have error records": one sample is not an
# image on purpose, so that is the expected outcome here.
status=0
build/cli/hashmatch hash --dihedral -r samples/images || status=$?
[ "$status" -le 1 ] || exit "$status"
