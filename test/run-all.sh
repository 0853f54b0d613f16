#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine, as root: installs the
# packages, builds, and runs every CTest suite (unit, integration and
# end-to-end against a real PostgreSQL and nginx that the tests start and stop).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON >/dev/null
cmake --build build -j"$(nproc)"
cd build
ctest --output-on-failure --timeout 300
