#!/usr/bin/env bash
# Robustness checks of `hashmatch hash -r` (or scan) on any store (a directory tree of
# files, broken or not), for stores the tests do not ship:
#  1. one uninterrupted run: it must end with exit status 0 or 1 (never a
#     crash), and the report must hold exactly one whole JSON record per
#     non-directory entry under DIR (regular files, links, FIFOs, sockets, ...);
#  2. CYCLES runs with --resume, each killed with SIGKILL at a random moment:
#     after every kill each line must be a whole record and no path may appear
#     twice; a last run completes the report, which must then hold exactly the
#     uninterrupted run's records, nothing lost, nothing duplicated.
#
# Usage: scripts/check-store.sh DIR [CYCLES] [SEED] [-- [hash|scan] OPTIONS...]
#   defaults: 20 cycles, seed 1, hash; e.g.
#   scripts/check-store.sh /data/mangled 20 7 -- scan --refs samples/refs/known-pdq.csv --threads 2
# Exits 0 when every check passed, 1 otherwise (saying which).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { sed -n '2,17p' "$0" >&2; exit 2; }
store=$1
cycles=${2:-20}
seed=${3:-1}
shift $(( $# < 3 ? $# : 3 ))
[ "${1:-}" = "--" ] && shift
command=hash
case "${1:-}" in hash|scan) command=$1; shift ;; esac
extra=("$@")
bin=build/cli/hashmatch
[ -x "$bin" ] || { echo "build first: scripts/build.sh" >&2; exit 2; }
[ -d "$store" ] || { echo "not a directory: $store" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

expected=$(find "$store" -mindepth 1 ! -type d -printf x | wc -c)
echo "store: $store ($expected entries that are not directories)"

# Checks a report: whole JSON lines, no path twice; prints the record count.
# With "complete", also that it equals the reference report as a set of lines.
verify() {  # report [reference]
  python3 - "$@" <<'EOF'
import json, sys
def records(name):
    seen, lines = set(), []
    with open(name, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        sys.exit(f"{name}: last line is not whole")
    for n, line in enumerate(data.splitlines(), 1):
        try:
            r = json.loads(line)
        except ValueError as e:
            sys.exit(f"{name}:{n}: not a whole JSON record ({e})")
        key = r.get("path_hex") or r["path"]
        if key in seen:
            sys.exit(f"{name}:{n}: {key!r} reported twice")
        seen.add(key)
        lines.append(line)
    return lines
got = records(sys.argv[1])
if len(sys.argv) > 2:
    want = records(sys.argv[2])
    if sorted(got) != sorted(want):
        missing = len(set(want) - set(got))
        extra = len(set(got) - set(want))
        sys.exit(f"{sys.argv[1]}: differs from the uninterrupted run ({missing} records missing, {extra} unexpected)")
print(len(got))
EOF
}

# 1. Uninterrupted.
start=$(date +%s.%N)
status=0
"$bin" "$command" -q -r "${extra[@]}" -o "$work/full.jsonl" "$store" || status=$?
full_s=$(echo "$(date +%s.%N) - $start" | bc -l)
if [ "$status" -gt 1 ]; then
  echo "FAIL: uninterrupted run ended with status $status" >&2
  exit 1
fi
count=$(verify "$work/full.jsonl") || { echo "FAIL: $count" >&2; exit 1; }
if [ "$count" -ne "$expected" ]; then
  echo "FAIL: $count records for $expected entries" >&2
  exit 1
fi
printf 'uninterrupted: %d records, exit status %d, %.2f s\n' "$count" "$status" "$full_s"

# 2. Kill and resume. Each delay is uniform over 90% of the time the
# remaining files should take, so kills land during start-up, mid-batch and
# near the end, rarely after a run has finished.
RANDOM=$seed
report="$work/resumed.jsonl"
have=0
for cycle in $(seq "$cycles"); do
  delay=$(echo "$full_s * ($expected - $have) / $expected * 0.9 * $((RANDOM % 1000)) / 1000" | bc -l)
  "$bin" "$command" -q -r --resume "${extra[@]}" -o "$report" "$store" >/dev/null 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  have=0
  [ -e "$report" ] && have=$(python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
# A torn last line is allowed after a kill (--resume cuts it off).
print(data[: data.rfind(b"\n") + 1].count(b"\n"))' "$report")
  if [ -e "$report" ]; then
    python3 -c '
import sys
data = open(sys.argv[1], "rb").read()
open(sys.argv[2], "wb").write(data[: data.rfind(b"\n") + 1])' "$report" "$work/whole.jsonl"
    verify "$work/whole.jsonl" >/dev/null || { echo "FAIL after kill $cycle" >&2; exit 1; }
  fi
  printf 'kill %2d after %.2f s: %d records so far\n' "$cycle" "$delay" "$have"
done
status=0
"$bin" "$command" -q -r --resume "${extra[@]}" -o "$report" "$store" || status=$?
[ "$status" -le 1 ] || { echo "FAIL: final resumed run ended with status $status" >&2; exit 1; }
count=$(verify "$report" "$work/full.jsonl") || { echo "FAIL: $count" >&2; exit 1; }
echo "resumed after $cycles kills: $count records, equal to the uninterrupted run's"
echo "PASS"
