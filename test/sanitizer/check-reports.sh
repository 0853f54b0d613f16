#!/usr/bin/env bash
# Fails when a sanitized process reported anything. ASan, LSan and UBSan
# write each report to REPORTS_DIR/<tool>.<pid> (their log_path, which
# test/run-all.sh sets): the test programs, the sanitized txtpushd's master,
# workers and spooler, and the commands the tests run, whatever became of
# their logs (a test renames txtpushd.log as logrotate does). The stack's
# logs are searched too, for a report written to stderr.
#   test/sanitizer/check-reports.sh REPORTS_DIR STACK_DIR
set -euo pipefail
reports=${1:?usage: check-reports.sh REPORTS_DIR STACK_DIR}
stack=${2:?usage: check-reports.sh REPORTS_DIR STACK_DIR}
shopt -s nullglob
found=0
for report in "$reports"/*; do
    echo "== $report" >&2
    cat "$report" >&2
    found=1
done
logs=("$stack"/txtpushd.log* "$stack"/migrate.lo[g])
if [ ${#logs[@]} -gt 0 ] && grep -En 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "${logs[@]}" >&2; then
    found=1
fi
if [ "$found" = 1 ]; then
    echo "sanitizer reports above: the run fails" >&2
    exit 1
fi
echo "no sanitizer report (${#logs[@]} logs of the stack searched, $reports empty)"
