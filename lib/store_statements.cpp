#include "store_statements.hpp"

#include "inbox_catch_up.hpp"
#include "text.hpp"

namespace txtpush {

namespace {

struct Statement {
    std::string name;
    std::string sql;  // with {prefix} (Moodle's) and {schema} (txtpush's)
};

// The write of a push is one statement (one round trip, a transaction of its
// own): common table expressions, one per table, each gated by the ledger.
// Parameters: $1 status rows, $2 request id, $3 arrival time, $4 inbox rows,
// $5 unrouted rows, $6 flags (JSON arrays).

// Status updates: the ledger first, in key order; only keys new to it and
// absent from Moodle's table (history, the plugin's own polling) become rows
// there, with the id the ledger recorded.
constexpr const char* kStatusWrite = R"(
s_in AS (
    SELECT r.*, EXISTS (SELECT 1 FROM {prefix}block_moodletxt_status s
                        WHERE s.ticketnumber = r.ticketnumber AND s.status = r.status) AS present
    FROM jsonb_to_recordset($1::jsonb) AS r(ticketnumber bigint, status smallint, statusmessage text, updatetime bigint)
), s_fresh AS (
    INSERT INTO {schema}.status_ledger (ticketnumber, status, received_at, request_id, origin, statusid)
    SELECT ticketnumber, status, to_timestamp(updatetime), $2, 'push',
           CASE WHEN present THEN NULL ELSE nextval('{prefix}block_moodletxt_status_id_seq') END
    FROM s_in ORDER BY ticketnumber, status
    ON CONFLICT DO NOTHING
    RETURNING ticketnumber, status, statusid
), s_new AS (
    INSERT INTO {prefix}block_moodletxt_status (id, ticketnumber, status, statusmessage, updatetime)
    SELECT f.statusid, r.ticketnumber, r.status, r.statusmessage, r.updatetime
    FROM s_fresh f JOIN s_in r USING (ticketnumber, status) WHERE f.statusid IS NOT NULL
    RETURNING 1
))";

// Inbox rows and their sender links, gated by the ledger like the statuses:
// a link is written only with a new inbox row.
constexpr const char* kInboxWrite = R"(
i_in AS (
    SELECT * FROM jsonb_to_recordset($4::jsonb) AS r(userid bigint, ticket bigint, messagetext text,
        source text, firstname text, lastname text, timereceived bigint, sender_user bigint, contact bigint,
        account text)
), i_fresh AS (
    INSERT INTO {schema}.inbound_ledger (ticket, userid, account, received_at, request_id, origin, inboxid)
    SELECT ticket, userid, account, to_timestamp($3), $2, 'push', nextval('{prefix}block_moodletxt_inbox_id_seq')
    FROM i_in ORDER BY ticket, userid
    ON CONFLICT DO NOTHING
    RETURNING ticket, userid, inboxid
), i_rows AS (
    SELECT f.inboxid, r.* FROM i_fresh f JOIN i_in r USING (ticket, userid)
), i_new AS (
    INSERT INTO {prefix}block_moodletxt_inbox
        (id, userid, ticket, messagetext, source, sourcefirstname, sourcelastname, timereceived, hasbeenread)
    SELECT inboxid, userid, ticket, messagetext, source, firstname, lastname, timereceived, 0 FROM i_rows
    RETURNING 1
), i_user AS (
    INSERT INTO {prefix}block_moodletxt_in_u (userid, receivedmessage)
    SELECT sender_user, inboxid FROM i_rows WHERE sender_user IS NOT NULL
), i_contact AS (
    INSERT INTO {prefix}block_moodletxt_in_ab (contact, receivedmessage)
    SELECT contact, inboxid FROM i_rows WHERE contact IS NOT NULL
), u_new AS (
    INSERT INTO {schema}.unrouted
        (ticket, messagetext, source, destination, destinationaccount, timereceived, reason, timestored, request_id)
    SELECT ticket, messagetext, source, destination, destinationaccount, timereceived, reason, timestored, $2
    FROM jsonb_to_recordset($5::jsonb) AS r(ticket bigint, messagetext text, source text, destination text,
        destinationaccount text, timereceived bigint, reason text, timestored bigint)
    ORDER BY ticket
    ON CONFLICT (ticket) DO NOTHING
), f_new AS (
    INSERT INTO {schema}.flags (ticket, kind, flag, original, timestored)
    SELECT ticket, kind, flag, original, timestored
    FROM jsonb_to_recordset($6::jsonb) AS r(ticket bigint, kind text, flag text, original text, timestored bigint)
    ORDER BY ticket, kind, flag
    ON CONFLICT (ticket, kind, flag) DO NOTHING
))";

