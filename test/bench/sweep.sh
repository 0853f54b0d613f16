#!/usr/bin/env bash
# The cost of a push against the size of the Moodle site, in one run: for
# each number of users (SWEEP_USERS, default "1000 10000 100000"), a site
# with 2,000 address-book contacts, 500 keyword filters and SWEEP_HISTORY
# rows of history in each of the status and inbox tables (default 1,000,000;
# duplicates included, as the plugin leaves them), then
#   - what refreshing the phone directory costs, and so how stale it may be
#     (txtpush.phone_directory_state; README "Inbound routing"),
#   - txtpushd's throughput with the bench's pushes (wrk, c=16, BENCH_SECONDS).
# Writes test/bench/results/size.md, size.csv and size.png.
#
#   test/bench/sweep.sh     (as root; needs what run.sh needs)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build=${BENCH_BUILD:-$root/build-bench}
seconds=${BENCH_SECONDS:-10}
users_list=${SWEEP_USERS:-"1000 10000 100000"}
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

echo "users,contacts,filters,history,refresh_ms,staleness_s,status1_req_s,mixed50_req_s,mixed50_items_s" > "$out/size.csv"
run=0
for users in $users_list; do
    echo "sweep: $users users" >&2
    # Each size on a fresh cluster, so that one size's writes (WAL, bloat) do
    # not weigh on the next; txtpushd is stopped while the site is built (its
    # spooler would catch up the history meanwhile).
    "$root/deploy/local-stack.sh" start "$dir" "$build" "$port" >/dev/null
    "$root/deploy/local-stack.sh" txtpushd-kill "$dir"
    psql_run -v users="$users" -v history="$history" -f "$here/seed-size.sql" >/dev/null
    "$root/deploy/local-stack.sh" txtpushd-start "$dir" "$build"
    # A number changed, then what one refresh costs (the third of three, warm).
    for _ in 1 2 3; do
        psql_run -c "UPDATE mdl_user SET phone1 = CASE phone1 WHEN '' THEN '07000 000100' ELSE '' END WHERE id = 100;
                     SELECT txtpush.refresh_phone_directory()" >/dev/null
    done
    read -r refresh_ms staleness < <(psql_run -At -F ' ' -c \
        "SELECT round(extract(epoch FROM cost) * 1000, 1),
                CASE WHEN entries < 10000 THEN 0 ELSE round(least(greatest(extract(epoch FROM cost) * 100, 1), 5), 1) END
         FROM txtpush.phone_directory_state")
    s1=$(rate status1 $((run * 2)))
    m50=$(rate mixed50 $((run * 2 + 1)))
    run=$((run + 1))
    echo "$users,2000,500,$history,$refresh_ms,$staleness,$s1,$m50,$(awk -v r="$m50" 'BEGIN {printf "%.0f", r * 50}')" >> "$out/size.csv"
    "$root/deploy/local-stack.sh" stop "$dir"
done

{
    echo "# txtpush: cost against the size of the site"
    echo
    echo "$(date -u +%Y-%m-%d), $(nproc) cores; one run of \`test/bench/sweep.sh\`: 2,000 contacts, 500 keyword filters,"
    echo "$history history rows in each of the status and inbox tables; wrk c=16, ${seconds} s per point."
    echo "Staleness 0: the directory holds under 10,000 numbers and is refreshed whenever a number changed."
    echo
    echo "| users | directory refresh ms | staleness bound s | status1 req/s | mixed50 req/s | mixed50 items/s |"
    echo "|---|---|---|---|---|---|"
    awk -F, 'NR > 1 {printf "| %d | %s | %s | %.0f | %.0f | %s |\n", $1, $5, $6, $7, $8, $9}' "$out/size.csv"
    awk -F, 'NR == 2 {a = $8} END {if (a > 0) printf "\nmixed50 at %d users: %.0f%% of its rate at %s users.\n", $1, 100 * $8 / a, first} NR == 2 {first = $1}' "$out/size.csv"
} > "$out/size.md"
gnuplot -e "csv='$out/size.csv'; png='$out/size.png'" "$here/size.gp"
cat "$out/size.md"
