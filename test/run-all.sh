#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine, as root:
#  1. installs the packages (deploy/install-deps.sh);
#  2. builds and runs every CTest suite: unit, integration and end-to-end
#     against a real PostgreSQL and nginx that the suite starts and stops;
#  3. builds the Debian package, lints it, installs it and follows the
#     deployment steps of docs/operations.md with it (test/package/check-package.sh);
#  4. runs the unit, integration and end-to-end tests again under
#     AddressSanitizer and UndefinedBehaviorSanitizer, the daemon sanitized
#     too (pushes, hostile input, the pool's signals and reloads, the spool,
#     the live site), and fails on any sanitizer report in its log;
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

echo "== unit, integration and end-to-end tests under ASan and UBSan, the daemon sanitized too"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBUILD_TESTING=ON -DTXTPUSH_SANITIZE=ON \
    -DTXTPUSH_TEST_HTTP_PORT=18081 >/dev/null
cmake --build build-asan -j"$jobs" --target txtpushd unit_tests integration_tests e2e_tests
reports=$root/build-asan/sanitizer-reports  # one file per report, every process's
rm -rf "$reports" build-asan/test-stack/txtpushd.log* && mkdir -p "$reports"
sanitized=0
(cd build-asan &&
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:log_path=$reports/asan \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan \
    LSAN_OPTIONS=suppressions=$root/test/sanitizer/lsan.supp:print_suppressions=0 \
    ctest --output-on-failure --timeout 300 \
        -R '^(unit|integration|stack)\.|^e2e\.(PushE2E|HostileInput|Pool|Durability|LiveSite|Readiness)\.') || sanitized=1
test/sanitizer/check-reports.sh "$reports" build-asan/test-stack || sanitized=1
[ "$sanitized" = 0 ]

echo "== fuzzing"
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBUILD_TESTING=OFF \
    -DTXTPUSH_FUZZ=ON -DTXTPUSH_FUZZ_SECONDS="${TXTPUSH_FUZZ_SECONDS:-30}" >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_form fuzz_push_xml
(cd build-fuzz && ctest --output-on-failure --timeout 300)
