#!/usr/bin/env bash
# The benchmark: on this machine, in one run, through nginx over loopback,
#   - txtpushd with realistic pushes (1 status update; 25 status updates +
#     25 inbound SMS routed through a keyword filter, Moodle users and contacts),
#   - the transport ceiling: nginx + a no-op FastCGI responder (noop_fcgi, same
#     libfcgi, unix socket and worker count) answering 200 to the same bodies,
#   - the database ceiling: pgbench running the least SQL that writes the same
#     rows (one INSERT for a status update; for the mixed push, the 25 status
#     rows, the 30 inbox rows and their 9 link rows in two INSERT ... SELECT in
#     one transaction; no routing reads, no ledger), at the connection count
#     (1..32) that maximises it,
#   - the database ceiling with the ledger: the least SQL that writes the same
#     Moodle rows and the same ledger rows (storing a push exactly once needs
#     them: Moodle's tables have no unique keys): one statement per push,
#     INSERT ... ON CONFLICT DO NOTHING on the ledger's key, the Moodle rows
#     for what it took, no reads; at its best connection count,
#   - the combined ceilings: transport and database share the same cores, so
#     1 / (1/transport + 1/database); the headline ratio is txtpushd ÷ the
#     combined ceiling with the ledger (the one without is printed too),
#   - as a diagnosis, not a ceiling: pgbench running txtpushd's own statements
#     (`txtpushd sql`) with as many connections as txtpushd has workers,
# at several concurrencies, with wrk as the load generator. Writes
# test/bench/results/latest.md, results.csv and throughput.png.
#
#   test/bench/run.sh            (as root; BENCH_SECONDS=10 per point, BENCH_CONCURRENCY="1 4 16 64",
#                                 BENCH_WORKERS=8 txtpushd's and the no-op responder's worker count,
#                                 BENCH_DB_CONNECTIONS="1 2 4 8 16 32" tried for the database ceiling)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build=${BENCH_BUILD:-$root/build-bench}
seconds=${BENCH_SECONDS:-10}
concurrency=${BENCH_CONCURRENCY:-"1 4 16 64"}
bench_workers=${BENCH_WORKERS:-8}
db_connections=${BENCH_DB_CONNECTIONS:-"1 2 4 8 16 32"}
rss_requests=${BENCH_RSS_REQUESTS:-120000}
dir=/tmp/txtpush-bench
out=$here/results
port=19080
noop_port=19081
pgbin=/usr/lib/postgresql/15/bin

if [ "${BENCH_SKIP_INSTALL:-0}" != 1 ]; then "$root/deploy/install-deps.sh"; fi
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=ON >/dev/null
cmake --build "$build" -j"$(nproc)" --target txtpushd noop_fcgi >/dev/null

cleanup() {
    [ -f "$dir/noop-nginx.pid" ] && kill "$(cat "$dir/noop-nginx.pid")" 2>/dev/null || true
    [ -f "$dir/noop.pid" ] && kill "$(cat "$dir/noop.pid")" 2>/dev/null || true
    "$root/deploy/local-stack.sh" stop "$dir" || true
}
trap cleanup EXIT
rm -rf "$dir" && mkdir -p "$dir" "$out"
"$root/deploy/local-stack.sh" start "$dir" "$build" "$port" >/dev/null
sed -i "s/^workers = .*/workers = $bench_workers/" "$dir/txtpushd.conf"
kill -HUP "$(cat "$dir/txtpushd.pid")" && sleep 1
pghost=$(cat "$dir/pgdir")
psql_bench() { "$pgbin/psql" -q -h "$pghost" -U postgres -d txtpush -v ON_ERROR_STOP=1 "$@"; }
psql_bench -f "$here/seed.sql" >/dev/null
workers=$(grep -E '^workers' "$dir/txtpushd.conf" | awk '{print $3}')

