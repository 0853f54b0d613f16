#!/usr/bin/env bash
# The operator commands that need no database: what they print and their exit
# codes (0 done, 1 failed, 2 bad config, 64 bad command line; see txtpushd(8)).
#   test/cli/check_cli.sh BUILD/txtpushd FIXTURES_DIR
set -uo pipefail
bin=$1 fixtures=$2
failures=0
expect() {  # expect CODE PATTERN -- COMMAND...
    local code=$1 pattern=$2
    shift 3
    local out rc
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" != "$code" ] || ! grep -qE -- "$pattern" <<<"$out"; then
        echo "FAIL: $* -> exit $rc (expected $code), output: $out" >&2
        failures=$((failures + 1))
    fi
}
conf=$(mktemp)
trap 'rm -f "$conf"' EXIT

expect 0 '^txtpushd [0-9]+\.[0-9]+\.[0-9]+$' -- "$bin" --version
expect 0 '^status ticket=123 status=5 message="Delivered To Handset" phone="\+441234567890"$' -- \
    "$bin" validate "$fixtures/valid/mixed-doc-example.xml"
expect 0 '^inbound ticket=1278 account="GregJPreece" from="\+4471234567890" destination="\+449876543210" date=1234567890 text="Example"$' -- \
    "$bin" validate "$fixtures/valid/mixed-doc-example.xml"
expect 0 '^valid: 1 status update\(s\), 1 inbound SMS' -- sh -c "'$bin' validate - < '$fixtures/valid/mixed-doc-example.xml'"
expect 1 '^invalid: line [0-9]+: .*Status' -- "$bin" validate "$fixtures/invalid/status-code-out-of-range.xml"
expect 1 '^invalid: .*DOCTYPE' -- "$bin" validate "$fixtures/invalid/xxe-file.xml"
expect 1 'cannot read' -- "$bin" validate /nonexistent.xml
printf '[push]\nusername = gw\npassword = pw\n[push]\nunknown_sender_name = X\n' >"$conf"
expect 2 'line 4: \[push\]: section given twice' -- "$bin" check-config -c "$conf"
printf '[push]\nusername = gw\npassword = pw\nusername = other\n' >"$conf"
expect 2 'line 4: \[push\] username: given twice' -- "$bin" check-config -c "$conf"
printf '[push]\nusername = gw\npassword = pw\n' >"$conf"
expect 0 '^config ok$' -- "$bin" check-config -c "$conf"
expect 64 'not expected' -- "$bin" no-such-command
# Refused as `nginx -t` refuses: names every statement would fail on, the example's placeholder.
printf '[database]\ntable_prefix = 1_\n' >"$conf"
expect 2 'table_prefix: .*not starting with a digit' -- "$bin" check-config -c "$conf"
printf '[database]\nschema = user\n' >"$conf"
expect 2 'schema: .*reserved word' -- "$bin" check-config -c "$conf"
printf '[push]\nusername = gw\npassword_sha256 = %064d\n' 0 >"$conf"
expect 2 'placeholder' -- "$bin" check-config -c "$conf"
# A valid config whose socket cannot be made is not "configuration invalid": exit 1.
printf '[server]\nlisten = /nonexistent-dir/txtpushd.sock\n[spool]\ndir = /tmp/txtpush-cli-spool\n' >"$conf"
expect 1 'event=listen_failed' -- "$bin" -c "$conf"
expect 0 '^config ok$' -- "$bin" check-config -c "$conf"
[ "$failures" = 0 ] && echo "cli ok"
exit $((failures > 0))
