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

// The inbox catch-up: Moodle's inbox rows above the floor ($1, the caller's,
// or the shared watermark if higher; read by primary key) that are not
// txtpush's (the plugin's own pull) go into the ledger, so that the ledger
// alone gates a push. Autocommitted, before the push's write: it holds no
// locks with a push's, and no transaction id unless it found the plugin's
// rows (a long one would hold back every floor's settling). Gives what the
// floor may become: the highest id read, and this snapshot's xmin and xmax.
constexpr const char* kInboxCatchUp = R"(
floor AS (
    SELECT greatest($1::bigint, coalesce((SELECT watermark FROM {schema}.inbox_watch), 0)) AS id
), caught AS (
    INSERT INTO {schema}.inbound_ledger (ticket, userid, received_at, origin, inboxid)
    SELECT ticket, userid, to_timestamp(timereceived), 'moodle', id FROM {prefix}block_moodletxt_inbox i
    WHERE id > (SELECT id FROM floor)
      AND NOT EXISTS (SELECT 1 FROM {schema}.inbound_ledger l
                      WHERE l.inboxid = i.id AND l.inboxid > (SELECT id FROM floor))
    ORDER BY ticket, userid
    ON CONFLICT DO NOTHING
    RETURNING 1
), inbox_read AS (
    SELECT (SELECT count(*) FROM caught) AS caught,
           (SELECT coalesce(max(id), (SELECT id FROM floor)) FROM {prefix}block_moodletxt_inbox
            WHERE id > (SELECT id FROM floor)) AS max_id,
           pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS xmin,
           pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax
))";

// What routing an inbound push needs, in one round trip, with the catch-up
// before its inbox rows. Rows are tagged by kind; every value is text
// (libpqxx parses them alike).
//   setting:  the plugin's phone settings.
//   directory_stale: whether the phone directory is due for a refresh: while
//     it holds under 10,000 numbers, when any number changed (one pass over
//     them, no writes: lookups are then exact), else when it is older than
//     100 times what the last refresh took, at least 1 s and at most 5 s
//     (refreshing takes at most 1% of the time until a refresh costs 50 ms,
//     about 2% at 100,000 users; a changed number is found within 5 s).
//   inbox_read: the catch-up's count, highest id, xmin and xmax.
//   account, filter: the accounts the push names ($2), and the filters of
//     those that take inbound SMS, one row per receiving live user.
constexpr const char* kInboundReads = R"(
named AS (
    SELECT a.*, u.id IS NOT NULL AS user_live FROM {prefix}block_moodletxt_accounts a
    LEFT JOIN {prefix}user u ON u.id = a.defaultuser AND u.deleted = 0
    WHERE lower(a.username) IN (SELECT lower(jsonb_array_elements_text($2::jsonb)))
)
SELECT 'setting', name, value, NULL, NULL, NULL FROM {prefix}config_plugins
WHERE plugin = 'moodletxt' AND name IN ('Phone_Number_Source', 'Default_International_Prefix', 'National_Prefix')
UNION ALL
SELECT 'directory_stale',
       (CASE WHEN entries < 10000 THEN fingerprint IS DISTINCT FROM {schema}.directory_fingerprint()
             ELSE now() - refreshed_at > least(greatest(cost * 100, interval '1 s'), interval '5 s') END)::text, NULL, NULL, NULL, NULL
FROM {schema}.phone_directory_state
UNION ALL
SELECT 'inbox_read', caught::text, max_id::text, xmin::text, xmax::text, NULL FROM inbox_read
UNION ALL
SELECT 'account', id::text, username, defaultuser::text, user_live::text, (inboundenabled = 1)::text FROM named
UNION ALL
SELECT 'filter', f.id::text, f.account::text, (lower(f.type) <> 'phoneno')::text, f.value, i.userid::text
FROM {prefix}block_moodletxt_filter f
JOIN {prefix}block_moodletxt_in_fil i ON i.filter = f.id
JOIN {prefix}user u ON u.id = i.userid AND u.deleted = 0
WHERE f.account IN (SELECT id FROM named WHERE inboundenabled = 1))";

