#include "push_store.hpp"

#include <fmt/format.h>

#include <map>
#include <set>

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
    const char* sql;  // {p} is the table prefix
};

const Statement kStatements[] = {
    {"status_upsert", R"(
INSERT INTO {p}block_moodletxt_status (ticketnumber, status, statusmessage, updatetime)
SELECT r.ticketnumber, r.status, r.statusmessage, r.updatetime
FROM jsonb_to_recordset($1::jsonb) AS r(ticketnumber bigint, status smallint, statusmessage text, updatetime bigint)
ON CONFLICT (ticketnumber, status) DO NOTHING)"},
    {"settings", R"(
SELECT name, value FROM {p}config_plugins
WHERE plugin = 'moodletxt' AND name IN ('Phone_Number_Source', 'Default_International_Prefix', 'National_Prefix'))"},
    {"accounts", R"(
SELECT a.id, a.username, a.defaultuser, u.id IS NOT NULL, a.inboundenabled = 1
FROM {p}block_moodletxt_accounts a
LEFT JOIN {p}user u ON u.id = a.defaultuser AND u.deleted = 0
WHERE lower(a.username) IN (SELECT lower(jsonb_array_elements_text($1::jsonb))))"},
    {"filters", R"(
SELECT f.id, f.account, lower(f.type) <> 'phoneno', f.value, i.userid
FROM {p}block_moodletxt_filter f
JOIN {p}block_moodletxt_in_fil i ON i.filter = f.id
JOIN {p}user u ON u.id = i.userid AND u.deleted = 0
WHERE f.account IN (SELECT jsonb_array_elements_text($1::jsonb)::bigint)
ORDER BY f.id, i.userid)"},
    {"senders_phone1", R"(
SELECT id, firstname, lastname, {p}txtpush_phone(phone1, $2, $3) FROM {p}user
WHERE deleted = 0 AND {p}txtpush_phone_key(phone1) = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))
ORDER BY id)"},
    {"senders_phone2", R"(
SELECT id, firstname, lastname, {p}txtpush_phone(phone2, $2, $3) FROM {p}user
WHERE deleted = 0 AND {p}txtpush_phone_key(phone2) = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))
ORDER BY id)"},
    {"contacts", R"(
SELECT e.id, e.firstname, e.lastname, {p}txtpush_phone(e.phoneno, $2, $3), lower(b.type) = 'global', b.owner
FROM {p}block_moodletxt_ab_entry e
JOIN {p}block_moodletxt_ab b ON b.id = e.addressbook
WHERE {p}txtpush_phone_key(e.phoneno) = ANY (ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))
ORDER BY e.id)"},
    // Inbox rows and their sender links in one statement: a link is written
    // only with the inbox row it belongs to, so a replay adds neither.
    {"inbox_upsert", R"(
WITH r AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(userid bigint, ticket bigint, messagetext text,
        source text, firstname text, lastname text, timereceived bigint, sender_user bigint, contact bigint)
), ins AS (
    INSERT INTO {p}block_moodletxt_inbox
        (userid, ticket, messagetext, source, sourcefirstname, sourcelastname, timereceived, hasbeenread)
    SELECT userid, ticket, messagetext, source, firstname, lastname, timereceived, 0 FROM r
    ON CONFLICT (ticket, userid) DO NOTHING
    RETURNING id, ticket, userid
), link_user AS (
    INSERT INTO {p}block_moodletxt_in_u (userid, receivedmessage)
    SELECT r.sender_user, ins.id FROM ins JOIN r USING (ticket, userid) WHERE r.sender_user IS NOT NULL
    ON CONFLICT (receivedmessage) DO NOTHING
), link_contact AS (
    INSERT INTO {p}block_moodletxt_in_ab (contact, receivedmessage)
    SELECT r.contact, ins.id FROM ins JOIN r USING (ticket, userid) WHERE r.contact IS NOT NULL
    ON CONFLICT (receivedmessage) DO NOTHING
)
SELECT count(*) FROM ins)"},
    {"unrouted_upsert", R"(
INSERT INTO {p}txtpush_unrouted
    (ticket, messagetext, source, destination, destinationaccount, timereceived, reason, timestored)
SELECT ticket, messagetext, source, destination, destinationaccount, timereceived, reason, timestored
FROM jsonb_to_recordset($1::jsonb) AS r(ticket bigint, messagetext text, source text, destination text,
    destinationaccount text, timereceived bigint, reason text, timestored bigint)
ON CONFLICT (ticket) DO NOTHING)"},
    {"unrouted_pending", R"(
SELECT ticket, messagetext, source, timereceived, destination, destinationaccount
FROM {p}txtpush_unrouted WHERE routed = 0 ORDER BY id)"},
    {"unrouted_mark_routed", R"(
UPDATE {p}txtpush_unrouted u SET routed = 1
WHERE routed = 0 AND EXISTS (SELECT 1 FROM {p}block_moodletxt_inbox i WHERE i.ticket = u.ticket))"},
    {"flags_upsert", R"(
INSERT INTO {p}txtpush_flags (ticket, kind, flag, original, timestored)
SELECT ticket, kind, flag, original, timestored
FROM jsonb_to_recordset($1::jsonb) AS r(ticket bigint, kind text, flag text, original text, timestored bigint)
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

// Errors that mean "the database cannot take it now", not "this push is bad".
bool unavailable(const pqxx::sql_error& e) {
    const std::string& state = e.sqlstate();
    return state.rfind("08", 0) == 0 || state.rfind("57P", 0) == 0 || state == "25006" || state == "53300" ||
           state == "40001" || state == "40P01";
}

// A database that does not answer must not hold a worker for ever: unless
// the conninfo says otherwise, give up connecting after 5 s.
std::string with_connect_timeout(const std::string& conninfo) {
    bool uri = conninfo.rfind("postgres://", 0) == 0 || conninfo.rfind("postgresql://", 0) == 0;
    return uri ? conninfo : "connect_timeout=5 " + conninfo;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> prepared_statements(std::string_view prefix) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const Statement& s : kStatements) out.emplace_back(s.name, replace_all(s.sql, "{p}", prefix));
    return out;
}