# The transport ceiling, behind its own nginx with the same settings.
rundir=$(cat "$dir/rundir")
"$build/test/noop_fcgi" "$rundir/noop.sock" "$workers" & echo $! > "$dir/noop.pid"
sed -e "s|$rundir/txtpushd.sock|$rundir/noop.sock|g" "$dir/txtpush-locations.conf" > "$dir/noop-locations.conf"
sed -e "s|127.0.0.1:$port|127.0.0.1:$noop_port|; s|nginx.pid|noop-nginx.pid|; s|txtpush-locations.conf|noop-locations.conf|; s|nginx-access.log|noop-access.log|" \
    "$dir/nginx.conf" > "$dir/noop-nginx.conf"
sleep 0.3
nginx -c "$dir/noop-nginx.conf" -p "$dir"

# --- pgbench scripts: txtpushd's own statements (own-statements.sh), and the least SQL
source "$here/own-statements.sh"

# The least SQL that writes the same Moodle rows: no routing reads, no ledger.
{
    echo '\set t random(1, 190000000) * 50'
    echo "INSERT INTO mdl_block_moodletxt_status (ticketnumber, status, statusmessage, updatetime) VALUES (:t, 5, 'Delivered To Handset', 1764000000);"
} > "$dir/least-status1.sql"
{
    echo '\set t random(1, 190000000) * 50'
    echo 'BEGIN;'
    echo "INSERT INTO mdl_block_moodletxt_status (ticketnumber, status, statusmessage, updatetime) SELECT :t::bigint + g, g % 7 - 1, 'Delivered To Handset', 1764000000 FROM generate_series(0, 24) AS g;"
    echo "WITH m AS (SELECT g, u FROM generate_series(0, 24) AS g, LATERAL unnest(CASE WHEN g % 5 = 0 THEN ARRAY[101, 102] ELSE ARRAY[100] END) AS u), i AS (INSERT INTO mdl_block_moodletxt_inbox (userid, ticket, messagetext, source, sourcefirstname, sourcelastname, timereceived, hasbeenread) SELECT u, :t::bigint + 25 + g, CASE WHEN g % 5 = 0 THEN 'HELP with homework' ELSE 'Absent today, sorry' END, '+447700900001', 'First', 'Last', 1764000000, 0 FROM m RETURNING id, ticket - :t::bigint - 25 AS g), lu AS (INSERT INTO mdl_block_moodletxt_in_u (userid, receivedmessage) SELECT 1000 + g % 50, id FROM i WHERE g % 5 = 1) INSERT INTO mdl_block_moodletxt_in_ab (contact, receivedmessage) SELECT g % 40 + 1, id FROM i WHERE g % 5 <> 1 AND g % 8 = 2;"
    echo 'COMMIT;'
} > "$dir/least-mixed50.sql"

# The least SQL that writes the same Moodle rows and the same ledger rows, in
# one statement: the ledger takes what it has not seen (ids drawn for it),
# the Moodle rows follow for those only.
{
    echo '\set t random(1, 190000000) * 50'
    echo "WITH l AS (INSERT INTO txtpush.status_ledger (ticketnumber, status, received_at, request_id, origin, statusid) VALUES (:t, 5, to_timestamp(1764000000), 'bench', 'push', nextval('mdl_block_moodletxt_status_id_seq')) ON CONFLICT DO NOTHING RETURNING ticketnumber, status, statusid) INSERT INTO mdl_block_moodletxt_status (id, ticketnumber, status, statusmessage, updatetime) SELECT statusid, ticketnumber, status, 'Delivered To Handset', 1764000000 FROM l;"
} > "$dir/ledger-status1.sql"
{
    echo '\set t random(1, 190000000) * 50'
    echo "WITH sl AS (INSERT INTO txtpush.status_ledger (ticketnumber, status, received_at, request_id, origin, statusid) SELECT :t::bigint + g, g % 7 - 1, to_timestamp(1764000000), 'bench', 'push', nextval('mdl_block_moodletxt_status_id_seq') FROM generate_series(0, 24) AS g ON CONFLICT DO NOTHING RETURNING ticketnumber, status, statusid), s AS (INSERT INTO mdl_block_moodletxt_status (id, ticketnumber, status, statusmessage, updatetime) SELECT statusid, ticketnumber, status, 'Delivered To Handset', 1764000000 FROM sl), m AS (SELECT g, u FROM generate_series(0, 24) AS g, LATERAL unnest(CASE WHEN g % 5 = 0 THEN ARRAY[101, 102] ELSE ARRAY[100] END) AS u), il AS (INSERT INTO txtpush.inbound_ledger (ticket, userid, account, received_at, request_id, origin, inboxid) SELECT :t::bigint + 25 + g, u, 'CollegeSMS', to_timestamp(1764000000), 'bench', 'push', nextval('mdl_block_moodletxt_inbox_id_seq') FROM m ON CONFLICT DO NOTHING RETURNING ticket, userid, inboxid), i AS (INSERT INTO mdl_block_moodletxt_inbox (id, userid, ticket, messagetext, source, sourcefirstname, sourcelastname, timereceived, hasbeenread) SELECT inboxid, userid, ticket, CASE WHEN (ticket - :t::bigint - 25) % 5 = 0 THEN 'HELP with homework' ELSE 'Absent today, sorry' END, '+447700900001', 'First', 'Last', 1764000000, 0 FROM il RETURNING id, ticket - :t::bigint - 25 AS g), lu AS (INSERT INTO mdl_block_moodletxt_in_u (userid, receivedmessage) SELECT 1000 + g % 50, id FROM i WHERE g % 5 = 1) INSERT INTO mdl_block_moodletxt_in_ab (contact, receivedmessage) SELECT g % 40 + 1, id FROM i WHERE g % 5 <> 1 AND g % 8 = 2;"
} > "$dir/ledger-mixed50.sql"

