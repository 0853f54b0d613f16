#!/usr/bin/env bash
# Beyond one host: two txtpushd instances (two "hosts") behind one nginx
# upstream that retries a failed attempt on the other one
# (fastcgi_next_upstream error timeout non_idempotent), both reaching the test
# stack's PostgreSQL through PgBouncer in transaction pooling mode
# (pool_mode = transaction in txtpushd.conf). One instance is SIGKILLed under
# load: every push must be answered 200 and stored exactly once.
#   test/e2e/scale_out.sh BUILD_DIR STACK_DIR HTTP_PORT PGBOUNCER_PORT
set -euo pipefail
build=$(cd "$1" && pwd) stack=$(cd "$2" && pwd) port=$3 bport=$4
pgdir=$(cat "$stack/pgdir")
pgport=$(cat "$stack/pgport")
work=$(mktemp -d /tmp/txtpush-scale.XXXXXX)
chmod 0711 "$work"
mkdir -p "$work/pgbouncer" "$work/run" "$work/load"
chown postgres "$work/pgbouncer"
chmod 0711 "$work/run"
declare -A pids=()

cleanup() {
    psql_stack "ALTER ROLE txtpush_app RESET synchronous_commit; DELETE FROM mdl_block_moodletxt_accounts WHERE id = 900" >/dev/null 2>&1 || true
    for name in "${!pids[@]}"; do
        pkill -KILL -P "${pids[$name]}" 2>/dev/null || true
        kill -KILL "${pids[$name]}" 2>/dev/null || true
    done
    [ -f "$work/nginx.pid" ] && kill -QUIT "$(cat "$work/nginx.pid")" 2>/dev/null || true
    [ -f "$work/pgbouncer/pgbouncer.pid" ] && kill -INT "$(cat "$work/pgbouncer/pgbouncer.pid")" 2>/dev/null || true
    # Until nginx and PgBouncer have gone (their pid files are removed on exit).
    for _ in $(seq 1 50); do [ -f "$work/nginx.pid" ] || [ -f "$work/pgbouncer/pgbouncer.pid" ] || break; sleep 0.1; done
    rm -rf "$work"
}
psql_stack() { runuser -u postgres -- sh -c "cd / && psql -tAq -h $pgdir -p $pgport -d txtpush -v ON_ERROR_STOP=1 -c \"$1\""; }
trap cleanup EXIT
fail() { echo "scale-out: $*" >&2; exit 1; }

# PgBouncer as docs/operations.md "Scaling out" configures it: connect_query
# is txtpushd's own session settings, as `txtpushd sql` prints them.
connect_query=$("$build/txtpushd" sql -c "$stack/txtpushd.conf" |
    awk '$0 == "-- session" {on = 1; next} on && /^$/ {on = 0} on' | tr '\n' ' ' | sed 's/ $//')  # reads it all: no SIGPIPE
case "$connect_query" in *"SET enable_seqscan = off;"*) ;; *) fail "no session settings from txtpushd sql: $connect_query" ;; esac
cat >"$work/pgbouncer/pgbouncer.ini" <<CONF
[databases]
txtpush = host=$pgdir port=$pgport dbname=txtpush connect_query='$connect_query'

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bport
unix_socket_dir =
auth_type = trust
auth_file = $work/pgbouncer/users.txt
pool_mode = transaction
default_pool_size = 2
max_client_conn = 200
server_reset_query =
logfile = $work/pgbouncer/pgbouncer.log
pidfile = $work/pgbouncer/pgbouncer.pid
CONF
echo '"txtpush_app" ""' >"$work/pgbouncer/users.txt"
chown postgres "$work/pgbouncer/"*
runuser -u postgres -- pgbouncer -d -q "$work/pgbouncer/pgbouncer.ini"
# The role's default says off: each write transaction must set it itself.
psql_stack "ALTER ROLE txtpush_app SET synchronous_commit = off"
# An account the inbound SMS are routed by (its default user 900), and that
# user; nothing left of an earlier run in the tickets used here.
first=950000000
psql_stack "DELETE FROM mdl_block_moodletxt_status WHERE ticketnumber >= $first;
            DELETE FROM mdl_block_moodletxt_inbox WHERE ticket >= $first;
            DELETE FROM txtpush.status_ledger WHERE ticketnumber >= $first;
            DELETE FROM txtpush.inbound_ledger WHERE ticket >= $first;
            DELETE FROM txtpush.unrouted WHERE ticket >= $first;
            DELETE FROM mdl_block_moodletxt_accounts WHERE id = 900;
            INSERT INTO mdl_user (id, username, firstname, lastname, phone2)
              SELECT 900, 'scaleout', 'Scale', 'Out', '' WHERE NOT EXISTS (SELECT 1 FROM mdl_user WHERE id = 900);
            INSERT INTO mdl_block_moodletxt_accounts (id, username, password, description, defaultuser, lastupdate)
              VALUES (900, 'ScaleOut', 'x', 'scale-out test', 900, 0)"