class PushStore::Session {
public:
    Session(const StoreOptions& options) : conn(with_connect_timeout(options.conninfo)) {
        for (const auto& [name, sql] : prepared_statements(options.table_prefix)) conn.prepare(name, sql);
    }
    pqxx::connection conn;
};

PushStore::PushStore(StoreOptions options, const Log& log) : options_(std::move(options)), log_(log) {}
PushStore::~PushStore() = default;

bool PushStore::connected() const { return session_ && session_->conn.is_open(); }

bool PushStore::connect() {
    try {
        session_ = std::make_unique<Session>(options_);
        return true;
    } catch (const std::exception& e) {
        session_.reset();
        log_.warn("db_connect_failed", {{"error", e.what()}});
        return false;
    }
}

namespace {

RoutingSettings read_settings(pqxx::work& txn, const std::string& unknown_name) {
    RoutingSettings s;
    s.unknown_name = unknown_name;
    for (const auto& row : txn.exec_prepared("settings")) {
        std::string name = row[0].as<std::string>(), value = row[1].as<std::string>();
        if (name == "Phone_Number_Source" && (value == "phone1" || value == "phone2")) s.phone_column = value;
        else if (name == "Default_International_Prefix") s.phone.international_prefix = value;
        else if (name == "National_Prefix") s.phone.national_prefix = value;
    }
    return s;
}

RoutingData read_routing_data(pqxx::work& txn, const std::vector<InboundSms>& messages,
                              const std::vector<PhoneNumber>& numbers, const RoutingSettings& s) {
    RoutingData data;
    // Senders are looked up by index key (last 8 digits); route() then
    // compares the canonical numbers exactly.
    std::set<std::string> names, phones;
    for (const InboundSms& m : messages) names.insert(m.account);
    for (const PhoneNumber& n : numbers)
        if (n.plausible) phones.insert(phone_key(n.value));
    JsonRows name_list;
    for (const auto& n : names) name_list.value(n);
    JsonRows account_ids;
    for (const auto& row : txn.exec_prepared("accounts", name_list.str())) {
        Account a{row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<int64_t>(), row[3].as<bool>(),
                  row[4].as<bool>()};
        if (a.inbound_enabled) account_ids.value(a.id);
        data.accounts.push_back(std::move(a));
    }
    if (!account_ids.empty()) {
        for (const auto& row : txn.exec_prepared("filters", account_ids.str())) {
            int64_t id = row[0].as<int64_t>();
            if (data.filters.empty() || data.filters.back().id != id)
                data.filters.push_back({id, row[1].as<int64_t>(), row[2].as<bool>(), row[3].as<std::string>(), {}});
            data.filters.back().users.push_back(row[4].as<int64_t>());
        }
    }
    if (phones.empty()) return data;
    JsonRows phone_list;
    for (const auto& p : phones) phone_list.value(p);
    const char* senders = s.phone_column == "phone1" ? "senders_phone1" : "senders_phone2";
    for (const auto& row : txn.exec_prepared(senders, phone_list.str(), s.phone.international_prefix,
                                             s.phone.national_prefix))
        data.senders.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                                row[3].as<std::string>()});
    for (const auto& row : txn.exec_prepared("contacts", phone_list.str(), s.phone.international_prefix,
                                             s.phone.national_prefix))
        data.contacts.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                                 row[3].as<std::string>(), row[4].as<bool>(), row[5].as<int64_t>()});
    return data;
}

}  // namespace

