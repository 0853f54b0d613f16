#!/usr/bin/env bash
# Turns results.csv of run.sh into the markdown report (stdout).
#   report.sh results.csv MEM_BEFORE MEM_MID MEM_AFTER LONG_RUN_1 LONG_RUN_2 TOTAL   (MEM: "rss/pss/private" KiB)
set -euo pipefail
csv=$1
cat <<HEAD
# txtpush benchmark

$(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(nginx -v 2>&1 | sed 's/.*: //'), PostgreSQL $(/usr/lib/postgresql/15/bin/postgres --version | awk '{print $3}'), wrk over loopback.
All numbers from one run of \`test/bench/run.sh\`; ratios compare points measured minutes apart on the same machine.

- **txtpushd**: nginx → txtpushd (2 workers) → PostgreSQL, every push with new tickets.
- **transport**: nginx → no-op FastCGI responder (\`noop_fcgi\`, same libfcgi, unix socket, workers), same bodies.
- **database**: \`pgbench -M prepared\` running txtpushd's own statements (\`txtpushd sql\`) for the same pushes, one transaction per push.
- **ratio**: txtpushd ÷ min(transport, database), per push for \`status1\`, per item for \`mixed50\` (there the database is the lower ceiling).
- CPU: cores used by each process group during the txtpushd run (txtpushd / nginx / postgres; the load generator is not counted).

HEAD
awk -F, '
NR == 1 { next }
{ key = $2 "," $3; rps[$1 "," key] = $4; items[$1 "," key] = $5; p50[$1 "," key] = $6; p99[$1 "," key] = $7; cpu[$1 "," key] = $8
  if (!(key in seen)) { seen[key] = 1; order[++n] = key } }
END {
  print "| push | conc. | txtpushd req/s | items/s | p50 ms | p99 ms | transport req/s | database tx/s | ratio | CPU txtpushd / nginx / postgres |"
  print "|---|---|---|---|---|---|---|---|---|---|"
  for (i = 1; i <= n; i++) {
    k = order[i]; split(k, kk, ",")
    t = rps["txtpushd," k]; tr = rps["transport," k]; db = rps["database," k]
    ceiling = (tr < db) ? tr : db
    split(cpu["txtpushd," k], c, " ")
    for (j in c) { sub(/^[a-z_]+=/, "", c[j]) }
    printf "| %s | %s | %.0f | %.0f | %.2f | %.2f | %.0f | %.0f | **%.0f%%** | %s / %s / %s |\n", kk[1], kk[2], t, items["txtpushd," k], p50["txtpushd," k], p99["txtpushd," k], tr, db, 100 * t / ceiling, c[1], c[2], c[3]
    if (t > peak[kk[1]]) peak[kk[1]] = t
    if (tr > tpeak[kk[1]]) tpeak[kk[1]] = tr
    if (db > dpeak[kk[1]]) dpeak[kk[1]] = db
  }
  print ""
  print "| push | txtpushd peak | transport peak | database peak | peak ratio | p50 / p99 near half the peak | p99 ÷ p50 |"
  print "|---|---|---|---|---|---|---|"
  for (s in peak) {
    ceiling = (tpeak[s] < dpeak[s]) ? tpeak[s] : dpeak[s]
    best = ""; bestd = 1e18
    for (i = 1; i <= n; i++) { k = order[i]; split(k, kk, ","); if (kk[1] != s) continue
      d = rps["txtpushd," k] - peak[s] / 2; if (d < 0) d = -d; if (d < bestd) { bestd = d; best = k } }
    printf "| %s | %.0f req/s | %.0f req/s | %.0f tx/s | **%.0f%%** | %.2f / %.2f ms (c=%s, %.0f req/s) | %.1f |\n", s, peak[s], tpeak[s], dpeak[s], 100 * peak[s] / ceiling, p50["txtpushd," best], p99["txtpushd," best], substr(best, index(best, ",") + 1), rps["txtpushd," best], p99["txtpushd," best] / p50["txtpushd," best]
  }
}' "$csv"
cat <<TAIL

Worker memory, RSS / PSS / private in KiB (the txtpushd child with the largest RSS): $2 before the long
run, $3 after $5 more 1-item pushes, $4 after $6 more ($7 pushes stored by the pool in all).
RSS counts the shared libraries' pages each worker maps; PSS divides shared pages among the processes
sharing them; private is what the worker alone holds.
TAIL