// What routing an inbound push needs, in one round trip, with the catch-up
// before its inbox rows. Rows are tagged by kind; every value is text
// (libpqxx parses them alike).
//   setting:  the plugin's phone settings (through moodletxt_settings()).
//   directory_stale: whether the phone directory must be refreshed before
//     the lookup ({schema}.directory_due, migration 005: when a number
//     changed on a small site, by age on others).
//   inbox_read: what the catch-up read (lib/inbox_catch_up.hpp): rows
//     caught, runs of ids seen, the watermark, xmin and xmax.
//   account, filter: the accounts the push names ($4), and the filters of
//     those that take inbound SMS, one row per receiving live user.
constexpr const char* kInboundReads = R"(
named AS (
    SELECT a.id, a.username, a.defaultuser, a.inboundenabled,
           coalesce((SELECT u.deleted = 0 FROM {prefix}user u WHERE u.id = a.defaultuser), false) AS user_live
    FROM {prefix}block_moodletxt_accounts a
    WHERE lower(a.username) IN (SELECT lower(jsonb_array_elements_text($4::jsonb)))
)
SELECT 'setting', name, value, NULL, NULL, NULL FROM {schema}.moodletxt_settings()
WHERE name IN ('Phone_Number_Source', 'Default_International_Prefix', 'National_Prefix')
UNION ALL
SELECT 'directory_stale',
       {schema}.directory_due(2)::text, NULL, NULL, NULL, NULL
UNION ALL
SELECT 'inbox_read', caught::text, runs, watermark::text, xmin::text, xmax::text FROM inbox_read
UNION ALL
SELECT 'account', id::text, username, defaultuser::text, user_live::text, (inboundenabled = 1)::text FROM named
UNION ALL
SELECT 'filter', f.id::text, f.account::text, (lower(f.type) <> 'phoneno')::text, f.value, i.userid::text
FROM {prefix}block_moodletxt_filter f
-- Each filter's users by the in_fil filter index, whatever the estimates (a
-- nested loop over a materialised in_fil cost 30 ms at 500 filters).
CROSS JOIN LATERAL (SELECT i.userid FROM {prefix}block_moodletxt_in_fil i WHERE i.filter = f.id OFFSET 0) AS i
WHERE f.account IN (SELECT id FROM named WHERE inboundenabled = 1)
  AND (SELECT u.deleted FROM {prefix}user u WHERE u.id = i.userid) = 0)";

std::vector<Statement> all_statements() {
    return {
    {"status_write", std::string("\nWITH") + kStatusWrite + "\nSELECT (SELECT count(*) FROM s_new), 0"},
    {"push_write", std::string("\nWITH") + kStatusWrite + "," + kInboxWrite +
                       "\nSELECT (SELECT count(*) FROM s_new), (SELECT count(*) FROM i_new)"},
    {"inbound_reads", std::string("\nWITH") + kInboxCatchUpSql + "," + kInboundReads},
    {"inbox_catch_up", std::string("\nWITH") + kInboxCatchUpSql + "\nSELECT caught, runs, watermark, xmin, xmax FROM inbox_read"},
    // MoodleTxt's settings, through the function that returns only those
    // txtpushd uses (the runtime role cannot read config_plugins).
    {"moodletxt_settings", R"(SELECT name, value FROM {schema}.moodletxt_settings())"},
    {"refresh_directory", R"(SELECT {schema}.refresh_phone_directory())"},
    // The spooler's, 4 times a second: refreshed halfway to due; a push
    // refreshes only a directory twice as old (the spooler behind).
    {"refresh_directory_ahead", R"(SELECT {schema}.refresh_phone_directory() WHERE {schema}.directory_due(0.5))"},
    // The push's senders: Moodle users and address-book contacts, found in
    // the phone directory by key ($1); their live rows are read by id and
    // compared exactly in routing.
    {"senders", R"(
SELECT 'user', u.id, u.firstname, u.lastname,
       {schema}.phone(CASE WHEN $4 = 'phone1' THEN u.phone1 ELSE u.phone2 END, $2, $3), NULL, NULL
FROM (SELECT DISTINCT d.id FROM {schema}.phone_directory d
      WHERE d.kind = $4 AND d.key = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))) AS d
CROSS JOIN LATERAL (SELECT u.id, u.firstname, u.lastname, u.phone1, u.phone2 FROM {prefix}user u
                    WHERE u.id = d.id AND u.deleted = 0 OFFSET 0) AS u
UNION ALL
SELECT 'contact', e.id, e.firstname, e.lastname, {schema}.phone(e.phoneno, $2, $3), lower(e.type) = 'global', e.owner
FROM (SELECT DISTINCT d.id FROM {schema}.phone_directory d
      WHERE d.kind = 'contact' AND d.key = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))) AS d
