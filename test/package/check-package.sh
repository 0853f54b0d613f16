#!/usr/bin/env bash
# The Debian package, as an operator meets it (run as root by test/run-all.sh):
#  1. builds it (cpack) and lints it: lintian finds no error;
#  2. installs it with apt, which pulls its dependencies;
#  3. checks what the install did: man pages, the txtpush user, the config's
#     mode and group, check-config on the installed config;
#  4. follows the deployment steps of docs/operations.md with the installed files: edit
#     /etc/txtpush/txtpushd.conf, include /etc/nginx/snippets/txtpush.conf in a
#     server block, run migrate and the grants, start /usr/sbin/txtpushd as the
#     txtpush user (as the systemd unit does), push the sample through nginx;
#  5. runs the installed binary against the test stack (deploy/local-stack.sh);
#  6. upgrades it non-interactively to a package whose shipped config changed
#     (the local settings live in a drop-in: no conffile prompt);
#  7. removes it (the units disabled) and purges it (no enable symlink left,
#     the quarantine deleted, a spool holding a push kept and said so, nginx's
#     configuration still valid: the snippets are included as patterns).
# Then removes the package if it was not installed before, and stops all it started.
#   test/package/check-package.sh BUILD_DIR
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
build=$(cd "${1:?BUILD_DIR}" && pwd)
port=18090
work=$(mktemp -d /tmp/txtpush-package.XXXXXX)
chmod 0711 "$work"
stack="$work/stack"
deploy_nginx="$work/nginx"
txtpushd_pid=""
was_installed=$(dpkg-query -W -f='${Status}' txtpush 2>/dev/null | grep -c "ok installed" || true)
conf_backup="$work/txtpushd.conf.orig"
if [ -S /run/txtpush/txtpushd.sock ]; then
    echo "a txtpushd service runs on this machine (/run/txtpush/txtpushd.sock): this check would disturb it" >&2
    exit 1
fi
had_run_dir=$([ -d /run/txtpush ] && echo 1 || echo 0)

cleanup() {
    [ -n "$txtpushd_pid" ] && kill -TERM "$txtpushd_pid" 2>/dev/null && wait "$txtpushd_pid" 2>/dev/null || true
    [ -f "$deploy_nginx/nginx.pid" ] && nginx -p "$deploy_nginx" -c "$deploy_nginx/nginx.conf" -s stop 2>/dev/null || true
    "$root/deploy/local-stack.sh" stop "$stack" >/dev/null 2>&1 || true
    if [ "$was_installed" = 0 ]; then
        apt-get purge -y -qq txtpush >/dev/null 2>&1 || true
    elif [ -f "$conf_backup" ]; then
        cp "$conf_backup" /etc/txtpush/txtpushd.conf
    fi
    rm -rf "$work"
    [ "$had_run_dir" = 1 ] || rm -rf /run/txtpush
}
trap cleanup EXIT

fail() { echo "package check failed: $*" >&2; exit 1; }
step() { echo "-- $*"; }

step "build the package as docs/operations.md says (its own folder, no tests, Debian's hardening)"
deb=$("$root/deploy/build-package.sh" "$(dirname "$build")/build-package")
step "lintian $(basename "$deb")"
# Pedantic, and every tag is a failure: the few left are overridden with their reason
# (deploy/debian/lintian-overrides); the hardening tags are gone (dpkg-buildflags).
lintian --pedantic --fail-on error,warning,info,pedantic "$deb"

step "install it with apt"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null
[ -f "$conf_backup" ] || cp /etc/txtpush/txtpushd.conf "$conf_backup"
dpkg -L txtpush | grep -qx /usr/sbin/txtpushd || fail "no /usr/sbin/txtpushd"
/usr/sbin/txtpushd --version | grep -qx "txtpushd $(dpkg-query -W -f='${Version}' txtpush | cut -d- -f1)" ||
    fail "--version disagrees with the package version"

step "man pages, user, config"
for section in "EXIT STATUS" "HTTP ANSWERS" LOGGING ENVIRONMENT FILES UNDO; do
    MANPAGER=cat MANWIDTH=80 man txtpushd 2>/dev/null | grep -q "^$section" || fail "man txtpushd has no $section"
done
for doc in README.md operations.md design.md performance.md txtpushd.conf.example copyright; do
    [ -f "/usr/share/doc/txtpush/$doc" ] || fail "no /usr/share/doc/txtpush/$doc"
done
MANPAGER=cat MANWIDTH=80 man txtpushd.conf 2>/dev/null | grep -q "request_timeout" || fail "man txtpushd.conf"
getent passwd txtpush >/dev/null || fail "no txtpush user"
[ "$(stat -c '%a %U %G' /etc/txtpush/txtpushd.conf)" = "640 root txtpush" ] ||
    fail "config is $(stat -c '%a %U %G' /etc/txtpush/txtpushd.conf), expected 640 root txtpush"