# Two instances: the stack's config, their own socket and spool, through PgBouncer.
for name in a b; do
    mkdir -p "$work/$name"
    sed -e "s|^listen = .*|listen = $work/run/$name.sock|" \
        -e "s|^conninfo = .*|conninfo = host=127.0.0.1 port=$bport dbname=txtpush user=txtpush_app|" \
        -e "s|^schema = txtpush|schema = txtpush\npool_mode = transaction|" \
        -e "s|^dir = .*/spool|dir = $work/$name/spool|" \
        -e "s|^dir = .*/quarantine|dir = $work/$name/quarantine|" \
        "$stack/txtpushd.conf" >"$work/$name/txtpushd.conf"
    grep -q "pool_mode = transaction" "$work/$name/txtpushd.conf" || fail "config not rewritten"
    "$build/txtpushd" -c "$work/$name/txtpushd.conf" 2>"$work/$name/txtpushd.log" &
    pids[$name]=$!
done
for name in a b; do
    for _ in $(seq 1 100); do [ -S "$work/run/$name.sock" ] && break; sleep 0.05; done
    [ -S "$work/run/$name.sock" ] || fail "instance $name did not start: $(cat "$work/$name/txtpushd.log")"
done

cat >"$work/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log error;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/run/body;
    fastcgi_temp_path $work/run/fastcgi;
    upstream txtpush {
        server unix:$work/run/a.sock max_fails=0;
        server unix:$work/run/b.sock max_fails=0;
    }
    server {
        listen 127.0.0.1:$port;
        location = /blocks/moodletxt/push.php {
            include /etc/nginx/fastcgi_params;
            fastcgi_param REQUEST_ID \$request_id;
            fastcgi_keep_conn off;
            # Pushes are idempotent: a failed attempt may go to the other host.
            fastcgi_next_upstream error timeout non_idempotent;
            fastcgi_pass txtpush;
        }
    }
}
CONF
nginx -p "$work" -c "$work/nginx.conf"

# Load: 4 clients, each push a status update and an inbound SMS, unique tickets.
client() {
    local c=$1 i=0 ticket xml
    while [ ! -f "$work/stop" ]; do
        ticket=$((first + c * 1000000 + i))
        xml="<Response><MessageStatus><Ticket>$ticket</Ticket><Status>5</Status><StatusMessage>ok</StatusMessage></MessageStatus><InboundMessage><Ticket>$ticket</Ticket><MessageText>hi</MessageText><Phone>+447700900999</Phone><Date>1764000000</Date><Destination>88020</Destination><DestinationAccount>ScaleOut</DestinationAccount></InboundMessage></Response>"
        curl -s -o /dev/null -w '%{http_code}\n' --data-urlencode u=gateway --data-urlencode p=secret \
            --data-urlencode "x=$xml" "http://127.0.0.1:$port/blocks/moodletxt/push.php" >>"$work/load/$c" || echo 000 >>"$work/load/$c"
        i=$((i + 1))
    done
}
# Answers so far; waits (at most 60 s) until there are $1 more.
answered() { cat "$work"/load/* 2>/dev/null | wc -l; }
until_answered() {
    local target=$(( $(answered) + $1 ))
    for _ in $(seq 1 600); do [ "$(answered)" -ge "$target" ] && return 0; sleep 0.1; done
    echo "fewer than $1 more answers within 60 s" >&2; return 1
}
for c in 1 2 3 4; do client "$c" & done
until_answered 40
before_kill=$(answered)
pkill -KILL -P "${pids[a]}" || true
kill -KILL "${pids[a]}"
unset 'pids[a]'
until_answered 40  # instance b alone, through nginx's failover
touch "$work/stop"
wait $(jobs -p | grep -v "${pids[b]}") 2>/dev/null || true
for _ in $(seq 1 50); do [ "$(jobs -rp | wc -l)" -le 1 ] && break; sleep 0.1; done

sent=$(cat "$work"/load/* | wc -l)
ok=$(cat "$work"/load/* | grep -c '^200$' || true)
echo "pushes: $sent ($before_kill before instance a was killed), answered 200: $ok"
[ "$before_kill" -gt 20 ] || fail "too little load before the kill ($before_kill)"
[ "$sent" -gt "$before_kill" ] || fail "no push after the kill"
[ "$ok" = "$sent" ] || fail "answers other than 200: $(cat "$work"/load/* | sort | uniq -c | tr '\n' ' ')"
statuses=$(psql_stack "SELECT count(*) || ' ' || count(DISTINCT ticketnumber) FROM mdl_block_moodletxt_status WHERE ticketnumber >= $first")
[ "$statuses" = "$sent $sent" ] || fail "status rows (all, distinct tickets): $statuses, expected $sent $sent"
inbox=$(psql_stack "SELECT count(*) || ' ' || count(DISTINCT (ticket, userid)) FROM mdl_block_moodletxt_inbox WHERE ticket >= $first")
[ "$inbox" = "$sent $sent" ] || fail "inbox rows (all, distinct): $inbox, expected $sent $sent"
ledger=$(psql_stack "SELECT count(*) FROM txtpush.inbound_ledger WHERE ticket >= $first AND inboxid IS NOT NULL")
[ "$ledger" = "$sent" ] || fail "inbound ledger entries: $ledger, expected $sent"
unrouted=$(psql_stack "SELECT count(*) FROM txtpush.unrouted WHERE ticket >= $first")
[ "$unrouted" = 0 ] || fail "$unrouted inbound SMS unrouted"
retried=$(grep -c "upstream" "$work/nginx-error.log" || true)
[ "$retried" -ge 1 ] || fail "nginx retried nothing: the kill met no request in flight"
echo "scale-out ok: $sent pushes, each stored once; nginx logged $retried upstream error(s) it retried on the other host"
