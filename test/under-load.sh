#!/usr/bin/env bash
# The suite on a busy machine: runs CTest RUNS times in a row (default 3)
# while stress-ng keeps a CPU hog on every core, and stops at the first
# failure. No test waits a fixed time; each waits for a condition with a
# deadline, so the suite passes at any speed.
#   test/under-load.sh [RUNS]     (as root, after test/run-all.sh built build/)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-3}
command -v stress-ng >/dev/null || { echo "stress-ng is missing: deploy/install-deps.sh installs it" >&2; exit 1; }
[ -x build/txtpushd ] || { echo "no build/txtpushd: run test/run-all.sh first" >&2; exit 1; }
cores=$(nproc)
stress-ng --cpu "$cores" --timeout 0 --quiet &
hog=$!
trap 'kill "$hog" 2>/dev/null || true; wait "$hog" 2>/dev/null || true' EXIT
for run in $(seq 1 "$runs"); do
    echo "== run $run of $runs, stress-ng --cpu $cores alongside"
    started=$(date +%s)
    (cd build && ctest --output-on-failure --timeout 300)
    echo "== run $run green in $(( $(date +%s) - started )) s"
done
echo "the suite passed $runs times in a row with every core loaded"