/usr/sbin/txtpushd check-config -c /etc/txtpush/txtpushd.conf
# A check whose tool is missing fails: deploy/install-deps.sh installs systemd for it.
command -v systemd-analyze >/dev/null || fail "systemd-analyze is missing (package systemd)"
systemd-analyze verify /lib/systemd/system/txtpushd.socket /lib/systemd/system/txtpushd.service ||
    fail "systemd-analyze verify refused the units"

step "a database for the deployment (the test stack's PostgreSQL)"
bin="$work/bin"
mkdir -p "$bin" && ln -s /usr/sbin/txtpushd "$bin/txtpushd"
mkdir -p "$stack"
"$root/deploy/local-stack.sh" start "$stack" "$bin" "$port" >/dev/null
pgdir=$(cat "$stack/pgdir")
runuser -u postgres -- sh -c "cd / && createdb -h $pgdir deploy && psql -q -h $pgdir -d deploy -c 'CREATE ROLE txtpush LOGIN'" >/dev/null

step "the steps of docs/operations.md: the local settings in a drop-in, the shipped config untouched"
[ "$(stat -c '%a %U %G' /var/lib/txtpush)" = "750 txtpush txtpush" ] ||
    fail "/var/lib/txtpush is $(stat -c '%a %U %G' /var/lib/txtpush 2>&1), expected 750 txtpush txtpush (made by the package)"
cat >/etc/txtpush/txtpushd.conf.d/50-local.conf <<CONF
[database]
conninfo = host=$pgdir dbname=deploy user=txtpush
CONF
/usr/sbin/txtpushd check-config -c /etc/txtpush/txtpushd.conf
step "migrate and grant"
(cd / && /usr/sbin/txtpushd migrate -c /etc/txtpush/txtpushd.conf --conninfo "host=$pgdir dbname=deploy user=postgres" 2>/dev/null)
/usr/sbin/txtpushd grants txtpush -c /etc/txtpush/txtpushd.conf |
    runuser -u postgres -- sh -c "cd / && psql -q -v ON_ERROR_STOP=1 -h $pgdir -d deploy" >/dev/null
step "the push credentials, as MoodleTxt's settings page saves them (password deploy-secret)"
runuser -u postgres -- sh -c "cd / && psql -q -v ON_ERROR_STOP=1 -h $pgdir -d deploy" >/dev/null <<'SQL'
INSERT INTO mdl_config_plugins (plugin, name, value) VALUES
    ('moodletxt', 'EK', 'Qk7zLp2x9R'), ('moodletxt', 'Push_Username', 'gateway'),
    ('moodletxt', 'Push_Password', 'R&5.6h$DQqA9M');
SQL
step "start txtpushd as the unit does (user txtpush, /run/txtpush from tmpfiles.d, /var/lib/txtpush)"
if command -v systemd-tmpfiles >/dev/null; then
    systemd-tmpfiles --create txtpush.conf
else  # no systemd on this machine: what the tmpfiles.d line says
    read -r _ path mode user group _ < <(grep '^d ' /usr/lib/tmpfiles.d/txtpush.conf)
    install -d -m "$mode" -o "$user" -g "$group" "$path"
fi
[ "$(stat -c '%a %U %G' /run/txtpush)" = "750 txtpush www-data" ] || fail "/run/txtpush is $(stat -c '%a %U %G' /run/txtpush)"
install -d -m 0750 -o txtpush -g txtpush /var/lib/txtpush
runuser -u txtpush -g txtpush -- /usr/sbin/txtpushd -c /etc/txtpush/txtpushd.conf 2>"$work/txtpushd.log" &
txtpushd_pid=$!
for _ in $(seq 1 100); do [ -S /run/txtpush/txtpushd.sock ] && break; sleep 0.05; done
[ -S /run/txtpush/txtpushd.sock ] || fail "txtpushd did not open its socket: $(cat "$work/txtpushd.log")"
step "txtpushd check: the database, the rights and the socket as the service meets them"
/usr/sbin/txtpushd check -c /etc/txtpush/txtpushd.conf >"$work/check.txt" 2>&1 ||
    fail "txtpushd check failed: $(cat "$work/check.txt")"
grep -q "^ok   every right txtpushd needs is granted" "$work/check.txt" || fail "check: $(cat "$work/check.txt")"
step "include the snippet in a server block"
mkdir -p "$deploy_nginx/logs"
cp /etc/nginx/fastcgi_params "$deploy_nginx/"
cat >"$deploy_nginx/nginx.conf" <<CONF
user www-data;  # as Debian's nginx.conf
pid $deploy_nginx/nginx.pid;
error_log $deploy_nginx/logs/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $deploy_nginx/body;
    server {
        listen 127.0.0.1:$((port + 1));
        include /etc/nginx/snippets/txtpush.con[f];
    }
    server {
        listen 127.0.0.1:$((port + 2));
        include /etc/nginx/snippets/txtpush-status.con[f];
    }
}
CONF
nginx -p "$deploy_nginx" -c "$deploy_nginx/nginx.conf"
step "push the sample as the gateway does"
answer=$(curl -s -w ' %{http_code}' --data-urlencode u=gateway --data-urlencode p=deploy-secret \
    --data-urlencode "x@$root/deploy/sample-push.xml" "http://127.0.0.1:$((port + 1))/blocks/moodletxt/push.php")