std::vector<Statement> all_statements() {
    return {
    {"status_write", std::string("\nWITH") + kStatusWrite + "\nSELECT (SELECT count(*) FROM s_new), 0"},
    {"push_write", std::string("\nWITH") + kStatusWrite + "," + kInboxWrite +
                       "\nSELECT (SELECT count(*) FROM s_new), (SELECT count(*) FROM i_new)"},
    {"inbound_reads", std::string("\nWITH") + kInboxCatchUp + "," + kInboundReads},
    {"inbox_catch_up", std::string("\nWITH") + kInboxCatchUp + "\nSELECT caught, max_id, xmin, xmax FROM inbox_read"},
    {"refresh_directory", R"(SELECT {schema}.refresh_phone_directory())"},
    // The push's senders: Moodle users and address-book contacts, found in
    // the phone directory by key ($1); their live rows are read by id and
    // compared exactly in routing.
    {"senders", R"(
SELECT 'user', u.id, u.firstname, u.lastname,
       {schema}.phone(CASE WHEN $4 = 'phone1' THEN u.phone1 ELSE u.phone2 END, $2, $3), NULL, NULL
FROM {prefix}user u
WHERE u.deleted = 0 AND u.id IN (SELECT d.id FROM {schema}.phone_directory d
                                 WHERE d.kind = $4 AND d.key = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb))))
