#include "push_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "json_rows.hpp"
#include "text.hpp"

namespace txtpush {

namespace {

// Column widths the values are cut to (VARCHAR(n) of the Moodle tables).
constexpr size_t kStatusMessageChars = 100;
constexpr size_t kSourceChars = 20;
constexpr size_t kNameChars = 50;
constexpr size_t kUnroutedSourceChars = 40;
constexpr size_t kUnroutedTextChars = 255;

struct Statement {
    const char* name;
    const char* sql;  // with {prefix} (Moodle's) and {schema} (txtpush's)
};

const Statement kStatements[] = {
    // Settings; whether the phone directory is due for a refresh: while it
    // holds under 10,000 numbers, when any number changed (one pass over
    // them, no writes: lookups are then exact), else when it is older than
    // 100 times what the last refresh took, and at least 1 s (at most 1% of
    // the time goes to refreshing; about 8 s at 100,000 users); and the
    // inbox watermark.
    {"settings", R"(
SELECT name, value FROM {prefix}config_plugins
WHERE plugin = 'moodletxt' AND name IN ('Phone_Number_Source', 'Default_International_Prefix', 'National_Prefix')
UNION ALL
SELECT 'txtpush.directory_stale',
       (CASE WHEN entries < 10000 THEN fingerprint IS DISTINCT FROM {schema}.directory_fingerprint()
             ELSE now() - refreshed_at > greatest(cost * 100, interval '1 s') END)::text
FROM {schema}.phone_directory_state
UNION ALL
SELECT 'txtpush.inbox_watermark', watermark::text FROM {schema}.inbox_watch)"},
    {"refresh_directory", R"(SELECT {schema}.refresh_phone_directory())"},
    // Status updates: the ledger first, in key order; only keys new to it and
    // absent from Moodle's table (history, the plugin's own polling) become
    // rows there, with the id the ledger recorded.
    {"status_upsert", R"(
WITH r AS (
    SELECT r.*, EXISTS (SELECT 1 FROM {prefix}block_moodletxt_status s
                        WHERE s.ticketnumber = r.ticketnumber AND s.status = r.status) AS present
    FROM jsonb_to_recordset($1::jsonb) AS r(ticketnumber bigint, status smallint, statusmessage text, updatetime bigint)
), fresh AS (
    INSERT INTO {schema}.status_ledger (ticketnumber, status, received_at, request_id, origin, statusid)
    SELECT ticketnumber, status, to_timestamp(updatetime), $2, 'push',
           CASE WHEN present THEN NULL ELSE nextval('{prefix}block_moodletxt_status_id_seq') END
    FROM r ORDER BY ticketnumber, status
    ON CONFLICT DO NOTHING
    RETURNING ticketnumber, status, statusid
)
INSERT INTO {prefix}block_moodletxt_status (id, ticketnumber, status, statusmessage, updatetime)
SELECT f.statusid, r.ticketnumber, r.status, r.statusmessage, r.updatetime
FROM fresh f JOIN r USING (ticketnumber, status) WHERE f.statusid IS NOT NULL)"},
    {"accounts", R"(
SELECT a.id, a.username, a.defaultuser, u.id IS NOT NULL, a.inboundenabled = 1
FROM {prefix}block_moodletxt_accounts a
LEFT JOIN {prefix}user u ON u.id = a.defaultuser AND u.deleted = 0
WHERE lower(a.username) IN (SELECT lower(jsonb_array_elements_text($1::jsonb))))"},
    {"filters", R"(
SELECT f.id, f.account, lower(f.type) <> 'phoneno', f.value, i.userid
FROM {prefix}block_moodletxt_filter f
JOIN {prefix}block_moodletxt_in_fil i ON i.filter = f.id
JOIN {prefix}user u ON u.id = i.userid AND u.deleted = 0
WHERE f.account IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint)
ORDER BY f.id, i.userid)"},
    // Candidates come from the phone directory by key; their live rows are
    // read by id and compared exactly in routing.
    {"senders", R"(
SELECT u.id, u.firstname, u.lastname, {schema}.phone(CASE WHEN $4 = 'phone1' THEN u.phone1 ELSE u.phone2 END, $2, $3)
FROM {prefix}user u
WHERE u.deleted = 0 AND u.id IN (SELECT d.id FROM {schema}.phone_directory d
                                 WHERE d.kind = $4 AND d.key = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb))))
