#!/usr/bin/env bash
# The cost of a push against the shape of the Moodle site, in one run: for
# each shape USERS:NUMBERED:CONTACTS in SWEEP_SHAPES (accounts, percent of
# them with a mobile number, address-book entries; a twentieth of the
# accounts deleted), a site with 500 keyword filters and SWEEP_HISTORY rows
# of history in each of the status and inbox tables (default 1,000,000;
# duplicates included, as the plugin leaves them), then
#   - what refreshing the phone directory costs, and so how stale it may be
#     (txtpush.directory_due, migration 005; docs/design.md "Inbound routing"),
#   - txtpushd's throughput with the bench's pushes (wrk, c=16, BENCH_SECONDS).
#   - what the bench's mixed push reads from the site: the shared buffers its
#     routing reads and sender lookup touch (EXPLAIN ANALYZE BUFFERS, warm,
#     with txtpushd's session settings): a count, which this machine's noise
#     does not move, where the throughput moves by more than 10%.
# Writes test/bench/results/size.md, size.csv and size.png.
#
#   test/bench/sweep.sh     (as root; needs what run.sh needs)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build=${BENCH_BUILD:-$root/build-bench}
seconds=${BENCH_SECONDS:-10}
shapes=${SWEEP_SHAPES:-"1000:100:40 1000:10:2000 10000:10:2000 50000:2:40 50000:10:20000 200000:2:40 200000:10:100000 200000:100:100000"}
history=${SWEEP_HISTORY:-1000000}
dir=/tmp/txtpush-sweep
out=$here/results
port=19180
pgbin=/usr/lib/postgresql/15/bin

if [ "${BENCH_SKIP_INSTALL:-0}" != 1 ]; then "$root/deploy/install-deps.sh"; fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target txtpushd >/dev/null

trap '"$root/deploy/local-stack.sh" stop "$dir" || true' EXIT
rm -rf "$dir" && mkdir -p "$dir" "$out"
psql_run() { "$pgbin/psql" -q -X -h "$(cat "$dir/pgdir")" -U postgres -d txtpush -v ON_ERROR_STOP=1 "$@"; }

rate() {  # shape -> req/s
    wrk -t2 -c16 -d"${seconds}s" -s "$here/push.lua" "http://127.0.0.1:$port/blocks/moodletxt/push.php" -- "$1" "$2" |
        awk '/^Requests\/sec/ {print $2}'
}

# The shared buffers the mixed push's two reads touch ($dir/own-1.sql and
# own-2.sql, from own-statements.sh), the second of two runs, rolled back.
read_buffers() {
    local q1 q2
    q1=$(sed 's/:t::bigint/1000000050::bigint/g; s/;$//' "$dir/own-1.sql")
    q2=$(sed 's/:t::bigint/1000000050::bigint/g; s/;$//' "$dir/own-2.sql")
    PGOPTIONS="$session_options" psql_run -At <<SQL | tail -1
CREATE FUNCTION pg_temp.buffers(q text) RETURNS bigint LANGUAGE plpgsql AS \$f\$
DECLARE plan json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ' || q INTO plan;
    RETURN (plan->0->'Plan'->>'Shared Hit Blocks')::bigint + (plan->0->'Plan'->>'Shared Read Blocks')::bigint;
END \$f\$;
BEGIN;
-- The catch-up reads the same 200 rows on every shape, whatever the spooler's watermark is now.
UPDATE txtpush.inbox_watch SET watermark = 0, read_top = 0, gap_firsts = '{}', gap_lasts = '{}';
SELECT pg_temp.buffers(\$q\$$q1\$q\$) + pg_temp.buffers(\$q\$$q2\$q\$);
SELECT pg_temp.buffers(\$q\$$q1\$q\$) + pg_temp.buffers(\$q\$$q2\$q\$);
ROLLBACK;
SQL
}

