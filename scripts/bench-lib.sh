# Timing helpers shared by the benchmark scripts (sourced, not run).

# Wall-clock seconds of one run of a command. Exit status 1 ("some files
# failed") is an ordinary outcome on stores with broken files; anything
# higher stops the benchmark.
seconds() {
  local start end status=0
  start=$(date +%s.%N)
  "$@" >/dev/null 2>&1 || status=$?
  end=$(date +%s.%N)
  [ "$status" -le 1 ] || { echo "failed ($status): $*" >&2; exit 1; }
  echo "$end - $start" | bc -l
}

# "best median" of a list of timings.
summary() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.4f %.4f\n", a[1], a[int((NR+1)/2)]}'; }

# COUNT / SECONDS, one decimal.
rate() { echo "$1 / $2" | bc -l | xargs printf '%.1f'; }
