#!/usr/bin/env bash
# Demo-set reproduction table (CPU): trains each method on a fresh demo project with mlstudio-cli and prints
# val mAP and wall time. Usage: tests/bench/reproduce_demo.sh [BUILD_DIR] [WORK_DIR]
# Targets (README, Benchmarks, Demo reproduction): Q2L full >= 95 mAP within 5 minutes on 2 cores;
# ROLE >= 0.9 x full BCE; ROLE > AN.
set -euo pipefail
BUILD=${1:-build}
WORK=${2:-$(mktemp -d)}
CLI="$BUILD/app/mlstudio-cli"
EPOCHS_Q2L=${EPOCHS_Q2L:-40}
EPOCHS_MLSPL=${EPOCHS_MLSPL:-70}
"$CLI" demo --out "$WORK/demo" > /dev/null
P="$WORK/demo/demo.mlsproj"

declare -a ROWS
run() {  # name, args...
  local name=$1; shift
  local json
  json=$("$CLI" train --project "$P" --run-name "$name" "$@" 2> "$WORK/$name.log" | tail -1)
  local map secs
  map=$(printf '%s' "$json" | sed -E 's/.*"best_val_map":([0-9.-]+).*/\1/')
  secs=$(printf '%s' "$json" | sed -E 's/.*"seconds":([0-9.]+).*/\1/')
  ROWS+=("| $name | $* | $map | $secs |")
  echo "$name: mAP $map in $secs s" >&2
}

run q2l-full-asl     --method q2l    --loss asl   --labels full   --backbone tiny --epochs "$EPOCHS_Q2L"
run mlspl-full-bce   --method mlspl  --loss bce   --labels full   --backbone tiny --epochs "$EPOCHS_MLSPL" --lr 1e-3
run mlspl-single-an  --method mlspl  --loss an    --labels single --backbone tiny --epochs "$EPOCHS_MLSPL" --lr 1e-3
run mlspl-single-anls --method mlspl --loss an-ls --labels single --backbone tiny --epochs "$EPOCHS_MLSPL" --lr 1e-3
run mlspl-single-epr --method mlspl  --loss epr   --labels single --backbone tiny --epochs "$EPOCHS_MLSPL" --lr 1e-3
run mlspl-single-role --method mlspl --loss role  --labels single --backbone tiny --epochs "$EPOCHS_MLSPL" --lr 1e-3
run hybrid-q2l-role  --method hybrid --loss role  --labels single --backbone tiny --epochs "$EPOCHS_Q2L"

echo
echo "| run | flags | best val mAP | seconds |"
echo "|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
