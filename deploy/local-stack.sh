#!/usr/bin/env bash
# Runs txtpush on this machine in one folder: a throwaway PostgreSQL 15
# cluster, txtpushd, and nginx in front of it. Used by the quickstart and by
# the integration and end-to-end tests.
#
#   deploy/local-stack.sh start DIR BUILD_DIR [HTTP_PORT]
#   deploy/local-stack.sh stop DIR
# and, for the fault tests:
#   deploy/local-stack.sh pg-stop|pg-start DIR
#   deploy/local-stack.sh txtpushd-kill DIR          (SIGKILL, master and workers)
#   deploy/local-stack.sh txtpushd-start DIR BUILD_DIR
#
# DIR gets txtpushd.conf, nginx.conf, logs, the spool and the pid files. What
# other users must reach lives outside DIR, which may be private (a checkout
# in /root is 0700): the database in a /tmp folder owned by the postgres user
# (PostgreSQL refuses to run as root), recorded in DIR/pgdir; txtpushd's
# socket and nginx's temporary files in a /tmp folder nginx's unprivileged
# workers can enter, recorded in DIR/rundir. With TXTPUSH_PG_TCP_PORT set, the
# database also listens on 127.0.0.1 at that port (the quickstart uses 5433);
# otherwise only on its unix socket, port 5432. Must run as root.
#
# Two database roles, as in production: postgres owns the tables and runs
# `txtpushd migrate`; txtpushd itself connects as txtpush_app, which has only
# the rights `txtpushd grants txtpush_app` prints.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
pgbin=/usr/lib/postgresql/15/bin
cmd=${1:?usage: local-stack.sh start|stop DIR [BUILD_DIR] [HTTP_PORT]}
dir=${2:?usage: local-stack.sh start|stop DIR [BUILD_DIR] [HTTP_PORT]}

# From /: the caller's folder may be private, and postgres could not enter it.
as_postgres() { (cd / && runuser -u postgres -- "$@"); }
pg_port() { cat "$dir/pgport" 2>/dev/null || echo 5432; }

start_postgres() {
    local pgdir
    pgdir=$(mktemp -d /tmp/txtpush-pg.XXXXXX)
    chown postgres:postgres "$pgdir"
    chmod 0755 "$pgdir"
    echo "$pgdir" > "$dir/pgdir"
    echo "${TXTPUSH_PG_TCP_PORT:-5432}" > "$dir/pgport"
    as_postgres "$pgbin/initdb" -D "$pgdir/data" -U postgres -A trust -E UTF8 --no-locale >"$dir/initdb.log"
    pg_start
    as_postgres "$pgbin/createdb" -h "$pgdir" -p "$(pg_port)" txtpush
    as_postgres psql -q -h "$pgdir" -p "$(pg_port)" -d txtpush \
        -c "CREATE ROLE txtpush_app LOGIN" >/dev/null
}

make_rundir() {
    local rundir
    rundir=$(mktemp -d /tmp/txtpush-run.XXXXXX)
    chmod 0711 "$rundir"
    echo "$rundir" > "$dir/rundir"
}

write_configs() {
    local pgdir=$1 port=$2 rundir
    rundir=$(cat "$dir/rundir")
    cat > "$dir/txtpushd.conf" <<CONF
[server]
listen = $rundir/txtpushd.sock
socket_mode = 0666
workers = 2
log_level = info

[database]
conninfo = host=$pgdir port=$(pg_port) dbname=txtpush user=txtpush_app
table_prefix = mdl_
schema = txtpush

[spool]
dir = $dir/spool

[quarantine]
dir = $dir/quarantine

[push]
; The push credentials are MoodleTxt's own (migrate_and_grant saves them).
unknown_sender_name = Unknown
CONF
    # The site's snippet and the status snippet, in one server block here.
    cat "$here/nginx/txtpush.conf" "$here/nginx/txtpush-status.conf" |
        sed "s|unix:/run/txtpush/txtpushd.sock|unix:$rundir/txtpushd.sock|" > "$dir/txtpush-locations.conf"
    cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log $dir/nginx-access.log;
    client_body_temp_path $rundir/nginx-body;
    fastcgi_temp_path $rundir/nginx-fastcgi;
    server {
        listen 127.0.0.1:$port;
        include $dir/txtpush-locations.conf;
    }
}
CONF
    sed -i "s|include fastcgi_params;|include /etc/nginx/fastcgi_params;|" "$dir/txtpush-locations.conf"
}