ORDER BY u.id)"},
    {"contacts", R"(
SELECT e.id, e.firstname, e.lastname, {schema}.phone(e.phoneno, $2, $3), lower(b.type) = 'global', b.owner
FROM {prefix}block_moodletxt_ab_entry e
JOIN {prefix}block_moodletxt_ab b ON b.id = e.addressbook
WHERE e.id IN (SELECT d.id FROM {schema}.phone_directory d
               WHERE d.kind = 'contact' AND d.key = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb))))
ORDER BY e.id)"},
    // Before a push's inbox rows: Moodle's inbox rows above $1 (this worker's
    // floor, read by primary key) that are not txtpush's (the plugin's own
    // pull) go into the ledger, so that the ledger alone gates the push.
    // Autocommitted on its own, so its locks are not held with the push's.
    // Also returns what the floor may become: the highest id read, and this
    // snapshot's xmin and xmax.
    {"inbox_catch_up", R"(
WITH recent AS MATERIALIZED (
    SELECT id, userid, ticket, timereceived FROM {prefix}block_moodletxt_inbox WHERE id > $1
), caught AS (
    INSERT INTO {schema}.inbound_ledger (ticket, userid, received_at, origin, inboxid)
    SELECT ticket, userid, to_timestamp(timereceived), 'moodle', id FROM recent ORDER BY ticket, userid
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM caught), (SELECT coalesce(max(id), $1) FROM recent),
       pg_snapshot_xmin(pg_current_snapshot())::text::bigint, pg_snapshot_xmax(pg_current_snapshot())::text::bigint)"},
    // Inbox rows and their sender links in one statement, gated by the
    // ledger like the statuses: a link is written only with a new inbox row.
    {"inbox_upsert", R"(
WITH r AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(userid bigint, ticket bigint, messagetext text,
        source text, firstname text, lastname text, timereceived bigint, sender_user bigint, contact bigint,
        account text)
), fresh AS (
    INSERT INTO {schema}.inbound_ledger (ticket, userid, account, received_at, request_id, origin, inboxid)
    SELECT ticket, userid, account, to_timestamp($3), $2, 'push', nextval('{prefix}block_moodletxt_inbox_id_seq')
    FROM r ORDER BY ticket, userid
    ON CONFLICT DO NOTHING
    RETURNING ticket, userid, inboxid
), new_rows AS (
    SELECT f.inboxid, r.* FROM fresh f JOIN r USING (ticket, userid)
), ins AS (
    INSERT INTO {prefix}block_moodletxt_inbox
        (id, userid, ticket, messagetext, source, sourcefirstname, sourcelastname, timereceived, hasbeenread)
    SELECT inboxid, userid, ticket, messagetext, source, firstname, lastname, timereceived, 0 FROM new_rows
    RETURNING id
), link_user AS (
    INSERT INTO {prefix}block_moodletxt_in_u (userid, receivedmessage)
    SELECT sender_user, inboxid FROM new_rows WHERE sender_user IS NOT NULL
), link_contact AS (
    INSERT INTO {prefix}block_moodletxt_in_ab (contact, receivedmessage)
    SELECT contact, inboxid FROM new_rows WHERE contact IS NOT NULL
)
SELECT count(*) FROM ins)"},
    // The spooler's periodic catch-up moves the shared watermark: pending
    // becomes the watermark once the transactions running when it was read
    // have all ended; then what this catch-up read is pending.
    {"inbox_watch_advance", R"(
WITH w AS (
    SELECT watermark, pending, pending_xmax,
           pg_snapshot_xmin(pg_current_snapshot()) >= pending_xmax AS settled
    FROM {schema}.inbox_watch FOR UPDATE
), recent AS MATERIALIZED (
    SELECT id, userid, ticket, timereceived FROM {prefix}block_moodletxt_inbox
    WHERE id > (SELECT watermark FROM w)
), caught AS (
    INSERT INTO {schema}.inbound_ledger (ticket, userid, received_at, origin, inboxid)
    SELECT ticket, userid, to_timestamp(timereceived), 'moodle', id FROM recent ORDER BY ticket, userid
    ON CONFLICT DO NOTHING
    RETURNING 1
)
UPDATE {schema}.inbox_watch
SET watermark = CASE WHEN w.settled THEN w.pending ELSE w.watermark END,
    pending = CASE WHEN w.settled THEN greatest(w.pending, (SELECT coalesce(max(id), 0) FROM recent)) ELSE w.pending END,
    pending_xmax = CASE WHEN w.settled THEN pg_snapshot_xmax(pg_current_snapshot()) ELSE w.pending_xmax END
FROM w
RETURNING (SELECT count(*) FROM caught))"},
    {"unrouted_upsert", R"(
INSERT INTO {schema}.unrouted
    (ticket, messagetext, source, destination, destinationaccount, timereceived, reason, timestored, request_id)
SELECT ticket, messagetext, source, destination, destinationaccount, timereceived, reason, timestored, $2
FROM jsonb_to_recordset($1::jsonb) AS r(ticket bigint, messagetext text, source text, destination text,
    destinationaccount text, timereceived bigint, reason text, timestored bigint)
ORDER BY ticket
ON CONFLICT (ticket) DO NOTHING)"},
    {"unrouted_pending", R"(
SELECT id, ticket, messagetext, source, timereceived, destination, destinationaccount
FROM {schema}.unrouted WHERE routed = 0 AND id > $1 ORDER BY id LIMIT 500)"},
    {"unrouted_mark_routed", R"(
UPDATE {schema}.unrouted u SET routed = 1
WHERE routed = 0 AND EXISTS (SELECT 1 FROM {schema}.inbound_ledger l WHERE l.ticket = u.ticket))"},
    {"flags_upsert", R"(
INSERT INTO {schema}.flags (ticket, kind, flag, original, timestored)
SELECT ticket, kind, flag, original, timestored
FROM jsonb_to_recordset($1::jsonb) AS r(ticket bigint, kind text, flag text, original text, timestored bigint)
ORDER BY ticket, kind, flag
ON CONFLICT (ticket, kind, flag) DO NOTHING)"},
};

