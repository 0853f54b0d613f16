#!/usr/bin/env bash
# On a fresh Debian 12 machine, as root: installs the packages, builds
# txtpushd, and runs it locally behind nginx on 127.0.0.1:8080 with a
# throwaway PostgreSQL cluster: config, logs and spool in ./.txtpush-local,
# the cluster and the socket in /tmp (README "The two commands" says why).
#   deploy/quickstart.sh          start (or restart)
#   deploy/quickstart.sh stop     stop everything it started
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
local_dir=$PWD/.txtpush-local

if [ "${1:-}" = stop ]; then
    deploy/local-stack.sh stop "$local_dir"
    exit 0
fi

deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target txtpushd
TXTPUSH_PG_TCP_PORT=5433 deploy/local-stack.sh start "$local_dir" build 8080

cat <<MSG

Push a sample status update (a second run adds no row):
  curl -s --data-urlencode u=gateway --data-urlencode p=secret \\
       --data-urlencode x@deploy/sample-push.xml http://127.0.0.1:8080/blocks/moodletxt/push.php

Look at the tables (database txtpush, user postgres, no password, 127.0.0.1:5433):
  psql -h 127.0.0.1 -p 5433 -U postgres txtpush -c 'SELECT * FROM mdl_block_moodletxt_status'
  psql -h 127.0.0.1 -p 5433 -U postgres txtpush -c 'SELECT * FROM txtpush.status_ledger'

Logs: $local_dir/txtpushd.log   Config: $local_dir/txtpushd.conf
Stop: deploy/quickstart.sh stop
MSG