StoreReport PushStore::store_in_transaction(const Push& push, int64_t now) {
    StoreReport report;
    Flags flags(now);
    std::set<std::pair<int64_t, int>> seen_status;
    JsonRows statuses;
    for (const StatusUpdate& s : push.statuses) {
        if (!seen_status.insert({s.ticket, s.status}).second) continue;
        statuses.row()
            .field("ticketnumber", s.ticket)
            .field("status", int64_t{s.status})
            .field("statusmessage", flags.fit(s.message, kStatusMessageChars, s.ticket, "status", "statusmessage"))
            .field("updatetime", now);
    }
    report.statuses = seen_status.size();

    if (push.inbound.empty() && flags.rows().empty()) {
        // A single statement is a transaction of its own: one round trip
        // instead of BEGIN, statement, COMMIT. Most pushes are just this.
        if (statuses.empty()) return report;
        pqxx::nontransaction single(session_->conn);
        report.statuses_new = single.exec_prepared("status_upsert", statuses.str()).affected_rows();
        return report;
    }

    pqxx::work txn(session_->conn);
    if (!statuses.empty()) report.statuses_new = txn.exec_prepared("status_upsert", statuses.str()).affected_rows();

    if (!push.inbound.empty()) {
        report.inbound = push.inbound.size();
        RoutingSettings settings = read_settings(txn, options_.unknown_sender_name);
        std::vector<PhoneNumber> numbers;
        for (const InboundSms& sms : push.inbound) numbers.push_back(normalise_(sms.phone, settings.phone));
        Routed routed = route(push.inbound, numbers, read_routing_data(txn, push.inbound, numbers, settings), settings);
        report.implausible_numbers = routed.implausible.size();
        report.inbox_rows = routed.inbox.size();
        for (const InboundSms* sms : routed.implausible) flags.add(sms->ticket, "inbound", "implausible_phone", sms->phone);

        JsonRows inbox;
        for (const InboxRow& r : routed.inbox)
            inbox.row()
                .field("userid", r.userid)
                .field("ticket", r.ticket)
                .field("messagetext", r.messagetext)
                .field("source", flags.fit(r.source, kSourceChars, r.ticket, "inbound", "source"))
                .field("firstname", flags.fit(r.firstname, kNameChars, r.ticket, "inbound", "sourcefirstname"))
                .field("lastname", flags.fit(r.lastname, kNameChars, r.ticket, "inbound", "sourcelastname"))
                .field("timereceived", r.timereceived)
                .field("sender_user", r.sender_user)
                .field("contact", r.contact);
        if (!inbox.empty()) report.inbox_rows_new = txn.exec_prepared("inbox_upsert", inbox.str())[0][0].as<size_t>();

        JsonRows unrouted;
        for (const UnroutedRow& u : routed.unrouted)
            unrouted.row()
                .field("ticket", u.sms->ticket)
                .field("messagetext", u.sms->text)
                .field("source", flags.fit(u.source, kUnroutedSourceChars, u.sms->ticket, "inbound", "source"))
                .field("destination",
                       flags.fit(u.sms->destination, kUnroutedTextChars, u.sms->ticket, "inbound", "destination"))
                .field("destinationaccount", flags.fit(u.sms->account, kUnroutedTextChars, u.sms->ticket, "inbound",
                                                       "destinationaccount"))
                .field("timereceived", u.sms->date)
                .field("reason", u.reason)
                .field("timestored", now);
        report.unrouted = routed.unrouted.size();
        if (!unrouted.empty()) txn.exec_prepared("unrouted_upsert", unrouted.str());
    }
    if (!flags.rows().empty()) txn.exec_prepared("flags_upsert", flags.rows().str());
    txn.commit();
    report.truncated_values = flags.truncated();
    return report;
}