// Values stored otherwise than received, written to txtpush_flags.
class Flags {
public:
    explicit Flags(int64_t now) : now_(now) {}

    void add(int64_t ticket, std::string_view kind, std::string_view flag, std::string_view original) {
        rows_.row()
            .field("ticket", ticket)
            .field("kind", kind)
            .field("flag", flag)
            .field("original", original)
            .field("timestored", now_);
    }

    // The value cut to its column; a cut is flagged as truncated_<column>.
    std::string fit(std::string_view value, size_t max_chars, int64_t ticket, std::string_view kind,
                    std::string_view column) {
        std::string out = truncate_utf8(value, max_chars);
        if (out.size() != value.size()) {
            ++truncated_;
            add(ticket, kind, fmt::format("truncated_{}", column), value);
        }
        return out;
    }

    const JsonRows& rows() const { return rows_; }
    size_t truncated() const { return truncated_; }

private:
    JsonRows rows_;
    int64_t now_;
    size_t truncated_ = 0;
};

// A database that does not answer must not hold a worker for ever: unless
// the conninfo says otherwise, give up connecting after 5 s.
std::string with_connect_timeout(const std::string& conninfo) {
    bool uri = conninfo.rfind("postgres://", 0) == 0 || conninfo.rfind("postgresql://", 0) == 0;
    return uri ? conninfo : "connect_timeout=5 " + conninfo;
}

// libpqxx 6 throws some errors as subclasses of sql_error without their
// SQLSTATE; the class says enough to classify them.
std::string sqlstate_of(const pqxx::sql_error& e) {
    if (!e.sqlstate().empty()) return e.sqlstate();
    if (dynamic_cast<const pqxx::insufficient_privilege*>(&e)) return "42501";
    if (dynamic_cast<const pqxx::undefined_table*>(&e)) return "42P01";
    if (dynamic_cast<const pqxx::undefined_column*>(&e)) return "42703";
    if (dynamic_cast<const pqxx::undefined_function*>(&e)) return "42883";
    if (dynamic_cast<const pqxx::syntax_error*>(&e)) return "42601";
    if (dynamic_cast<const pqxx::disk_full*>(&e)) return "53100";
    if (dynamic_cast<const pqxx::out_of_memory*>(&e)) return "53200";
    if (dynamic_cast<const pqxx::insufficient_resources*>(&e)) return "53000";
    if (dynamic_cast<const pqxx::data_exception*>(&e)) return "22000";
    if (dynamic_cast<const pqxx::integrity_constraint_violation*>(&e)) return "23000";
    return "XX000";
}

