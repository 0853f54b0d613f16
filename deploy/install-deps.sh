#!/usr/bin/env bash
# Installs what txtpush needs to build, run and be tested, from Debian 12's
# own packages. README.md says why each one is here.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
    build-essential cmake pkg-config ca-certificates curl \
    libfcgi-dev libxml2-dev libpqxx-dev libfmt-dev libinih-dev libcli11-dev \
    libphonenumber-dev libsystemd-dev libssl-dev libgtest-dev \
    postgresql-15 postgresql-client-15 nginx-light pgbouncer \
    clang wrk gnuplot-nox linux-perf stress-ng \
    dpkg-dev file lintian man-db groff-base prometheus systemd >/dev/null
