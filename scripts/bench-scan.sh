#!/usr/bin/env bash
# End-to-end scan benchmarks on generated stores (bench/make_store.cpp):
#  1. images/s of `hashmatch scan` (PDQ + MD5 + SHA-1 + SHA-256, matched
#     against 1M random PDQ references in an exact index and an MD5 list) in
#     exact and fast decode mode, beside libjpeg-turbo's decode-only rate for
#     the same files on the same threads, for small photos and phone photos,
#     beside the same decode plus OpenSSL's three digests of each file, file
#     by file ("dig-ceil": what the digests cost computed the plain way;
#     hashmatch's MD5 lanes are faster), and
#     beside libjpeg's cheapest decode (luma at 1/8 scale: every coefficient
#     is still entropy-decoded), which bounds what fast mode can gain;
#  2. peak RSS of the same scan over 1k and 100k files;
#  3. as root only: `hash` of stores not in the page cache (dropped before
#     each run), with the default read-ahead and with --read-ahead 0.
#
# Usage: scripts/bench-scan.sh [THREADS] [RUNS] [WORKDIR]
#   defaults: all cores, 3 runs, /tmp/hm-bench-scan (kept between runs: the
#   stores and the index are generated once, about a minute on 2 cores).
# Prints the best and median of RUNS runs; the commands take turns within
# each run so a slow spell of a shared machine slows all of them.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=${1:-$(nproc)}
runs=${2:-3}
work=${3:-/tmp/hm-bench-scan}
bin=build/cli/hashmatch
floor=build/bench/hm_jpeg_decode_floor
make_store=build/bench/hm_make_store
for b in "$bin" "$floor" "$make_store"; do
  [ -x "$b" ] || { echo "build first: scripts/build.sh ($b missing)" >&2; exit 2; }
done
mkdir -p "$work"

# A store is generated once per (name, count, size); a marker says it is whole.
store() {  # name count size
  local dir="$work/$1" marker="$work/.complete-$1-$2-$3"
  if [ ! -e "$marker" ]; then
    rm -rf "$dir"
    "$make_store" "$dir" "$2" --size "$3" --seed 7 >&2
    touch "$marker"
  fi
  echo "$dir"
}

# 1M random PDQ references (seeded) in an exact index, and the MD5 list.
index="$work/refs-1m.hmi"
if [ ! -e "$index" ]; then
  python3 - "$work/refs-1m.txt" <<'EOF'
import random, sys
rng = random.Random(11)
with open(sys.argv[1], "w") as f:
    for i in range(1_000_000):
        f.write("%064x ref-%d\n" % (rng.getrandbits(256), i))
EOF
  "$bin" index build -q --type mih --refs "$work/refs-1m.txt" -o "$index" >&2
  rm -f "$work/refs-1m.txt"
fi
lists=(--index "pdq=$index" --refs "md5=samples/refs/known-md5.txt")

source scripts/bench-lib.sh

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs); threads: $threads; runs: $runs"
# The fixed start-up cost (loading the lists) is part of every scan's time
# below; a nightly scan of millions of files amortises it, these do not.
empty="$work/empty"
mkdir -p "$empty"
load=()
for _ in $(seq "$runs"); do load+=("$(seconds "$bin" scan -q "${lists[@]}" -r "$empty" -o /dev/null)"); done
read -r lb lm < <(summary "${load[@]}")
printf 'start-up with the lists loaded (scan of no files): best %.3f s, median %.3f s\n' "$lb" "$lm"
# steady: exact/dec with the start-up (median above) taken off the scan's
# time, as a scan of millions of files would see it.
printf '%-40s %9s %9s %9s %9s %9s %9s %8s %8s %8s\n' "store" "decode/s" "exact/s" "fast/s" "1/8-dec/s" \
  "dig-ceil" "exact/dec" "steady" "fast/ex" "1/8-gain"