// How a worker runs its statements: prepared once per connection, by name;
// or, behind a transaction pooler (PgBouncer's pool_mode = transaction, whose
// server connections change under the client), sent each time with their text
// as unnamed statements.
class Statements {
public:
    Statements(bool named, const DbNames& names) : named_(named) {
        for (auto& [name, sql] : prepared_statements(names)) sql_[name] = std::move(sql);
    }
    bool named() const { return named_; }
    const std::map<std::string, std::string>& all() const { return sql_; }

    template <class... Args>
    pqxx::result run(pqxx::transaction_base& tx, const std::string& name, Args&&... args) const {
        if (named_) return tx.exec_prepared(name, std::forward<Args>(args)...);
        return tx.exec_params(sql_.at(name), std::forward<Args>(args)...);
    }

private:
    bool named_;
    std::map<std::string, std::string> sql_;
};

}  // namespace

StoreOptions store_options(const Config& config) {
    // A statement still running a second before the request's time is up is
    // cancelled (57014, transient: the push is spooled) rather than its
    // worker killed; the spooler gets the same bound.
    unsigned timeout_ms = config.request_timeout > 1 ? (config.request_timeout - 1) * 1000 : 0;
    return StoreOptions{config.conninfo, config.names(), config.unknown_sender_name, timeout_ms,
                        config.pool_mode == PoolMode::transaction};
}

ErrorKind classify_sqlstate(std::string_view sqlstate) {
    // 22: data exception (a value the column cannot take), 23: integrity
    // constraint violation (a constraint a DBA added): this push, as it is,
    // will never be stored. Anything else is about the database, not the
    // push: connection (08), resources (53), operator intervention and
    // timeouts (57), locks (55), rollbacks (40), privileges and objects
    // being migrated or re-granted (42), read-only (25), system errors (58, XX).
    std::string_view cls = sqlstate.substr(0, 2);
    return cls == "22" || cls == "23" ? ErrorKind::permanent : ErrorKind::transient;
}

std::vector<std::pair<std::string, std::string>> prepared_statements(const DbNames& names) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Statement& st : kStatements)
        out.emplace_back(st.name, with_names(st.sql, names));
    return out;
}

class PushStore::Session {
public:
    Session(const StoreOptions& options)
        : conn(with_connect_timeout(options.conninfo)),
          statements(!options.transaction_pooling, options.names),
          pooled(options.transaction_pooling),
          local_settings(session_settings(options, "SET LOCAL")) {
        if (pooled) return;  // a session SET would land on whichever server connection ran it
        pqxx::nontransaction tx(conn);
        tx.exec(session_settings(options, "SET"));
        for (const auto& [name, sql] : statements.all()) conn.prepare(name, sql);
    }

    // Behind a transaction pooler every write transaction sets them itself.
    void begin(pqxx::work& txn) const {
        if (pooled) txn.exec(local_settings);
    }

    pqxx::connection conn;
    Statements statements;
    const bool pooled;

private:
    static std::string session_settings(const StoreOptions& options, std::string_view set) {
        // "200 means committed" must not depend on the server's default.
        std::string sql = fmt::format("{} synchronous_commit = on; ", set);
        // Every lookup here goes by key. A plan cached while a table was
        // small (a new mirror, a fresh ledger) would scan it for ever after:
        // a push would then cost as much as the table is large.
        sql += fmt::format("{} enable_seqscan = off; ", set);
        // That inflates the cost of any scan left, which would otherwise
        // trigger JIT compilation (100+ ms) for a statement of a millisecond.
        sql += fmt::format("{} jit = off; ", set);
        if (options.statement_timeout_ms > 0)
            sql += fmt::format("{} statement_timeout = {}; ", set, options.statement_timeout_ms);
        return sql;
    }

    const std::string local_settings;
};

PushStore::PushStore(StoreOptions options, const Log& log) : options_(std::move(options)), log_(log) {}
PushStore::~PushStore() = default;

bool PushStore::connected() const { return session_ && session_->conn.is_open(); }