[[ $answer == ok*" 200" ]] || fail "push through the snippet answered: $answer"
rows=$(runuser -u postgres -- sh -c "cd / && psql -tA -h $pgdir -d deploy -c 'SELECT count(*) FROM mdl_block_moodletxt_status'")
[ "$rows" = 1 ] || fail "expected 1 status row, found $rows"

step "the installed binary against the test stack"
answer=$(curl -s -w ' %{http_code}' --data-urlencode u=gateway --data-urlencode p=secret \
    --data-urlencode "x@$root/deploy/sample-push.xml" "http://127.0.0.1:$port/blocks/moodletxt/push.php")
[[ $answer == ok*" 200" ]] || fail "push to the stack answered: $answer"
step "the status snippet in its loopback-only server block"
curl -sf "http://127.0.0.1:$((port + 2))/txtpush-status" | grep -q '^txtpush_build_info' || fail "no status page"
promtool check config /usr/share/txtpush/prometheus/scrape.yml >/dev/null || fail "the scrape example"
promtool check rules /usr/share/txtpush/prometheus/txtpush.rules.yml >/dev/null || fail "the alerting rules"

step "an upgrade, non-interactive, whose shipped config changed: the drop-in stays, no conffile prompt"
kill -TERM "$txtpushd_pid" && wait "$txtpushd_pid" 2>/dev/null || true
txtpushd_pid=""
repack="$work/repack"
dpkg-deb -R "$deb" "$repack"
version=$(dpkg-query -W -f='${Version}' txtpush)
sed -i "s/^Version: .*/Version: ${version%-*}-99/" "$repack/DEBIAN/control"
printf '; changed upstream\n' >>"$repack/etc/txtpush/txtpushd.conf"
dpkg-deb -b "$repack" "$work/upgrade.deb" >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$work/upgrade.deb" </dev/null >/dev/null ||
    fail "the upgrade stopped (a conffile prompt?)"
[ "$(dpkg-query -W -f='${Version}' txtpush)" = "${version%-*}-99" ] || fail "not upgraded"
grep -q "changed upstream" /etc/txtpush/txtpushd.conf || fail "the shipped config did not follow the upgrade"
grep -q "dbname=deploy" /etc/txtpush/txtpushd.conf.d/50-local.conf || fail "the drop-in was lost"

if [ "$was_installed" != 0 ]; then
    echo "package ok (remove and purge not tried: txtpush was installed before this check): $(basename "$deb")"
    exit 0
fi
step "remove disables, purge forgets the units, deletes the quarantine, keeps a spool with pushes, leaves nginx valid"
DPKG_MAINTSCRIPT_PACKAGE=txtpush deb-systemd-helper enable txtpushd.socket txtpushd.service >/dev/null  # as enabling would
ls /etc/systemd/system/*/txtpushd.* >/dev/null 2>&1 || fail "enable made no symlink"
install -d -o txtpush -g txtpush /var/lib/txtpush/quarantine /var/lib/txtpush/spool
echo "refused" >/var/lib/txtpush/quarantine/x.xml
printf 'txtpush-spool 1\nreceived 1\nrequest_id r\n\n<Response/>' >/var/lib/txtpush/spool/00000000000000000001-1-0.push
DEBIAN_FRONTEND=noninteractive apt-get remove -y -qq txtpush </dev/null >/dev/null
! ls /etc/systemd/system/*/txtpushd.* >/dev/null 2>&1 || fail "remove left the units enabled"
nginx -t -p "$deploy_nginx" -c "$deploy_nginx/nginx.conf" 2>/dev/null || fail "nginx -t fails after remove"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq txtpush </dev/null >"$work/purge.txt" 2>&1
! ls /etc/systemd/system/*/txtpushd.* /var/lib/systemd/deb-systemd-helper-enabled/txtpushd.* \
    /var/lib/systemd/deb-systemd-helper-enabled/*/txtpushd.* >/dev/null 2>&1 ||
    fail "purge left enable symlinks or state"
[ ! -e /var/lib/txtpush/quarantine ] || fail "purge kept the quarantine (personal data)"
[ -f /var/lib/txtpush/spool/00000000000000000001-1-0.push ] || fail "purge deleted a spooled push"
grep -q "still holds pushes" "$work/purge.txt" || fail "purge did not say it kept the spool: $(cat "$work/purge.txt")"
[ ! -e /etc/nginx/snippets/txtpush.conf ] || fail "purge kept the snippet"
nginx -t -p "$deploy_nginx" -c "$deploy_nginx/nginx.conf" 2>/dev/null || fail "nginx -t fails after purge"
rm -rf /var/lib/txtpush
echo "package ok: $(basename "$deb")"
