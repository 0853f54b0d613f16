#!/usr/bin/env bash
# The status page as Prometheus and Grafana read it: `promtool check metrics`
# finds no problem, the alerting rules pass `promtool check rules`, and every
# metric the dashboard and the rules query is on the page.
#   test/e2e/check_metrics.sh HTTP_PORT deploy/grafana/txtpush.json [deploy/prometheus/txtpush.rules.yml]
set -euo pipefail
port=$1 dashboard=$2 rules=${3:-$(dirname "$0")/../../deploy/prometheus/txtpush.rules.yml}
page=$(curl -sf "http://127.0.0.1:$port/txtpush-status")
command -v promtool >/dev/null || { echo "promtool is missing (Debian's prometheus package)" >&2; exit 1; }
printf '%s\n' "$page" | promtool check metrics
grep -q '^txtpush_build_info{version="[0-9.]*"} 1$' <<<"$page" || { echo "no txtpush_build_info" >&2; exit 1; }
promtool check rules "$rules"
missing=0
for name in $(grep -ho 'txtpush_[a-z_]*' "$dashboard" "$rules" | sort -u); do
    if ! grep -q "^$name\(_bucket\|_sum\|_count\)\?[{ ]" <<<"$page"; then
        echo "the dashboard or the rules query $name, which the status page does not have" >&2
        missing=1
    fi
done
# Labels the rules select on must be values the page has.
for value in $(grep -o '\(outcome\|reason\)="[a-z_]*"' "$rules" | sort -u); do
    grep -q "$value" <<<"$page" || { echo "the rules select $value, which the status page never has" >&2; missing=1; }
done
[ "$missing" = 0 ]
echo "metrics ok: promtool is content, the dashboard's $(grep -o 'txtpush_[a-z_]*' "$dashboard" | sort -u | wc -l) metrics exist"