bool PushStore::connect() {
    using namespace std::chrono;
    auto now = steady_clock::now();
    if (now < next_attempt_) return false;
    try {
        session_ = std::make_unique<Session>(options_);
        if (backoff_.count() > 0) log_.info("db_reachable");
        backoff_ = milliseconds(0);
        return true;
    } catch (const std::exception& e) {
        session_.reset();
        backoff_ = std::min<milliseconds>(backoff_.count() ? backoff_ * 2 : milliseconds(250), seconds(2));
        next_attempt_ = now + backoff_;
        log_.warn("db_connect_failed", {{"error", e.what()}, {"retry_ms", std::to_string(backoff_.count())}});
        return false;
    }
}

namespace {

struct SettingsRead {
    RoutingSettings settings;
    bool directory_stale = false;
    int64_t inbox_watermark = 0;
};

SettingsRead read_settings(const Statements& st, pqxx::transaction_base& tx, const std::string& unknown_name) {
    SettingsRead out;
    RoutingSettings& s = out.settings;
    s.unknown_name = unknown_name;
    for (const auto& row : st.run(tx, "settings")) {
        std::string name = row[0].as<std::string>(), value = row[1].as<std::string>();
        if (name == "Phone_Number_Source" && (value == "phone1" || value == "phone2")) s.phone_column = value;
        else if (name == "Default_International_Prefix") s.phone.international_prefix = value;
        else if (name == "National_Prefix") s.phone.national_prefix = value;
        else if (name == "txtpush.directory_stale") out.directory_stale = value == "true";
        else if (name == "txtpush.inbox_watermark") out.inbox_watermark = std::stoll(value);
    }
    return out;
}

// The lookup keys of the push's plausible senders.
std::set<std::string> sender_keys(const std::vector<PhoneNumber>& numbers) {
    std::set<std::string> keys;
    for (const PhoneNumber& n : numbers)
        if (n.plausible) keys.insert(phone_key(n.value));
    return keys;
}

RoutingData read_routing_data(const Statements& st, pqxx::work& txn, const std::vector<InboundSms>& messages,
                              const std::set<std::string>& keys, const RoutingSettings& s) {
    RoutingData data;
    std::set<std::string> names;
    for (const InboundSms& m : messages) names.insert(m.account);
    JsonRows name_list;
    for (const auto& n : names) name_list.value(n);
    JsonRows account_ids;
    for (const auto& row : st.run(txn, "accounts", name_list.str())) {
        Account a{row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<int64_t>(), row[3].as<bool>(),
                  row[4].as<bool>()};
        if (a.inbound_enabled) account_ids.value(a.id);
        data.accounts.push_back(std::move(a));
    }
    if (!account_ids.empty()) {
        for (const auto& row : st.run(txn, "filters", account_ids.str())) {
            int64_t id = row[0].as<int64_t>();
            if (data.filters.empty() || data.filters.back().id != id)
                data.filters.push_back({id, row[1].as<int64_t>(), row[2].as<bool>(), row[3].as<std::string>(), {}});
            data.filters.back().users.push_back(row[4].as<int64_t>());
        }
    }
    if (keys.empty()) return data;
    JsonRows key_list;
    for (const auto& k : keys) key_list.value(k);
    const std::string& intl = s.phone.international_prefix;
    const std::string& natl = s.phone.national_prefix;
    for (const auto& row : st.run(txn, "senders", key_list.str(), intl, natl, s.phone_column))
        data.senders.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                                row[3].as<std::string>()});
    for (const auto& row : st.run(txn, "contacts", key_list.str(), intl, natl))
        data.contacts.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                                 row[3].as<std::string>(), row[4].as<bool>(), row[5].as<int64_t>()});
    return data;
}

JsonRows status_rows(const Push& push, int64_t now, Flags& flags, size_t& distinct) {
    // Key order: concurrent pushes take the ledger's row locks in one order.
    std::map<std::pair<int64_t, int>, const StatusUpdate*> by_key;
    for (const StatusUpdate& s : push.statuses) by_key.emplace(std::make_pair(s.ticket, s.status), &s);
    distinct = by_key.size();
    JsonRows rows;
    for (const auto& [key, s] : by_key)
        rows.row()
            .field("ticketnumber", s->ticket)
            .field("status", int64_t{s->status})
            .field("statusmessage", flags.fit(s->message, kStatusMessageChars, s->ticket, "status", "statusmessage"))
            .field("updatetime", now);
    return rows;
}