CROSS JOIN LATERAL (SELECT e.id, e.firstname, e.lastname, e.phoneno, b.type, b.owner
                    FROM {prefix}block_moodletxt_ab_entry e JOIN {prefix}block_moodletxt_ab b ON b.id = e.addressbook
                    WHERE e.id = d.id OFFSET 0) AS e)"},
    // The spooler, after its catch-up: the shared watermark rises to its
    // cursor's floor (lib/inbox_catch_up.hpp, invariant 4), the cursor
    // itself beside it (5).
    {"inbox_watch_publish", R"(
UPDATE {schema}.inbox_watch
SET watermark = greatest(watermark, $1), read_top = $2, gap_firsts = $3::text::bigint[], gap_lasts = $4::text::bigint[]
RETURNING 1)"},
    // A process's first catch-up starts from the spooler's cursor
    // (lib/inbox_catch_up.hpp, invariant 5).
    {"inbox_watch_read", R"(
SELECT watermark, least(read_top, (SELECT coalesce(max(id), 0) FROM {prefix}block_moodletxt_inbox)),
       gap_firsts::text, gap_lasts::text
FROM {schema}.inbox_watch)"},
    // A transaction id newer than every one assigned: what a gap past the
    // patience waits for (lib/inbox_catch_up.hpp, invariant 3b). Rare.
    {"inbox_mark", R"(SELECT pg_current_xact_id()::text::bigint)"},
    {"unrouted_pending", R"(
SELECT id, ticket, messagetext, source, timereceived, destination, destinationaccount
FROM {schema}.unrouted WHERE routed = 0 AND reason <> 'sender_not_a_number' AND id > $1 ORDER BY id LIMIT 500)"},
    {"unrouted_mark_routed", R"(
UPDATE {schema}.unrouted u SET routed = 1
WHERE routed = 0 AND EXISTS (SELECT 1 FROM {schema}.inbound_ledger l WHERE l.ticket = u.ticket))"},
    };
}

}  // namespace

const std::vector<SessionSetting>& session_settings() {
    static const std::vector<SessionSetting> all = {
        {"synchronous_commit", "on", "200 means committed, whatever the server's default"},
        {"enable_seqscan", "off",
         "every lookup goes by key: a plan cached while a table was small (a new mirror, a fresh ledger) would "
         "scan it for ever after, and a push would cost as much as the table is large"},
        {"jit", "off",
         "the inflated cost of any scan left would trigger JIT compilation (100+ ms) for a statement of a "
         "millisecond"},
        {"plan_cache_mode", "force_generic_plan",
         "each statement is planned once per connection: they read by key whatever the estimates, and the "
         "routing reads were otherwise planned again at every inbound push (1.2 ms; PostgreSQL's CPU per "
         "50-item push 3.9 -> 3.1 ms)"},
    };
    return all;
}

std::vector<std::pair<std::string, std::string>> prepared_statements(const DbNames& names) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Statement& st : all_statements())
        out.emplace_back(st.name, with_names(st.sql, names));
    return out;
}

}  // namespace txtpush
