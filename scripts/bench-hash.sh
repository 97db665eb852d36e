#!/usr/bin/env bash
# Whole-process throughput of `hashmatch hash` on the bundled golden images,
# beside the floor for the same JPEGs: libjpeg-turbo decoding alone (read +
# default decode, as djpeg does) in one process on the same threads. A second
# floor adds OpenSSL's MD5, SHA-1 and SHA-256 of the bytes, file by file, to
# that decode: what the digests cost when computed the plain way (hashmatch's
# MD5 lanes are faster).
#
# Usage: scripts/bench-hash.sh [THREADS] [RUNS]   (defaults: all cores, 7)
# Prints the best and median of RUNS runs of each; machines like these are
# noisy, so compare figures from one run of this script only.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
runs=${2:-7}
bin=build/cli/hashmatch
floor=build/bench/hm_jpeg_decode_floor
[ -x "$bin" ] && [ -x "$floor" ] || { echo "build first: scripts/build.sh" >&2; exit 2; }
images=tests/data/pdq-golden/images
mapfile -t all < <(ls "$images"/*)
mapfile -t jpegs < <(ls "$images"/*.jpg)

source scripts/bench-lib.sh

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs); threads: $threads; runs: $runs"
# The commands take turns within each run, so a slow spell of a shared
# machine slows all of them rather than one.
f=() g=() j=() p=() a=() d=()
for _ in $(seq "$runs"); do
  f+=("$(seconds "$floor" "$threads" "${jpegs[@]}")")
  g+=("$(seconds "$floor" --digests "$threads" "${jpegs[@]}")")
  j+=("$(seconds "$bin" hash --threads "$threads" -q "${jpegs[@]}")")
  p+=("$(seconds "$bin" hash --threads "$threads" --algo pdq -q "${jpegs[@]}")")
  a+=("$(seconds "$bin" hash --threads "$threads" -q "${all[@]}")")
  d+=("$(seconds "$bin" hash --threads "$threads" --dihedral -q "${all[@]}")")
done
read -r fb fm < <(summary "${f[@]}")
read -r gb gm < <(summary "${g[@]}")
read -r jb jm < <(summary "${j[@]}")
read -r pb pm < <(summary "${p[@]}")
read -r ab am < <(summary "${a[@]}")
read -r db dm < <(summary "${d[@]}")
n=${#jpegs[@]}
m=${#all[@]}
printf '%-58s %10s %10s\n' "what (images/s)" best median
printf '%-58s %10s %10s\n' "libjpeg-turbo decode only, $n JPEGs" "$(rate "$n" "$fb")" "$(rate "$n" "$fm")"
printf '%-58s %10s %10s\n' "libjpeg-turbo decode + md5+sha1+sha256, same JPEGs" "$(rate "$n" "$gb")" "$(rate "$n" "$gm")"
printf '%-58s %10s %10s\n' "hashmatch hash (pdq+md5+sha1+sha256), same JPEGs" "$(rate "$n" "$jb")" "$(rate "$n" "$jm")"
printf '%-58s %10s %10s\n' "hashmatch hash --algo pdq, same JPEGs" "$(rate "$n" "$pb")" "$(rate "$n" "$pm")"
printf '%-58s %10s %10s\n' "hashmatch hash, all $m golden files" "$(rate "$m" "$ab")" "$(rate "$m" "$am")"
printf '%-58s %10s %10s\n' "hashmatch hash --dihedral, all $m golden files" "$(rate "$m" "$db")" "$(rate "$m" "$dm")"
printf 'hash / decode-only on the JPEGs: best %.1f%%, median %.1f%% (--algo pdq: best %.1f%%, median %.1f%%)\n' \
  "$(echo "100 * $fb / $jb" | bc -l)" "$(echo "100 * $fm / $jm" | bc -l)" \
  "$(echo "100 * $fb / $pb" | bc -l)" "$(echo "100 * $fm / $pm" | bc -l)"
printf 'decode + OpenSSL digests / decode-only: best %.1f%%, median %.1f%%\n' \
  "$(echo "100 * $fb / $gb" | bc -l)" "$(echo "100 * $fm / $gm" | bc -l)"
printf 'all files vs the reference CLI (38 images/s): best %.1fx\n' "$(echo "$m / $ab / 38" | bc -l)"
