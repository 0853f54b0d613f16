#!/usr/bin/env bash
# Builds the Debian package from a checkout, as docs/operations.md says: its own
# build folder (BUILD_DIR, default build-package), only what the package
# installs (no tests), with Debian's compiler and linker hardening
# (dpkg-buildflags, hardening=+all: fortify, stack protector, PIE, relro,
# bindnow). Prints the path of the .deb.
#   deploy/build-package.sh [BUILD_DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=${1:-$root/build-package}
export DEB_BUILD_MAINT_OPTIONS=hardening=+all
# CMake takes CXXFLAGS and LDFLAGS from the environment at its first configure;
# CPPFLAGS (_FORTIFY_SOURCE) goes with the compile flags.
CXXFLAGS="$(dpkg-buildflags --get CXXFLAGS) $(dpkg-buildflags --get CPPFLAGS)"
LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"
export CXXFLAGS LDFLAGS
rm -rf "$build/CMakeCache.txt"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF >/dev/null
cmake --build "$build" -j"$(nproc)" --target package >/dev/null
ls -t "$build"/txtpush_*.deb | head -1