UNION ALL
SELECT 'contact', e.id, e.firstname, e.lastname, {schema}.phone(e.phoneno, $2, $3), lower(b.type) = 'global', b.owner
FROM {prefix}block_moodletxt_ab_entry e
JOIN {prefix}block_moodletxt_ab b ON b.id = e.addressbook
WHERE e.id IN (SELECT d.id FROM {schema}.phone_directory d
               WHERE d.kind = 'contact' AND d.key = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))))"},
    // The spooler, after its catch-up ($1 the highest id it read, $2 and $3
    // that read's snapshot xmax and xmin): pending becomes the watermark if
    // every transaction running when pending was read had ended before this
    // catch-up read (its xmin, not this update's: a row committed since was
    // not read), and what this catch-up read becomes pending. A short
    // update: the catch-up ran before, on its own.
    {"inbox_watch_settle", R"(
UPDATE {schema}.inbox_watch
SET watermark = pending, pending = greatest(pending, $1), pending_xmax = greatest(pending_xmax, $2::text::xid8)
WHERE $3::text::xid8 >= pending_xmax)"},
    {"unrouted_pending", R"(
SELECT id, ticket, messagetext, source, timereceived, destination, destinationaccount
FROM {schema}.unrouted WHERE routed = 0 AND id > $1 ORDER BY id LIMIT 500)"},
    {"unrouted_mark_routed", R"(
UPDATE {schema}.unrouted u SET routed = 1
WHERE routed = 0 AND EXISTS (SELECT 1 FROM {schema}.inbound_ledger l WHERE l.ticket = u.ticket))"},
    };
}

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
    for (const Statement& st : all_statements())
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

    // Runs `step` autocommitted (each statement a transaction of its own);
    // behind a transaction pooler, in one transaction that sets the
    // session's settings first.
    template <class Step>
    auto autocommitted(Step&& step) {
        if (!pooled) {
            pqxx::nontransaction tx(conn);
            return step(tx);
        }
        pqxx::work tx(conn);
        tx.exec(local_settings);
        auto out = step(tx);
        tx.commit();
        return out;
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

// What the first round trip of an inbound push returns.
struct InboundRead {
    RoutingSettings settings;
    bool directory_stale = false;
    int64_t inbox_max_id = 0, snapshot_xmin = 0, snapshot_xmax = 0;
    std::vector<Account> accounts;
    std::vector<Filter> filters;  // by id; users in id order
};

InboundRead read_inbound(const Statements& st, pqxx::transaction_base& tx, int64_t floor,
                         const std::vector<InboundSms>& messages, const std::string& unknown_name) {
    std::set<std::string> names;
    for (const InboundSms& m : messages) names.insert(m.account);
    JsonRows name_list;
    for (const auto& n : names) name_list.value(n);

    InboundRead out;
    RoutingSettings& s = out.settings;
    s.unknown_name = unknown_name;
    std::map<int64_t, Filter> filters;
    for (const auto& row : st.run(tx, "inbound_reads", floor, name_list.str())) {
        const std::string kind = row[0].as<std::string>();
        if (kind == "setting") {
            std::string name = row[1].as<std::string>(), value = row[2].as<std::string>();
            if (name == "Phone_Number_Source" && (value == "phone1" || value == "phone2")) s.phone_column = value;
            else if (name == "Default_International_Prefix") s.phone.international_prefix = value;
            else if (name == "National_Prefix") s.phone.national_prefix = value;
        } else if (kind == "directory_stale") {
            out.directory_stale = row[1].as<bool>();
        } else if (kind == "inbox_read") {
            out.inbox_max_id = row[2].as<int64_t>();
            out.snapshot_xmin = row[3].as<int64_t>();
            out.snapshot_xmax = row[4].as<int64_t>();
        } else if (kind == "account") {
            out.accounts.push_back({row[1].as<int64_t>(), row[2].as<std::string>(), row[3].as<int64_t>(),
                                    row[4].as<bool>(), row[5].as<bool>()});
        } else if (kind == "filter") {
            int64_t id = row[1].as<int64_t>();
            Filter& f = filters.try_emplace(id, Filter{id, row[2].as<int64_t>(), row[3].as<bool>(),
                                                       row[4].as<std::string>(), {}}).first->second;
            f.users.push_back(row[5].as<int64_t>());
        }
    }
    for (auto& [id, f] : filters) {
        std::sort(f.users.begin(), f.users.end());
        out.filters.push_back(std::move(f));
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

// The users and contacts whose number has one of the keys, in id order.
void read_senders(const Statements& st, pqxx::transaction_base& tx, const std::set<std::string>& keys,
                  const RoutingSettings& s, RoutingData& data) {
    JsonRows key_list;
    for (const auto& k : keys) key_list.value(k);
    for (const auto& row : st.run(tx, "senders", key_list.str(), s.phone.international_prefix,
                                  s.phone.national_prefix, s.phone_column)) {
        if (row[0].as<std::string>() == "user")
            data.senders.push_back({row[1].as<int64_t>(), row[2].as<std::string>(), row[3].as<std::string>(),
                                    row[4].as<std::string>()});
        else
            data.contacts.push_back({row[1].as<int64_t>(), row[2].as<std::string>(), row[3].as<std::string>(),
                                     row[4].as<std::string>(), row[5].as<bool>(), row[6].as<int64_t>()});
    }
    auto by_id = [](const auto& a, const auto& b) { return a.id < b.id; };
    std::sort(data.senders.begin(), data.senders.end(), by_id);
    std::sort(data.contacts.begin(), data.contacts.end(), by_id);
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
    const Statements& st = session_->statements;
    StoreReport report;
    Flags flags(now);
    JsonRows statuses = status_rows(push, now, flags, report.statuses);

    // Read what routing needs, then route: autocommitted reads, no locks
    // held (READ COMMITTED gives each statement its own snapshot anyway).
    Routed routed;
    if (!push.inbound.empty()) {
        routed = session_->autocommitted([&](pqxx::transaction_base& reads) {
            InboundRead read = read_inbound(st, reads, inbox_floor_.settled, push.inbound, options_.unknown_sender_name);
            inbox_floor_.read(read.inbox_max_id, read.snapshot_xmin, read.snapshot_xmax);
            std::vector<PhoneNumber> numbers;
            for (const InboundSms& sms : push.inbound) numbers.push_back(normalise_(sms.phone, read.settings.phone));
            RoutingData data{std::move(read.accounts), std::move(read.filters), {}, {}};
            std::set<std::string> keys = sender_keys(numbers);
            if (!keys.empty()) {
                // A refresh is written before the lookup that needs it.
                if (read.directory_stale) st.run(reads, "refresh_directory");
                read_senders(st, reads, keys, read.settings, data);
            }
            return route(push.inbound, numbers, data, read.settings);
        });
        report.inbound = push.inbound.size();
        report.implausible_numbers = routed.implausible.size();
        report.inbox_rows = routed.inbox.size();
        report.unrouted = routed.unrouted.size();
        for (const InboundSms* sms : routed.implausible) flags.add(sms->ticket, "inbound", "implausible_phone", sms->phone);
    }
    if (statuses.empty() && push.inbound.empty()) return report;

    // The write: one statement, a transaction of its own (one round trip
    // instead of BEGIN, statements, COMMIT).
    JsonRows inbox = inbox_rows(std::move(routed.inbox), flags);
    JsonRows unrouted = unrouted_rows(routed.unrouted, now, flags);
    pqxx::row counts = session_->autocommitted([&](pqxx::transaction_base& tx) {
        if (push.inbound.empty() && flags.rows().empty())
            return st.run(tx, "status_write", statuses.str(), request_id)[0];
        return st.run(tx, "push_write", statuses.str(), request_id, now, inbox.str(), unrouted.str(),
                      flags.rows().str())[0];
    });
    report.statuses_new = counts[0].as<size_t>();
    report.inbox_rows_new = counts[1].as<size_t>();
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
        auto read = session_->statements.run(tx, "inbox_catch_up", 0)[0];
        session_->statements.run(tx, "inbox_watch_settle", read[1].as<int64_t>(), read[3].as<int64_t>(),
                                 read[2].as<int64_t>());
        return read[0].as<size_t>();
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
