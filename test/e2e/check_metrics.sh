#!/usr/bin/env bash
# The status page as Prometheus and Grafana read it: `promtool check metrics`
# finds no problem, and every metric the dashboard queries is on the page.
#   test/e2e/check_metrics.sh HTTP_PORT deploy/grafana/txtpush.json
set -euo pipefail
port=$1 dashboard=$2
page=$(curl -sf "http://127.0.0.1:$port/txtpush-status")
command -v promtool >/dev/null || { echo "promtool is missing (Debian's prometheus package)" >&2; exit 1; }
printf '%s\n' "$page" | promtool check metrics
grep -q '^txtpush_build_info{version="[0-9.]*"} 1$' <<<"$page" || { echo "no txtpush_build_info" >&2; exit 1; }
missing=0
for name in $(grep -o 'txtpush_[a-z_]*' "$dashboard" | sort -u); do
    if ! grep -q "^$name\(_bucket\|_sum\|_count\)\?[{ ]" <<<"$page"; then
        echo "the dashboard queries $name, which the status page does not have" >&2
        missing=1
    fi
done
[ "$missing" = 0 ]
echo "metrics ok: promtool is content, the dashboard's $(grep -o 'txtpush_[a-z_]*' "$dashboard" | sort -u | wc -l) metrics exist"
