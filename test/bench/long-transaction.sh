#!/usr/bin/env bash
# The cost of a push while a transaction elsewhere in the database stays open
# (a Moodle backup or cron run holds one for minutes), in one run: the
# bench's mixed50 pushes (wrk, c=16, 8 workers) in windows of LONGTX_WINDOW
# seconds (default 20): one with no other transaction, then LONGTX_WINDOWS
# (default 6) while one that has written a row stays open, so that its age
# and the inbox rows written since grow window by window. Flat rates mean a
# push's cost does not grow with them (lib/inbox_catch_up.hpp).
# Writes test/bench/results/long-transaction.md and .csv.
#
#   test/bench/long-transaction.sh   (as root, after run.sh's dependencies;
#                                     LONGTX_OPEN=0: the same windows, no transaction;
#                                     BENCH_BUILD picks the build to measure,
#                                     BENCH_SKIP_BUILD=1 measures it as it is)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build=${BENCH_BUILD:-$root/build-bench}
window=${LONGTX_WINDOW:-20}
windows=${LONGTX_WINDOWS:-6}
label=${LONGTX_LABEL:-$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo build)}
dir=/tmp/txtpush-longtx
out=$here/results
port=19380
pgbin=/usr/lib/postgresql/15/bin

if [ "${BENCH_SKIP_BUILD:-0}" != 1 ]; then
    cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON >/dev/null
    cmake --build "$build" -j"$(nproc)" --target txtpushd >/dev/null
fi

holder=""
cleanup() {
    [ -n "$holder" ] && kill "$holder" 2>/dev/null || true
    "$root/deploy/local-stack.sh" stop "$dir" || true
}
trap cleanup EXIT
rm -rf "$dir" && mkdir -p "$dir" "$out"
"$root/deploy/local-stack.sh" start "$dir" "$build" "$port" >/dev/null
sed -i "s/^workers = .*/workers = 8/" "$dir/txtpushd.conf"
psql_run() { "$pgbin/psql" -q -X -At -h "$(cat "$dir/pgdir")" -U postgres -d txtpush -v ON_ERROR_STOP=1 "$@"; }
generation=$(grep -c 'event=reloaded' "$dir/txtpushd.log" || true)
kill -HUP "$(cat "$dir/txtpushd.pid")"
for _ in $(seq 1 100); do [ "$(grep -c 'event=reloaded' "$dir/txtpushd.log")" -gt "$generation" ] && break; sleep 0.1; done
psql_run -f "$here/seed.sql" >/dev/null
psql_run -c "CREATE TABLE bench_cron (t text)"

rate() {  # run index -> req/s of mixed50 over one window
    wrk -t2 -c16 -d"${window}s" -s "$here/push.lua" "http://127.0.0.1:$port/blocks/moodletxt/push.php" -- mixed50 "$1" |
        awk '/^Requests\/sec/ {print $2}'
}
inbox_rows() { psql_run -c "SELECT count(*) FROM mdl_block_moodletxt_inbox"; }

csv=$out/long-transaction.csv
[ -f "$csv" ] && [ "${LONGTX_APPEND:-0}" = 1 ] || echo "build,window,open_transaction_age_s,inbox_rows_since_it_began,mixed50_req_s" > "$csv"
echo "long-transaction: without an open transaction" >&2
r=$(rate 0)
echo "$label,0,,,$r" >> "$csv"

# The transaction: it writes a row (so it has a transaction id, the oldest),
# then waits. LONGTX_OPEN=0 runs the same windows without it (the control:
# what the growing tables alone cost).
if [ "${LONGTX_OPEN:-1}" = 1 ]; then
    "$pgbin/psql" -q -X -h "$(cat "$dir/pgdir")" -U postgres -d txtpush \
        -c "BEGIN; INSERT INTO bench_cron VALUES ('backup started'); SELECT pg_sleep(86400);" >/dev/null 2>&1 &
    holder=$!
    for _ in $(seq 1 100); do
        [ "$(psql_run -c "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(86400)%' AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()")" = 1 ] && break
        sleep 0.1
    done
fi
started_at=$(date +%s)
start_rows=$(inbox_rows)
for w in $(seq 1 "$windows"); do
    echo "long-transaction: window $w of $windows with the transaction open" >&2
    r=$(rate "$w")
    age=$(psql_run -c "SELECT round(extract(epoch FROM now() - xact_start)) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(86400)%' AND pid <> pg_backend_pid()")
    [ -n "$age" ] || age="none ($(( $(date +%s) - started_at )) s)"
    echo "$label,$w,$age,$(( $(inbox_rows) - start_rows )),$r" >> "$csv"
done

{
    echo "# txtpush: pushes while a transaction elsewhere stays open"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores; \`test/bench/long-transaction.sh\` (one run per build): mixed50 (25 status"
    echo "updates + 25 inbound SMS), wrk c=16, 8 workers, ${window} s per window; from window 1 on, a transaction that"
    echo "has written a row stays open."
    echo
    echo "| build | window | open transaction's age s | inbox rows written since it began | mixed50 req/s |"
    echo "|---|---|---|---|---|"
    awk -F, 'NR > 1 {printf "| %s | %s | %s | %s | %.0f |\n", $1, ($2 == 0 ? "before" : $2), ($3 == "" ? "-" : $3), ($4 == "" ? "-" : $4), $5}' "$csv"
    echo
    awk -F, 'NR > 1 && $2 == 0 {base[$1] = $5; order[++n] = $1} NR > 1 && $2 > 0 {last[$1] = $5}
             END {for (i = 1; i <= n; i++) { b = order[i]; if (base[b] > 0) printf "%s: last window at %.0f%% of the rate without the open transaction.\n", b, 100 * last[b] / base[b] }}' "$csv"
} > "$out/long-transaction.md"
cat "$out/long-transaction.md"
