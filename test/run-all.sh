#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine, as root:
#  1. installs the packages (deploy/install-deps.sh);
#  2. builds and runs every CTest suite: unit, integration and end-to-end
#     against a real PostgreSQL and nginx that the suite starts and stops;
#  3. builds the Debian package, lints it, installs it and follows the
#     deployment steps of docs/operations.md with it (test/package/check-package.sh);
#  4. runs the unit and integration tests again under AddressSanitizer and
#     UndefinedBehaviorSanitizer;
#  5. runs each libFuzzer target (clang) for a bounded time.
# TXTPUSH_FUZZ_SECONDS (default 30) sets how long each fuzz target runs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
jobs=$(nproc)

deploy/install-deps.sh

echo "== build and test"
# The build folders, where the test stacks keep their config and logs, are
# private: as in a checkout under /root, nothing nginx's unprivileged workers
# need may live there (deploy/local-stack.sh keeps the socket in /tmp).
mkdir -p build build-asan && chmod 0700 build build-asan
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=ON >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure --timeout 300)

echo "== the Debian package: lint, install, deploy as docs/operations.md says"
test/package/check-package.sh build

echo "== unit and integration tests under ASan and UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=ON -DTXTPUSH_SANITIZE=ON \
    -DTXTPUSH_TEST_HTTP_PORT=18081 >/dev/null
cmake --build build-asan -j"$jobs" --target txtpushd unit_tests integration_tests
(cd build-asan &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    LSAN_OPTIONS=suppressions=$root/test/sanitizer/lsan.supp \
    ctest --output-on-failure --timeout 300 -R '^(unit|integration|stack)\.')

echo "== fuzzing"
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
    -DTXTPUSH_FUZZ=ON -DTXTPUSH_FUZZ_SECONDS="${TXTPUSH_FUZZ_SECONDS:-30}" >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_form fuzz_push_xml
(cd build-fuzz && ctest --output-on-failure --timeout 300)
