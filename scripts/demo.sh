#!/usr/bin/env bash
# The main job on the bundled samples: installs dependencies, builds, and
# scans samples/images against the bundled reference lists
# (samples/refs/known-pdq.csv: PDQ hashes of some samples and of transformed
# copies of them, computed by Meta's reference, among 5000 random hashes;
# samples/refs/known-md5.txt: MD5 digests of known files). Prints one JSON
# record per file: its hashes and its matches.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh "$@" >/dev/null
cmd=(build/cli/hashmatch scan --dihedral -r samples/images
     --refs samples/refs/known-pdq.csv --refs samples/refs/known-md5.txt)
echo "== ${cmd[*]}" >&2
# Exit status 1 means "some files have error records": one sample is not an
# image on purpose, so that is the expected outcome here.
status=0
"${cmd[@]}" || status=$?
[ "$status" -le 1 ] || exit "$status"
