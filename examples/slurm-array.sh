#!/usr/bin/env bash
# Scan a large image tree with a Slurm job array: one shard per task (one GPU
# host each), then one merge job that runs once every shard succeeded.
#
#   bash examples/slurm-array.sh            # submits the array and the merge job
#   sbatch examples/slurm-array.sh          # the array alone (merge by hand)
#
# Shared storage (read by every task): the images, the index file (built once
# with 'hashmatch index build --refs known.csv -o known.hmidx'), and OUT for
# the shard reports. Every task must see the same paths: shards are chosen by
# a hash of each path exactly as walked (docs/scale-out.md).
#
#SBATCH --job-name=hashmatch-scan
#SBATCH --array=0-7
#SBATCH --nodes=1
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=16
#SBATCH --gres=gpu:1
#SBATCH --time=04:00:00
#SBATCH --output=hashmatch-scan-%A_%a.log
set -euo pipefail

HASHMATCH=${HASHMATCH:-hashmatch}
IMAGES=${IMAGES:-/shared/images}
INDEX=${INDEX:-/shared/refs/known.hmidx}
OUT=${OUT:-/shared/scans/$(date +%Y%m%d)}
SHARDS=${SHARDS:-8}  # keep equal to the --array range's size (0 to SHARDS-1)

if [[ -z "${SLURM_ARRAY_TASK_ID:-}" ]]; then
  # Not inside the array: submit it, then the merge that waits for it.
  # afterok: the merge starts only when every task exited 0. (afterany would
  # run it regardless, and merge would then name the shards that are missing.)
  mkdir -p "$OUT"
  export HASHMATCH IMAGES INDEX OUT SHARDS
  array_job=$(sbatch --parsable --array="0-$((SHARDS - 1))" "$0")
  merge_job=$(sbatch --parsable --dependency="afterok:${array_job}" --job-name=hashmatch-merge \
    --output="$OUT/merge-%j.log" --wrap="\"$HASHMATCH\" merge -o \"$OUT/scan.jsonl\" \"$OUT\"/shard-*.jsonl")
  echo "submitted array job $array_job and merge job $merge_job; report: $OUT/scan.jsonl"
  exit 0
fi

# Inside a task: scan this task's shard. --shard auto/N reads SLURM_ARRAY_TASK_ID.
mkdir -p "$OUT"
report="$OUT/shard-${SLURM_ARRAY_TASK_ID}.jsonl"
status=0
"$HASHMATCH" scan -r --shard "auto/$SHARDS" --backend auto --index "$INDEX" \
  --threads "${SLURM_CPUS_PER_TASK:-16}" -o "$report" "$IMAGES" || status=$?
# 1 means some files could not be read or decoded: their error records are in
# the report and the shard is complete (its manifest is written). Anything
# else failed the shard: exit non-zero so that Slurm (and afterok) sees it.
if [[ $status -gt 1 ]]; then
  echo "shard ${SLURM_ARRAY_TASK_ID} failed with status $status" >&2
  exit "$status"
fi
exit 0
