#!/bin/bash
# Resumable snapshot, measured: a full first snapshot into a fresh repository, then a fresh
# repository whose first snapshot is killed (SIGKILL) once 80% of the full run's bytes are in
# data/, and the rerun. Prints one line per round. Usage:
#   bash bench/resume.sh [SOURCE_DIR] [ROUNDS]
# Without SOURCE_DIR, 7.5 GiB of incompressible files (120 × 64 MiB) are made in $WORK/src.
# $WORK defaults to /tmp/cairn-resume-bench (needs ~2.5× the source size free).
set -euo pipefail
WORK=${WORK:-/tmp/cairn-resume-bench}
SRC=${1:-$WORK/src}
ROUNDS=${2:-3}
CAIRN="node $(cd "$(dirname "$0")/.." && pwd)/dist/cli/cairn.js"
export CAIRN_PASSWORD=bench CAIRN_KDF=1024:8:1 CAIRN_CACHE_DIR=$WORK/cache
mkdir -p "$WORK"
if [ $# -eq 0 ] && [ ! -d "$SRC" ]; then
  mkdir -p "$SRC"
  for i in $(seq 1 120); do head -c 64M /dev/urandom > "$SRC/f$i.bin"; done
fi
R=$WORK/repo
mib() { du -sm "$1" 2>/dev/null | cut -f1; }
for round in $(seq 1 "$ROUNDS"); do
  rm -rf "$R" "$WORK/cache"; $CAIRN repo init -r "$R" >/dev/null
  s=$(date +%s.%N); $CAIRN snapshot -r "$R" "$SRC" >/dev/null; e=$(date +%s.%N)
  full=$(echo "$e - $s" | bc); total=$(mib "$R/data")
  rm -rf "$R" "$WORK/cache"; $CAIRN repo init -r "$R" >/dev/null
  $CAIRN snapshot -r "$R" "$SRC" >/dev/null 2>&1 & pid=$!
  while [ "$(mib "$R/data")" -lt $((total * 8 / 10)) ]; do sleep 0.05; done
  kill -9 $pid; wait $pid 2>/dev/null || true
  before=$(mib "$R/data"); nidx=$(ls "$R/index" | wc -l)
  s=$(date +%s.%N); $CAIRN snapshot -r "$R" "$SRC" >/dev/null; e=$(date +%s.%N)
  rerun=$(echo "$e - $s" | bc); after=$(mib "$R/data")
  # the rerun stores the 20% never stored, plus what the kill left unindexed (stored twice)
  printf 'round %d: full %.2f s (%d MiB in data/); killed at %d MiB (%d index files); rerun %.2f s (%.0f%% of full), %d MiB stored twice\n' \
    "$round" "$full" "$total" "$before" "$nidx" "$rerun" "$(echo "100 * $rerun / $full" | bc -l)" $((after - total))
done
rm -rf "$R" "$WORK/cache"