echo "users,numbered_pct,contacts,numbers,history,source_kb,refresh_ms,staleness_s,status1_req_s,mixed50_req_s,mixed50_items_s,read_buffers" > "$out/size.csv"
run=0
for shape in $shapes; do
    IFS=: read -r users numbered contacts <<< "$shape"
    echo "sweep: $users users, $numbered% with a number, $contacts contacts" >&2
    # Each shape on a fresh cluster, so that one shape's writes (WAL, bloat)
    # do not weigh on the next; txtpushd is stopped while the site is built
    # (its spooler would catch up the history meanwhile).
    "$root/deploy/local-stack.sh" start "$dir" "$build" "$port" >/dev/null
    "$root/deploy/local-stack.sh" txtpushd-kill "$dir"
    psql_run -v users="$users" -v numbered="$numbered" -v contacts="$contacts" -v history="$history" \
        -f "$here/seed-size.sql" >/dev/null
    "$root/deploy/local-stack.sh" txtpushd-start "$dir" "$build"
    # A number changed, then what one refresh costs (the third of three, warm).
    for _ in 1 2 3; do
        psql_run -c "UPDATE mdl_user SET phone1 = CASE phone1 WHEN '' THEN '07000 000100' ELSE '' END WHERE id = 100;
                     SELECT txtpush.refresh_phone_directory()" >/dev/null
    done
    # The staleness bound as directory_due (migration 005) decides it: 0 where
    # a push compares every number.
    read -r numbers source_kb refresh_ms staleness < <(psql_run -At -F ' ' -c \
        "SELECT entries, (pg_relation_size('mdl_user') + pg_relation_size('mdl_block_moodletxt_ab_entry')) / 1024,
                round(extract(epoch FROM cost) * 1000, 1),
                CASE WHEN pg_relation_size('mdl_user') + pg_relation_size('mdl_block_moodletxt_ab_entry') <= 262144
                     THEN 0 ELSE round(least(greatest(extract(epoch FROM cost) * 100, 1), 5), 1) END
         FROM txtpush.phone_directory_state")
    s1=$(rate status1 $((run * 2)))
    m50=$(rate mixed50 $((run * 2 + 1)))
    run=$((run + 1))
    source "$here/own-statements.sh"
    awk -v dir="$dir" 'NR > 1 {buf = buf $0 "\n"; if ($0 ~ /;$/) {n++; f = dir "/own-" n ".sql"; printf "%s", buf > f; close(f); buf = ""}}' \
        "$dir/pgbench-mixed50.sql"
    buffers=$(read_buffers)
    echo "$users,$numbered,$contacts,$numbers,$history,$source_kb,$refresh_ms,$staleness,$s1,$m50,$(awk -v r="$m50" 'BEGIN {printf "%.0f", r * 50}'),$buffers" >> "$out/size.csv"
    "$root/deploy/local-stack.sh" stop "$dir"
done

{
    echo "# txtpush: cost against the shape of the site"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores; one run of \`test/bench/sweep.sh\`: 500 keyword filters, a twentieth of"
    echo "the accounts deleted, $history history rows in each of the status and inbox tables; wrk c=16, ${seconds} s per point."
    echo "Staleness 0: user and address book fit in 256 kB, and a push refreshes the directory whenever a number changed."
    echo
    echo "| accounts | with a number | contacts | numbers | user + contacts kB | refresh ms | staleness bound s | status1 req/s | mixed50 req/s | mixed50 items/s | mixed50 read buffers |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    awk -F, 'NR > 1 {printf "| %d | %d%% | %d | %d | %d | %s | %s | %.0f | %.0f | %s | %s |\n", $1, $2, $3, $4, $6, $7, $8, $9, $10, $11, $12}' "$out/size.csv"
    awk -F, 'NR > 1 {if (min == "" || $10 < min) min = $10; if ($10 > max) max = $10}
             END {if (max > 0) printf "\nmixed50: slowest shape at %.0f%% of the fastest (flat within 10%%: %s).\n", 100 * min / max, (min >= 0.9 * max ? "yes" : "no")}' "$out/size.csv"
    awk -F, 'NR > 1 {if (min == "" || $12 < min) min = $12; if ($12 > max) max = $12}
             END {if (max > 0) printf "mixed50 reads: the most buffers any shape touched are %.0f%% above the fewest (flat within 10%%: %s).\n", 100 * (max - min) / min, (max <= 1.1 * min ? "yes" : "no")}' "$out/size.csv"
} > "$out/size.md"
gnuplot -e "csv='$out/size.csv'; png='$out/size.png'" "$here/size.gp"
cat "$out/size.md"