# --- measurement helpers
cpu_ticks() {  # utime+stime of every process whose command name matches $1
    local total=0 pid comm rest
    for stat in /proc/[0-9]*/stat; do
        { read -r pid comm rest < "$stat"; } 2>/dev/null || continue
        [[ $comm =~ ^\(($1)\)$ ]] || continue
        set -- "$1" $rest
        total=$((total + ${13} + ${14}))
    done
    echo "$total"
}
groups="txtpushd nginx postgres noop_fcgi"  # wrk and pgbench exit before the second snapshot
cpu_snapshot() { for g in $groups; do printf '%s ' "$(cpu_ticks "$g")"; done; }
cpu_delta() {  # cores used per group between two snapshots over $3 seconds
    local -a a=($1) b=($2); local i=0 res=""
    for g in $groups; do res+="$g=$(awk -v x="${a[$i]}" -v y="${b[$i]}" -v s="$3" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", (y - x) / hz / s}') "; i=$((i + 1)); done
    echo "$res"
}
worker_memory() {  # "RSS/PSS/private" in KiB of the txtpushd child holding the most private memory
    local master best=0 line=""
    master=$(cat "$dir/txtpushd.pid")
    for child in $(cat /proc/"$master"/task/*/children); do
        read -r rss pss priv < <(awk '/^Rss:/ {r = $2} /^Pss:/ {p = $2} /^Private_(Clean|Dirty):/ {v += $2} END {print r, p, v}' \
            /proc/"$child"/smaps_rollup 2>/dev/null || echo "0 0 0")
        if [ "${priv:-0}" -gt "$best" ]; then best=$priv; line="$rss/$pss/$priv"; fi
    done
    echo "$line"
}
ms() { awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.3f", v / 1000; else if (v ~ /ms$/) printf "%.3f", v + 0; else printf "%.3f", v * 1000 }'; }

run_index=0
echo "target,shape,concurrency,req_s,items_s,p50_ms,p99_ms,cpu" > "$out/results.csv"
run_wrk() {  # target port shape concurrency
    local target=$1 p=$2 shape=$3 c=$4 threads=$(( $4 < 2 ? $4 : 2 )) before after log items
    items=$([ "$shape" = status1 ] && echo 1 || echo 50)
    before=$(cpu_snapshot)
    log=$(wrk -t"$threads" -c"$c" -d"${seconds}s" --latency -s "$here/push.lua" \
        "http://127.0.0.1:$p/blocks/moodletxt/push.php" -- "$shape" "$run_index")
    after=$(cpu_snapshot)
    run_index=$((run_index + 1))
    local rps p50 p99 non2xx
    rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$log")
    p50=$(ms "$(awk '$1 == "50%" {print $2}' <<<"$log")")
    p99=$(ms "$(awk '$1 == "99%" {print $2}' <<<"$log")")
    non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$log")
    [ -n "$non2xx" ] && echo "warning: $target $shape c=$c: $non2xx non-2xx answers" >&2
    echo "$target,$shape,$c,$rps,$(awk -v r="$rps" -v i="$items" 'BEGIN {printf "%.0f", r * i}'),$p50,$p99,$(cpu_delta "$before" "$after" "$seconds")" >> "$out/results.csv"
}
run_pgbench() {  # target script shape concurrency connections
    local target=$1 script=$2 shape=$3 c=$4 conns=$5 before after log items
    items=$([ "$shape" = status1 ] && echo 1 || echo 50)
    rm -f "$dir"/pgbench_log.*
    before=$(cpu_snapshot)
    # With the session settings txtpushd uses (lib/push_store.cpp, Session).
    log=$(cd "$dir" && PGOPTIONS="$session_options" "$pgbin/pgbench" -h "$pghost" -U postgres -n -M prepared -c "$conns" -j "$(( conns < 2 ? conns : 2 ))" -T "$seconds" \
        -l --log-prefix=pgbench_log -f "$script" txtpush 2>&1)
    after=$(cpu_snapshot)
    local tps p50 p99
    tps=$(awk '/^tps = / {print $3; exit}' <<<"$log")
    read -r p50 p99 < <(cat "$dir"/pgbench_log.* | awk '{print $3}' | sort -n | awk '{v[NR] = $1} END {printf "%.3f %.3f\n", v[int(NR * 0.5) + 1] / 1000, v[int(NR * 0.99) + 1] / 1000}')
    echo "$target,$shape,$c,$tps,$(awk -v r="$tps" -v i="$items" 'BEGIN {printf "%.0f", r * i}'),$p50,$p99,$(cpu_delta "$before" "$after" "$seconds")" >> "$out/results.csv"
}

for shape in status1 mixed50; do
    for c in $concurrency; do
        echo "bench: $shape c=$c" >&2
        run_wrk txtpushd "$port" "$shape" "$c"
        run_wrk transport "$noop_port" "$shape" "$c"
        # txtpushd's own SQL, one connection per busy worker: a diagnosis.
        run_pgbench own_sql "$dir/pgbench-$shape.sql" "$shape" "$c" $(( c < bench_workers ? c : bench_workers ))
    done
    for conns in $db_connections; do  # the concurrency column holds the connections here
        echo "bench: $shape least SQL, $conns connections" >&2
        run_pgbench least_sql "$dir/least-$shape.sql" "$shape" "$conns" "$conns"
        echo "bench: $shape least SQL with the ledger, $conns connections" >&2
        run_pgbench least_ledger "$dir/ledger-$shape.sql" "$shape" "$conns" "$conns"
    done
done

# Worker memory over a long run of 1-item pushes.
stored_count() { curl -s "http://127.0.0.1:$port/txtpush-status" | awk '$1 == "txtpush_requests_total{outcome=\"stored\"}" {print $2}'; }
rss_before=$(worker_memory)
served0=$(stored_count)
long=$(awk -v n="$rss_requests" -v r="$(awk -F, '$1 == "txtpushd" && $2 == "status1" && $3 == 16 {print $4}' "$out/results.csv")" 'BEGIN {printf "%d", n / (r > 0 ? r : 1000) + 2}')
seconds=$long run_wrk txtpushd "$port" status1 16
sed -i '$d' "$out/results.csv"
rss_mid=$(worker_memory)
served1=$(stored_count)
seconds=$long run_wrk txtpushd "$port" status1 16
sed -i '$d' "$out/results.csv"
rss_after=$(worker_memory)
served2=$(stored_count)

"$here/report.sh" "$out/results.csv" "$bench_workers" "$rss_before" "$rss_mid" "$rss_after" $((served1 - served0)) $((served2 - served1)) "$served2" \
    > "$out/latest.md"
gnuplot -e "csv='$out/results.csv'; png='$out/throughput.png'" "$here/plot.gp"
cat "$out/latest.md"
