#!/usr/bin/env bash
# Long fuzzing run (a benchmark, not part of the tests): each libFuzzer target of tests/fuzz runs alone, in one
# process, until it has executed RUNS inputs or MINUTES have passed, and prints executions, exec/s, coverage
# (edges and features), corpus size and crashes. It keeps a core busy for up to 2 x MINUTES: on a shared
# machine run it under the build lock.
#
#   tests/bench/fuzz_long.sh [RUNS (default 1000000)] [MINUTES per target (default 25)]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs="${1:-1000000}"
minutes="${2:-25}"
start=$(date +%s)
bash scripts/fuzz --runs "$runs" --seconds $((minutes * 60))
echo "fuzz_long: $(( $(date +%s) - start )) s in all (incl. build), limit $runs runs or $minutes min per target"