JsonRows inbox_rows(std::vector<InboxRow> routed, Flags& flags) {
    std::sort(routed.begin(), routed.end(),
              [](const InboxRow& a, const InboxRow& b) { return std::tie(a.ticket, a.userid) < std::tie(b.ticket, b.userid); });
    JsonRows rows;
    for (const InboxRow& r : routed)
        rows.row()
            .field("userid", r.userid)
            .field("ticket", r.ticket)
            .field("messagetext", r.messagetext)
            .field("source", flags.fit(r.source, kSourceChars, r.ticket, "inbound", "source"))
            .field("firstname", flags.fit(r.firstname, kNameChars, r.ticket, "inbound", "sourcefirstname"))
            .field("lastname", flags.fit(r.lastname, kNameChars, r.ticket, "inbound", "sourcelastname"))
            .field("timereceived", r.timereceived)
            .field("sender_user", r.sender_user)
            .field("contact", r.contact)
            .field("account", r.account);
    return rows;
}

JsonRows unrouted_rows(const std::vector<UnroutedRow>& routed, int64_t now, Flags& flags) {
    JsonRows rows;
    for (const UnroutedRow& u : routed)
        rows.row()
            .field("ticket", u.sms->ticket)
            .field("messagetext", u.sms->text)
            .field("source", flags.fit(u.source, kUnroutedSourceChars, u.sms->ticket, "inbound", "source"))
            .field("destination",
                   flags.fit(u.sms->destination, kUnroutedTextChars, u.sms->ticket, "inbound", "destination"))
            .field("destinationaccount",
                   flags.fit(u.sms->account, kUnroutedTextChars, u.sms->ticket, "inbound", "destinationaccount"))
            .field("timereceived", u.sms->date)
            .field("reason", u.reason)
            .field("timestored", now);
    return rows;
}

}  // namespace

StoreReport PushStore::store_once(const Push& push, int64_t now, std::string_view request_id_view) {
    const std::string request_id(request_id_view);  // libpqxx 6 binds no string_view
    StoreReport report;
    Flags flags(now);
    JsonRows statuses = status_rows(push, now, flags, report.statuses);

    if (push.inbound.empty() && flags.rows().empty() && !session_->pooled) {
        // A single statement is a transaction of its own: one round trip
        // instead of BEGIN, statement, COMMIT. Most pushes are just this.
        if (statuses.empty()) return report;
        pqxx::nontransaction single(session_->conn);
        report.statuses_new = session_->statements.run(single, "status_upsert", statuses.str(), request_id).affected_rows();
        return report;
    }

    // Routing inputs are read before the transaction: settings need no
    // snapshot of their own, and a directory refresh commits on its own.
    SettingsRead read;
    std::vector<PhoneNumber> numbers;
    std::set<std::string> keys;
    if (!push.inbound.empty()) {
        pqxx::nontransaction prep(session_->conn);
        read = read_settings(session_->statements, prep, options_.unknown_sender_name);
        for (const InboundSms& sms : push.inbound) numbers.push_back(normalise_(sms.phone, read.settings.phone));
        keys = sender_keys(numbers);
        if (read.directory_stale && !keys.empty()) session_->statements.run(prep, "refresh_directory");
        int64_t floor = std::max(read.inbox_watermark, inbox_floor_.settled);
        auto caught = session_->statements.run(prep, "inbox_catch_up", floor)[0];
        inbox_floor_.read(caught[1].as<int64_t>(), caught[2].as<int64_t>(), caught[3].as<int64_t>());
    }

    pqxx::work txn(session_->conn);
    session_->begin(txn);
    if (!statuses.empty())
        report.statuses_new = session_->statements.run(txn, "status_upsert", statuses.str(), request_id).affected_rows();

    if (!push.inbound.empty()) {
        report.inbound = push.inbound.size();
        const RoutingSettings& settings = read.settings;
        Routed routed = route(push.inbound, numbers, read_routing_data(session_->statements, txn, push.inbound, keys, settings), settings);
        report.implausible_numbers = routed.implausible.size();
        report.inbox_rows = routed.inbox.size();
        for (const InboundSms* sms : routed.implausible) flags.add(sms->ticket, "inbound", "implausible_phone", sms->phone);

        JsonRows inbox = inbox_rows(std::move(routed.inbox), flags);
        if (!inbox.empty())
            report.inbox_rows_new = session_->statements.run(txn, "inbox_upsert", inbox.str(), request_id, now)[0][0].as<size_t>();
        JsonRows unrouted = unrouted_rows(routed.unrouted, now, flags);
        report.unrouted = routed.unrouted.size();
        if (!unrouted.empty()) session_->statements.run(txn, "unrouted_upsert", unrouted.str(), request_id);
    }
    if (!flags.rows().empty()) session_->statements.run(txn, "flags_upsert", flags.rows().str());
    txn.commit();
    report.truncated_values = flags.truncated();
    return report;
}