Result<size_t> PushStore::reroute_unrouted(int64_t now) {
    if (!connected() && !connect()) return fail(503, "database unavailable");
    try {
        Push pending;
        {
            pqxx::read_transaction txn(session_->conn);
            for (const auto& row : txn.exec_prepared("unrouted_pending"))
                pending.inbound.push_back({row[0].as<int64_t>(), row[1].as<std::string>(), row[2].as<std::string>(),
                                           row[3].as<int64_t>(), row[4].as<std::string>(), row[5].as<std::string>()});
        }
        if (pending.inbound.empty()) return size_t{0};
        auto stored = store(pending, now);
        if (!stored) return stored.error();
        pqxx::nontransaction mark(session_->conn);
        return static_cast<size_t>(mark.exec_prepared("unrouted_mark_routed").affected_rows());
    } catch (const std::exception& e) {
        return fail(500, fmt::format("cannot re-route: {}", e.what()));
    }
}

Result<StoreReport> PushStore::store(const Push& push, int64_t now) {
    // Two attempts: the first may meet a connection the database dropped
    // (restart, idle timeout). Retrying is safe because every write is an
    // idempotent upsert, even after a commit whose outcome was lost.
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (!connected() && !connect()) return fail(503, "database unavailable");
        try {
            return store_in_transaction(push, now);
        } catch (const pqxx::broken_connection& e) {
            log_.warn("db_connection_lost", {{"error", e.what()}, {"attempt", std::to_string(attempt + 1)}});
            session_.reset();
        } catch (const pqxx::in_doubt_error& e) {
            log_.warn("db_commit_in_doubt", {{"error", e.what()}});
            session_.reset();
        } catch (const pqxx::sql_error& e) {
            log_.error("db_error", {{"sqlstate", e.sqlstate()}, {"error", e.what()}});
            if (!unavailable(e)) return fail(500, "database error while storing the push");
            session_.reset();
            return fail(503, "database unavailable");
        } catch (const std::exception& e) {
            log_.error("db_error", {{"error", e.what()}});
            return fail(500, "database error while storing the push");
        }
    }
    return fail(503, "database unavailable");
}

}  // namespace txtpush
