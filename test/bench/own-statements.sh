# Sourced by run.sh and sweep.sh (needs $build and $dir, a running stack):
# txtpushd's own statements as pgbench scripts, parameters as SQL
# expressions: $dir/pgbench-status1.sql (one statement) and
# $dir/pgbench-mixed50.sql (the routing reads, the senders, the write: each
# ends with ';' at the end of a line). Defines statement NAME and $session_options.
"$build/txtpushd" sql -c "$dir/txtpushd.conf" > "$dir/statements.sql"
statement() { awk -v n="-- $1" '$0 == n {on = 1; next} on && /^$/ {exit} on' "$dir/statements.sql"; }  # ends with ;
# The ceilings run with txtpushd's own session settings ("SET name = value;" -> "-c name=value").
session_options=$(statement session | sed -E 's/^SET ([a-z_]+) = ([^;]+);$/-c \1=\2/' | tr '\n' ' ')
# $1 the rows; the request id ($2) and arrival time ($3) are fixed here.
with_param() {
    local sql; sql=$(statement "$1"); sql=${sql//"$2"/$3}; sql=${sql//'$2'/"'bench'"}
    printf '%s\n' "${sql//'$3'/1764000000}"
}

status_json="(SELECT jsonb_agg(jsonb_build_object('ticketnumber', :t::bigint + g, 'status', g % 7 - 1, 'statusmessage', 'Delivered To Handset', 'updatetime', 1764000000)) FROM generate_series(0, COUNT - 1) AS g)"
phones="(SELECT jsonb_agg(right(p, 8)) FROM (SELECT DISTINCT CASE WHEN g % 5 = 1 THEN '4477009' || lpad((g % 50)::text, 5, '0') WHEN g % 8 = 2 THEN '4477008' || lpad((g % 40)::text, 5, '0') ELSE '4477009' || lpad((50000 + g)::text, 5, '0') END AS p FROM generate_series(0, 24) AS g) AS s)"
inbox_json="(SELECT jsonb_agg(jsonb_build_object('userid', u, 'ticket', :t::bigint + 25 + g, 'messagetext', CASE WHEN g % 5 = 0 THEN 'HELP with homework' ELSE 'Absent today, sorry' END, 'source', '+447700900001', 'firstname', 'First', 'lastname', 'Last', 'timereceived', 1764000000, 'sender_user', CASE WHEN g % 5 = 1 THEN 1000 + g % 50 END, 'contact', CASE WHEN g % 5 <> 1 AND g % 8 = 2 THEN g % 40 + 1 END)) FROM generate_series(0, 24) AS g, LATERAL unnest(CASE WHEN g % 5 = 0 THEN ARRAY[101, 102] ELSE ARRAY[100] END) AS u)"
# As txtpushd sends them: each statement autocommitted on its own.
{
    echo '\set t random(1, 190000000) * 50'
    with_param status_write '$1::jsonb' "${status_json//COUNT/1}::jsonb"
} > "$dir/pgbench-status1.sql"
{
    echo '\set t random(1, 190000000) * 50'
    # The catch-up from 200 rows below the top, no gaps, as a worker reads it.
    sql=$(statement inbound_reads); sql=${sql//'$1::bigint'/"(SELECT coalesce(max(id), 0) - 200 FROM mdl_block_moodletxt_inbox)"}
    sql=${sql//'$2::text'/"'{}'::text"}; sql=${sql//'$3::text'/"'{}'::text"}
    printf '%s\n' "${sql//'$4::jsonb'/"'[\"CollegeSMS\"]'::jsonb"}"
    sql=$(statement senders); sql=${sql//'$1::jsonb'/"$phones::jsonb"}; sql=${sql//'$2'/"'+44'"}; sql=${sql//'$3'/"'0'"}
    printf '%s\n' "${sql//'$4'/"'phone2'"}"
    sql=$(with_param push_write '$1::jsonb' "${status_json//COUNT/25}::jsonb"); sql=${sql//'$4::jsonb'/"$inbox_json::jsonb"}
    sql=${sql//'$5::jsonb'/"'[]'::jsonb"}; printf '%s\n' "${sql//'$6::jsonb'/"'[]'::jsonb"}"
} > "$dir/pgbench-mixed50.sql"