void PushStore::InboxFloor::read(int64_t max_id, int64_t xmin, int64_t xmax) {
    while (!reads.empty() && reads.front().second <= xmin) {
        settled = std::max(settled, reads.front().first);
        reads.pop_front();
    }
    reads.emplace_back(max_id, xmax);
    if (reads.size() > 64) reads.pop_front();  // forgetting a read only keeps the floor lower
}

Result<size_t> PushStore::catch_up_inbox() {
    if (!connected() && !connect()) return fail(ErrorKind::transient, "database unavailable");
    try {
        pqxx::nontransaction tx(session_->conn);
        return session_->statements.run(tx, "inbox_watch_advance")[0][0].as<size_t>();
    } catch (const std::exception& e) {
        session_.reset();
        return fail(ErrorKind::transient, fmt::format("cannot catch up with the inbox: {}", e.what()));
    }
}

Result<size_t> PushStore::reroute_unrouted(int64_t now) {
    if (!connected() && !connect()) return fail(ErrorKind::transient, "database unavailable");
    try {
        // In batches, so a long backlog is never one huge transaction.
        for (int64_t after = 0;;) {
            Push batch;
            {
                pqxx::read_transaction txn(session_->conn);
                for (const auto& row : session_->statements.run(txn, "unrouted_pending", after)) {
                    after = row[0].as<int64_t>();
                    batch.inbound.push_back({row[1].as<int64_t>(), row[2].as<std::string>(), row[3].as<std::string>(),
                                             row[4].as<int64_t>(), row[5].as<std::string>(),
                                             row[6].as<std::string>()});
                }
            }
            if (batch.inbound.empty()) break;
            auto stored = store(batch, now, "reroute");
            if (!stored) return stored.error();
        }
        pqxx::nontransaction mark(session_->conn);
        return static_cast<size_t>(session_->statements.run(mark, "unrouted_mark_routed").affected_rows());
    } catch (const std::exception& e) {
        return fail(ErrorKind::transient, fmt::format("cannot re-route: {}", e.what()));
    }
}

Result<StoreReport> PushStore::store(const Push& push, int64_t now, std::string_view request_id) {
    // A few attempts: one may meet a connection the database dropped
    // (restart, idle timeout) or be rolled back (deadlock, serialization).
    // Retrying is safe: the ledger makes every write idempotent, even after
    // a commit whose outcome was lost.
    constexpr int kAttempts = 3;
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
        if (!connected() && !connect()) return fail(ErrorKind::transient, "database unavailable");
        std::string try_no = std::to_string(attempt);
        try {
            return store_once(push, now, request_id);
        } catch (const pqxx::broken_connection& e) {
            log_.warn("db_connection_lost", {{"error", e.what()}, {"attempt", try_no}});
            session_.reset();
        } catch (const pqxx::in_doubt_error& e) {
            log_.warn("db_commit_in_doubt", {{"error", e.what()}, {"attempt", try_no}});
            session_.reset();
        } catch (const pqxx::transaction_rollback& e) {
            // Deadlock (40P01) or serialization failure (40001): libpqxx 6
            // throws these outside sql_error, without a SQLSTATE.
            log_.warn("db_rolled_back", {{"error", e.what()}, {"attempt", try_no}});
        } catch (const pqxx::sql_error& e) {
            std::string sqlstate = sqlstate_of(e);
            ErrorKind kind = classify_sqlstate(sqlstate);
            log_.error("db_error", {{"sqlstate", sqlstate}, {"kind", error_kind_name(kind)}, {"error", e.what()}});
            if (kind == ErrorKind::transient) session_.reset();
            return fail(kind, fmt::format("database error {} while storing the push", sqlstate));
        } catch (const std::exception& e) {
            log_.error("db_error", {{"kind", "permanent"}, {"error", e.what()}});
            return fail(ErrorKind::permanent, "database error while storing the push");
        }
    }
    return fail(ErrorKind::transient, "database unavailable");
}

}  // namespace txtpush
