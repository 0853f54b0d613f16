#!/usr/bin/env bash
# Turns results.csv of run.sh into the markdown report (stdout).
#   report.sh results.csv WORKERS MEM_BEFORE MEM_MID MEM_AFTER LONG_RUN_1 LONG_RUN_2 TOTAL   (MEM: "rss/pss/private" KiB)
set -euo pipefail
csv=$1
workers=$2
shift
cat <<HEAD
# txtpush benchmark

$(date -u +%Y-%m-%d), $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); $(nginx -v 2>&1 | sed 's/.*: //'), PostgreSQL $(/usr/lib/postgresql/15/bin/postgres --version | awk '{print $3}'), wrk over loopback.
All numbers from one run of \`test/bench/run.sh\`; ratios compare points measured minutes apart on the same machine.

- **txtpushd**: nginx → txtpushd ($workers workers) → PostgreSQL, every push with new tickets.
- **transport**: nginx → no-op FastCGI responder (\`noop_fcgi\`, same libfcgi, unix socket, workers), same bodies.
- **database (least SQL)**: \`pgbench -M prepared\`, the least SQL that writes the same Moodle rows (one
  INSERT for a status update; for the mixed push two \`INSERT ... SELECT\` writing 25 status, 30 inbox and
  9 link rows in one transaction; no routing reads, no ledger), at the connection count that maximises it.
- **database with the ledger (least SQL)**: the same Moodle rows and the same ledger rows (storing a push
  exactly once needs them: Moodle's tables have no unique keys), one statement per push: \`INSERT ... ON
  CONFLICT DO NOTHING\` on the ledger's key, then the Moodle rows for what it took; no reads.
- **combined**: transport and database share the same cores: 1 / (1/transport + 1/database), with
  each database ceiling.
- **ratio** (the headline): txtpushd peak ÷ the combined ceiling with the ledger, per push (\`status1\`) and
  per item (\`mixed50\`); against the ceiling without the ledger in the next column.
- **own SQL** (a diagnosis, not a ceiling): pgbench running txtpushd's own statements (\`txtpushd sql\`),
  one connection per busy worker.
- CPU: cores used by each process group during the txtpushd run (txtpushd / nginx / postgres; the load generator is not counted).
- p99 ÷ p50 there: the same ratio for the transport ceiling at the same concurrency and for the least SQL with
  the ledger at as many connections: the tail the machine gives work that does nothing of txtpushd's.

HEAD
awk -F, '
NR == 1 { next }
{ key = $2 "," $3; rps[$1 "," key] = $4; items[$1 "," key] = $5; p50[$1 "," key] = $6; p99[$1 "," key] = $7; cpu[$1 "," key] = $8
  if ($1 == "txtpushd" && !(key in seen)) { seen[key] = 1; order[++n] = key }
  if ($1 == "least_sql" && $4 > least[$2]) { least[$2] = $4; least_conns[$2] = $3 }
  if ($1 == "least_sql") least_list[$2] = least_list[$2] sprintf("%s%s: %.0f", least_list[$2] == "" ? "" : ", ", $3, $4)
  if ($1 == "least_ledger" && $4 > ledger[$2]) { ledger[$2] = $4; ledger_conns[$2] = $3 }
  if ($1 == "least_ledger") ledger_list[$2] = ledger_list[$2] sprintf("%s%s: %.0f", ledger_list[$2] == "" ? "" : ", ", $3, $4) }
function tail(k) { return (k in p50) && p50[k] > 0 ? sprintf("%.1f", p99[k] / p50[k]) : "-" }
END {
  print "| push | conc. | txtpushd req/s | items/s | p50 ms | p99 ms | transport req/s | own SQL tx/s | CPU txtpushd / nginx / postgres |"
  print "|---|---|---|---|---|---|---|---|---|"
  for (i = 1; i <= n; i++) {
    k = order[i]; split(k, kk, ",")
    t = rps["txtpushd," k]; tr = rps["transport," k]; db = rps["own_sql," k]
    split(cpu["txtpushd," k], c, " ")
    for (j in c) { sub(/^[a-z_]+=/, "", c[j]) }
    printf "| %s | %s | %.0f | %.0f | %.2f | %.2f | %.0f | %.0f | %s / %s / %s |\n", kk[1], kk[2], t, items["txtpushd," k], p50["txtpushd," k], p99["txtpushd," k], tr, db, c[1], c[2], c[3]
    if (t > peak[kk[1]]) peak[kk[1]] = t
    if (tr > tpeak[kk[1]]) tpeak[kk[1]] = tr
    if (db > opeak[kk[1]]) opeak[kk[1]] = db
  }
  print ""
  print "Least-SQL database, tx/s by connections: " (("status1" in least_list) ? "status1 " least_list["status1"] : "") "; " (("mixed50" in least_list) ? "mixed50 " least_list["mixed50"] : "") "."
  print "With the ledger: " (("status1" in ledger_list) ? "status1 " ledger_list["status1"] : "") "; " (("mixed50" in ledger_list) ? "mixed50 " ledger_list["mixed50"] : "") "."
  print ""
  print "| push | txtpushd peak | transport peak | database peak, with the ledger (least SQL) | combined, with the ledger | **txtpushd ÷ combined with the ledger** | database peak, Moodle rows alone | combined, Moodle rows alone | txtpushd ÷ that | own SQL peak (diagnosis) | p50 / p99 near half the peak | p99 ÷ p50 | p99 ÷ p50 there: transport, least SQL with the ledger |"
  print "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  split("status1 mixed50", shapes, " ")
  for (si = 1; si <= 2; si++) {
    s = shapes[si]; if (!(s in peak)) continue
    per = (s == "status1") ? 1 : 50; unit = (s == "status1") ? "req/s" : "items/s"
    combined = 1 / (1 / tpeak[s] + 1 / least[s])
    combined_ledger = 1 / (1 / tpeak[s] + 1 / ledger[s])
    best = ""; bestd = 1e18
    for (i = 1; i <= n; i++) { k = order[i]; split(k, kk, ","); if (kk[1] != s) continue
      d = rps["txtpushd," k] - peak[s] / 2; if (d < 0) d = -d; if (d < bestd) { bestd = d; best = k } }
    printf "| %s | %.0f %s | %.0f %s | %.0f %s (%s conn.) | %.0f %s | **%.0f%%** | %.0f %s (%s conn.) | %.0f %s | %.0f%% | %.0f %s | %.2f / %.2f ms (c=%s, %.0f req/s) | %.1f | %s / %s |\n", s, peak[s] * per, unit, tpeak[s] * per, unit, ledger[s] * per, unit, ledger_conns[s], combined_ledger * per, unit, 100 * peak[s] / combined_ledger, least[s] * per, unit, least_conns[s], combined * per, unit, 100 * peak[s] / combined, opeak[s] * per, unit, p50["txtpushd," best], p99["txtpushd," best], substr(best, index(best, ",") + 1), rps["txtpushd," best], p99["txtpushd," best] / p50["txtpushd," best], tail("transport," best), tail("least_ledger," best)
  }
}' "$csv"
cat <<TAIL

Worker memory, RSS / PSS / private in KiB (the txtpushd child holding the most private memory): $2 before the long
run, $3 after $5 more 1-item pushes, $4 after $6 more ($7 pushes stored by the pool in all).
RSS counts the shared libraries' pages each worker maps; PSS divides shared pages among the processes
sharing them; private is what the worker alone holds.
TAIL