owner_conninfo() { echo "host=$(cat "$dir/pgdir") port=$(pg_port) dbname=txtpush user=postgres"; }

# As the owner: the schema, then the runtime role's rights.
migrate_and_grant() {
    local build=$1
    "$build/txtpushd" migrate -c "$dir/txtpushd.conf" --conninfo "$(owner_conninfo)" >"$dir/migrate.log" 2>&1
    "$build/txtpushd" grants txtpush_app -c "$dir/txtpushd.conf" |
        psql -q -v ON_ERROR_STOP=1 "$(owner_conninfo)" >>"$dir/migrate.log"
    # The push credentials as MoodleTxt's settings page saves them: username
    # gateway, password secret encrypted with the site's key EK.
    psql -q -v ON_ERROR_STOP=1 "$(owner_conninfo)" >>"$dir/migrate.log" <<'SQL'
INSERT INTO mdl_config_plugins (plugin, name, value) VALUES
    ('moodletxt', 'EK', 'Qk7zLp2x9R'), ('moodletxt', 'Push_Username', 'gateway'),
    ('moodletxt', 'Push_Password', 'f6Fwp5')
ON CONFLICT (plugin, name) DO UPDATE SET value = EXCLUDED.value;
SQL
}

wait_for_socket() {
    for _ in $(seq 1 100); do
        [ -S "$1" ] && return 0
        sleep 0.05
    done
    echo "txtpushd did not open $1; see $dir/txtpushd.log" >&2
    return 1
}

start_txtpushd() {
    local sock
    sock="$(cat "$dir/rundir")/txtpushd.sock"
    rm -f "$sock"
    "$1/txtpushd" -c "$dir/txtpushd.conf" >>"$dir/txtpushd.log" 2>&1 &
    echo $! > "$dir/txtpushd.pid"
    wait_for_socket "$sock"
}

pg_ctl_stack() {
    as_postgres "$pgbin/pg_ctl" -D "$(cat "$dir/pgdir")/data" -l "$(cat "$dir/pgdir")/postgres.log" -w "$@" >/dev/null
}

pg_start() {
    pg_ctl_stack status && return 0
    local tcp=""
    [ "$(pg_port)" != 5432 ] && tcp=127.0.0.1
    pg_ctl_stack -o "-k $(cat "$dir/pgdir") -c listen_addresses='$tcp' -p $(pg_port)" start
}

kill_txtpushd() {
    local pid
    pid=$(cat "$dir/txtpushd.pid")
    pkill -KILL -P "$pid" || true
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$dir/txtpushd.pid"
}

start() {
    local build=${3:?BUILD_DIR needed} port=${4:-8080}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    stop_all 2>/dev/null || true
    start_postgres
    make_rundir
    write_configs "$(cat "$dir/pgdir")" "$port"
    migrate_and_grant "$build"
    start_txtpushd "$build"
    nginx -c "$dir/nginx.conf" -p "$dir"
    echo "txtpush is up: http://127.0.0.1:$port/blocks/moodletxt/push.php"
}

stop_pidfile() {
    local file=$1
    [ -f "$file" ] || return 0
    local pid
    pid=$(cat "$file")
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid"
        for _ in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$file"
}

stop_all() {
    stop_pidfile "$dir/nginx.pid"
    stop_pidfile "$dir/txtpushd.pid"
    if [ -f "$dir/pgdir" ]; then
        local pgdir
        pgdir=$(cat "$dir/pgdir")
        if [ -d "$pgdir/data" ]; then
            as_postgres "$pgbin/pg_ctl" -D "$pgdir/data" -m fast -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$pgdir" "$dir/pgdir" "$dir/pgport"
    fi
    if [ -f "$dir/rundir" ]; then
        rm -rf "$(cat "$dir/rundir")" "$dir/rundir"
    fi
}

case "$cmd" in
    start) start "$@" ;;
    stop) dir=$(cd "$dir" 2>/dev/null && pwd) || exit 0; stop_all ;;
    pg-stop) pg_ctl_stack -m fast stop ;;
    pg-start) pg_start ;;
    txtpushd-kill) kill_txtpushd ;;
    txtpushd-start) dir=$(cd "$dir" && pwd); start_txtpushd "${3:?BUILD_DIR needed}" ;;
    *) echo "usage: local-stack.sh start|stop DIR [BUILD_DIR] [HTTP_PORT]" >&2; exit 2 ;;
esac