speed() {  # label dir
  local dir=$2 files
  mapfile -t files < <(find "$dir" -name '*.jpg' | sort)
  local f=() d=() e=() q=() s=()
  for _ in $(seq "$runs"); do
    f+=("$(seconds "$floor" "$threads" "${files[@]}")")
    d+=("$(seconds "$floor" --digests "$threads" "${files[@]}")")
    s+=("$(seconds "$floor" --eighth "$threads" "${files[@]}")")
    e+=("$(seconds "$bin" scan -q --threads "$threads" "${lists[@]}" -r "$dir" -o /dev/null)")
    q+=("$(seconds "$bin" scan -q --threads "$threads" --decode fast "${lists[@]}" -r "$dir" -o /dev/null)")
  done
  local fb fm db dm eb em qb qm sb sm n=${#files[@]}
  read -r fb fm < <(summary "${f[@]}")
  read -r db dm < <(summary "${d[@]}")
  read -r sb sm < <(summary "${s[@]}")
  read -r eb em < <(summary "${e[@]}")
  read -r qb qm < <(summary "${q[@]}")
  local which decode=$fb dig=$db exact=$eb fast=$qb eighth=$sb
  for which in best median; do
    [ "$which" = median ] && decode=$fm dig=$dm exact=$em fast=$qm eighth=$sm
    printf '%-40s %9s %9s %9s %9s %8.1f%% %8.1f%% %7.1f%% %7.2fx %7.2fx\n' "$1, $which" \
      "$(rate "$n" "$decode")" "$(rate "$n" "$exact")" "$(rate "$n" "$fast")" "$(rate "$n" "$eighth")" \
      "$(echo "100 * $decode / $dig" | bc -l)" "$(echo "100 * $decode / $exact" | bc -l)" \
      "$(echo "100 * $decode / ($exact - $lm)" | bc -l)" "$(echo "$exact / $fast" | bc -l)" \
      "$(echo "$decode / $eighth" | bc -l)"
  done
}

speed "2000 x 640x480 JPEGs" "$(store small 2000 640x480)"
speed "200 x 1600x1200 JPEGs" "$(store medium 200 1600x1200)"
speed "60 x 4000x3000 JPEGs (12 MP)" "$(store large 60 4000x3000)"

# Peak RSS (KiB, from GNU time) of an exact scan of 1k and of 100k small files.
peak_kib() { { /usr/bin/time -f '%M' "$@" 2>&1 >/dev/null || true; } | tail -1; }
few=$(store rss-1k 1000 160x120)
many=$(store rss-100k 100000 160x120)
rss() {  # label, then the command's options before the store
  local label=$1
  shift
  local r1 r2
  r1=$(peak_kib "$bin" "$@" -q --threads "$threads" -r "$few" -o /dev/null)
  r2=$(peak_kib "$bin" "$@" -q --threads "$threads" -r "$many" -o /dev/null)
  printf 'peak RSS, %-36s 1k files %7d KiB, 100k files %7d KiB (%+.1f%%)\n' "$label:" "$r1" "$r2" \
    "$(echo "100 * ($r2 - $r1) / $r1" | bc -l)"
}
rss "scan (1M-reference index)" scan "${lists[@]}"
rss "hash (no lists)" hash

# Cold stores: only root may drop the page cache.
if [ -w /proc/sys/vm/drop_caches ]; then
  cold() { sync; echo 3 >/proc/sys/vm/drop_caches; seconds "$@"; }
  mapfile -t tiny_dirs < <(find "$many" -mindepth 1 -maxdepth 1 -type d | sort | head -10)
  small_dir=$(store small 2000 640x480)
  for what in "10k 160x120 files" "2000 640x480 files"; do
    if [ "$what" = "10k 160x120 files" ]; then inputs=("${tiny_dirs[@]}"); else inputs=("$small_dir"); fi
    on=() off=()
    for _ in $(seq "$runs"); do
      on+=("$(cold "$bin" hash -q --threads "$threads" -r "${inputs[@]}" -o /dev/null)")
      off+=("$(cold "$bin" hash -q --threads "$threads" --read-ahead 0 -r "${inputs[@]}" -o /dev/null)")
    done
    read -r ob om < <(summary "${on[@]}")
    read -r fb fm < <(summary "${off[@]}")
    printf 'cold hash of %s: read-ahead best %.2f s, median %.2f s; --read-ahead 0 best %.2f s, median %.2f s\n' \
      "$what" "$ob" "$om" "$fb" "$fm"
  done
fi
