#include "push_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "json_rows.hpp"
#include "routing_reads.hpp"
#include "row_plan.hpp"
#include "store_statements.hpp"
#include "text.hpp"

namespace txtpush {

namespace {

// A database that does not answer must not hold a worker past its request's
// deadline: connecting gives up within what remains of it (libpq's least is
// 2 s), and a half-dead TCP connection is noticed by keepalives and
// tcp_user_timeout instead of hanging. What the conninfo says wins (later
// keywords override earlier ones; a URI gets only what it does not say).
}  // namespace

std::string conninfo_with_timeouts(const std::string& conninfo, std::chrono::milliseconds remaining) {
    auto seconds = std::clamp<long long>(remaining.count() / 1000, 2, 5);
    bool uri = conninfo.rfind("postgres://", 0) == 0 || conninfo.rfind("postgresql://", 0) == 0;
    if (uri) {  // only what the URI does not say already
        std::string out = conninfo;
        for (const std::string& option : {fmt::format("connect_timeout={}", seconds), std::string("keepalives=1"),
                                          std::string("tcp_user_timeout=10000")})
            if (conninfo.find(option.substr(0, option.find('=') + 1)) == std::string::npos)
                out += (out.find('?') == std::string::npos ? "?" : "&") + option;
        return out;
    }
    return fmt::format("connect_timeout={} keepalives=1 keepalives_idle=10 keepalives_interval=5 keepalives_count=3 "
                       "tcp_user_timeout=10000 {}",
                       seconds, conninfo);
}

namespace {

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

constexpr std::string_view kMigrateFix =
    "check [database] conninfo, table_prefix and schema; run txtpushd migrate as the owner of Moodle's tables, then "
    "txtpushd grants";

// The SQLSTATEs that mean txtpushd and this database do not fit, and what
// an operator does about each: no retry helps until one acts.
struct Misfit {
    std::string_view sqlstate, what, fix;
};
constexpr Misfit kMisfits[] = {
    {"42P01", "database is not what txtpush was migrated for", kMigrateFix},
    {"42703", "database is not what txtpush was migrated for", kMigrateFix},
    {"42883", "database is not what txtpush was migrated for", kMigrateFix},
    {"3F000", "database is not what txtpush was migrated for", kMigrateFix},
    {"42501", "txtpushd's database role lacks a right",
     "run txtpushd grants ROLE as the owner of Moodle's tables and feed it to psql (ROLE: the user in [database] "
     "conninfo)"},
    {"42601", "a statement does not parse here", "check [database] table_prefix and schema"},
    {"28P01", "the database refused txtpushd's login", "check the user and password (or passfile) in [database] "
                                                       "conninfo"},
    {"28000", "the database refused txtpushd's login", "check the user in [database] conninfo and pg_hba.conf"},
    {"3D000", "no such database", "check dbname in [database] conninfo"},
};

const Misfit* misfit(std::string_view sqlstate) {
    for (const Misfit& m : kMisfits)
        if (m.sqlstate == sqlstate) return &m;
    return nullptr;
}

// libpq says why a connection failed only in words: the SQLSTATE they stand for.
std::string sqlstate_of_connect_failure(std::string_view message) {
    auto says = [&](std::string_view words) { return message.find(words) != std::string_view::npos; };
    if (says("password authentication failed") || says("no password supplied")) return "28P01";
    if (says("authentication failed") || says("no pg_hba.conf entry") || says("pg_hba.conf rejects") ||
        (says("role \"") && says("does not exist")))
        return "28000";
    if (says("database \"") && says("does not exist")) return "3D000";
    if (says("permission denied for database")) return "42501";
    return "08006";
}

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
    // Missing objects, rights or login: txtpushd is misconfigured for this
    // database (Moodle uninstalled the block, a restore, migrate or grants not
    // run, a typo in the conninfo). Not "unavailable": the gateway keeps its copy.
    if (misfit(sqlstate) != nullptr) return ErrorKind::misconfigured;
    // 22: data exception (a value the column cannot take), 23: integrity
    // constraint violation (a constraint a DBA added): this push, as it is,
    // will never be stored. Anything else is about the database, not the
    // push: connection (08), resources (53), operator intervention and
    // timeouts (57), locks (55), rollbacks (40), read-only (25), system
    // errors (58, XX).
    std::string_view cls = sqlstate.substr(0, 2);
    return cls == "22" || cls == "23" ? ErrorKind::permanent : ErrorKind::transient;
}

class PushStore::Session {
public:
    Session(const StoreOptions& options, std::chrono::milliseconds remaining)
        : conn(conninfo_with_timeouts(options.conninfo, remaining)),
          statements(!options.transaction_pooling, options.names),
          pooled(options.transaction_pooling),
          full_timeout_ms(options.statement_timeout_ms),
          timeout_ms(options.statement_timeout_ms),
          local_settings(session_settings(options, "SET LOCAL")) {
        if (pooled) return;  // a session SET would land on whichever server connection ran it
        pqxx::nontransaction tx(conn);
        tx.exec(session_settings(options, "SET"));
        for (const auto& [name, sql] : statements.all()) conn.prepare(name, sql);
    }

    // Runs `step` autocommitted (each statement a transaction of its own);
    // behind a transaction pooler, in one transaction that sets the
    // session's settings first. Its statements get at most `remaining`.
    template <class Step>
    auto autocommitted(std::chrono::milliseconds remaining, Step&& step) {
        if (!pooled) {
            pqxx::nontransaction tx(conn);
            fit_timeout(tx, remaining);
            return step(tx);
        }
        pqxx::work tx(conn);
        tx.exec(local_settings);
        fit(tx, remaining);
        auto out = step(tx);
        tx.commit();
        return out;
    }

    // The next statement gets at most `remaining` (nothing to do while the
    // whole budget remains, the usual case).
    void fit(pqxx::transaction_base& tx, std::chrono::milliseconds remaining) {
        if (!pooled) return fit_timeout(tx, remaining);
        if (full_timeout_ms > 0 && remaining.count() < full_timeout_ms)
            tx.exec(fmt::format("SET LOCAL statement_timeout = {}", std::max<long long>(remaining.count(), 1)));
    }

    pqxx::connection conn;
    Statements statements;
    const bool pooled;

private:
    // The session's statement_timeout is the request's whole budget; a push
    // that has used part of it runs with what remains (one SET, only then),
    // and the next gets the whole budget back.
    void fit_timeout(pqxx::transaction_base& tx, std::chrono::milliseconds remaining) {
        if (full_timeout_ms == 0) return;
        long long wanted = remaining.count() >= full_timeout_ms ? full_timeout_ms : std::max<long long>(remaining.count(), 1);
        if (wanted == timeout_ms) return;
        tx.exec(fmt::format("SET statement_timeout = {}", wanted));
        timeout_ms = wanted;
    }

    const long long full_timeout_ms;
    long long timeout_ms;
    static std::string session_settings(const StoreOptions& options, std::string_view set) {
        std::string sql;
        for (const SessionSetting& s : txtpush::session_settings()) sql += fmt::format("{} {} = {}; ", set, s.name, s.value);
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
        session_ = std::make_unique<Session>(options_, remaining());
        if (backoff_.count() > 0) log_.info("db_reachable");
        backoff_ = milliseconds(0);
        return true;
    } catch (const std::exception& e) {
        session_.reset();
        backoff_ = std::min<milliseconds>(backoff_.count() ? backoff_ * 2 : milliseconds(250), seconds(2));
        next_attempt_ = steady_clock::now() + backoff_;  // from the failure: an attempt may take seconds
        std::string sqlstate = sqlstate_of_connect_failure(e.what());
        connect_error_ = classify_sqlstate(sqlstate) == ErrorKind::misconfigured
                             ? failed(sqlstate, e.what(), "connecting")
                             : fail(ErrorKind::transient, "database unavailable");
        if (connect_error_.kind == ErrorKind::transient)
            log_.warn("db_error", {{"sqlstate", sqlstate}, {"kind", "transient"}, {"while", "connecting"},
                                   {"error", e.what()}, {"retry_ms", std::to_string(backoff_.count())}});
        return false;
    }
}

std::optional<Error> PushStore::ensure_connected() {
    if (connected()) return std::nullopt;
    // libpq waits at least 2 s for a connection that does not answer: with
    // less left, the push is spooled rather than its deadline passed.
    if (remaining() < std::chrono::seconds(2)) return fail(ErrorKind::transient, "no time left to connect");
    if (connect()) return std::nullopt;
    return connect_error_;
}

void PushStore::start_work(Deadline deadline) {
    // A statement budget and half a second: what the request has once its
    // worker took it (a caller's deadline counts from when the request came).
    auto budget = options_.statement_timeout_ms > 0 ? std::chrono::milliseconds(options_.statement_timeout_ms + 500)
                                                    : std::chrono::milliseconds(std::chrono::hours(1));
    deadline_ = deadline ? *deadline : std::chrono::steady_clock::now() + budget;
}

std::chrono::milliseconds PushStore::remaining() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - std::chrono::steady_clock::now());
}

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
        CatchUpRead caught;
        routed = session_->autocommitted(remaining(), [&](pqxx::transaction_base& reads) {
            before_catch_up(reads);
            InboundRead read = read_inbound(st, reads, inbox_, push.inbound, options_.unknown_sender_name);
            auto next_statement = [&] { session_->fit(reads, remaining()); };  // each gets what remains
            caught = std::move(read.catch_up);
            std::vector<PhoneNumber> numbers;
            for (const InboundSms& sms : push.inbound) numbers.push_back(normalise_(sms.phone, read.settings.phone));
            RoutingData data{std::move(read.accounts), std::move(read.filters), {}, {}};
            std::set<std::string> keys = sender_keys(numbers);
            if (!keys.empty()) {
                // A refresh is written before the lookup that needs it.
                if (read.directory_stale) {
                    next_statement();
                    st.run(reads, "refresh_directory");
                }
                next_statement();
                read_senders(st, reads, keys, read.settings, data);
            }
            return route(push.inbound, numbers, data, read.settings);
        });
        after_catch_up(caught);  // what it caught is committed (behind a pooler, only now)
        if (inbox_.needs_mark())
            inbox_.mark(session_->autocommitted(remaining(), [&](pqxx::transaction_base& tx) {
                return st.run(tx, "inbox_mark")[0][0].as<int64_t>();
            }));
        report.inbound = push.inbound.size();
        report.implausible_numbers = routed.implausible.size();
        report.inbox_rows = routed.inbox.size();
        report.unrouted = routed.unrouted.size();
        for (const UnroutedRow& u : routed.unrouted) report.senders_not_a_number += u.reason == kSenderNotANumber;
        for (const InboundSms* sms : routed.implausible)
            flags.add(sms->ticket, "inbound", "implausible_phone", trim(sms->phone));
    }
    if (statuses.empty() && push.inbound.empty()) return report;

    // The write: one statement, a transaction of its own (one round trip
    // instead of BEGIN, statements, COMMIT).
    JsonRows inbox = inbox_rows(std::move(routed.inbox), flags);
    JsonRows unrouted = unrouted_rows(routed.unrouted, now, flags);
    writing_ = true;
    pqxx::row counts = session_->autocommitted(remaining(), [&](pqxx::transaction_base& tx) {
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

void PushStore::before_catch_up(pqxx::transaction_base& tx) {
    if (inbox_.fresh()) {
        pqxx::result shared = session_->statements.run(tx, "inbox_watch_read");
        SharedCursor cursor;
        if (!shared.empty()) {
            const pqxx::row row = shared[0];
            cursor = {row[0].as<int64_t>(), row[1].as<int64_t>(), parse_id_array(row[2].c_str()),
                      parse_id_array(row[3].c_str())};
            cursor.well_formed = (cursor.gap_firsts.size() || row[2].as<std::string>() == "{}") &&
                                 (cursor.gap_lasts.size() || row[3].as<std::string>() == "{}");
        }
        inbox_.adopt(cursor);
    }
    if (shared_floor_) inbox_.raise_floor(shared_floor_->get());
}

void PushStore::after_catch_up(const CatchUpRead& read) {
    inbox_.read(read);
    if (shared_floor_) shared_floor_->raise(inbox_.floor());
}

Result<size_t> PushStore::catch_up_inbox() {
    start_work(std::nullopt);
    if (auto down = ensure_connected()) return *down;
    try {
        const Statements& st = session_->statements;
        pqxx::nontransaction tx(session_->conn);
        before_catch_up(tx);
        auto row = st.run(tx, "inbox_catch_up", inbox_.top(), inbox_.gap_firsts(), inbox_.gap_lasts())[0];
        CatchUpRead read{row[0].as<size_t>(), parse_id_array(row[1].c_str()), row[2].as<int64_t>(),
                         row[3].as<int64_t>(), row[4].as<int64_t>()};
        after_catch_up(read);
        if (inbox_.needs_mark()) inbox_.mark(st.run(tx, "inbox_mark")[0][0].as<int64_t>());
        auto now = std::chrono::steady_clock::now();
        std::string cursor = fmt::format("{} {} {}", inbox_.top(), inbox_.gap_firsts(), inbox_.gap_lasts());
        if (inbox_.floor() > published_floor_ || (now >= next_publish_ && cursor != published_cursor_)) {
            if (st.run(tx, "inbox_watch_publish", inbox_.floor(), inbox_.top(), inbox_.gap_firsts(), inbox_.gap_lasts())
                    .empty())
                return fail(ErrorKind::misconfigured,
                            fmt::format("{0}.inbox_watch holds no row, so no process can start from the spooler's "
                                        "inbox cursor; restore it: INSERT INTO {0}.inbox_watch (watermark) VALUES (0)",
                                        options_.names.schema));
            published_floor_ = inbox_.floor();
            published_cursor_ = std::move(cursor);
            next_publish_ = now + std::chrono::minutes(1);
        }
        return read.caught;
    } catch (const std::exception& e) {
        session_.reset();
        return fail(ErrorKind::transient, fmt::format("cannot catch up with the inbox: {}", e.what()));
    }
}

Result<bool> PushStore::refresh_directory_ahead() {
    start_work(std::nullopt);
    if (auto down = ensure_connected()) return *down;
    try {
        pqxx::nontransaction tx(session_->conn);
        return !session_->statements.run(tx, "refresh_directory_ahead").empty();
    } catch (const std::exception& e) {
        session_.reset();
        return fail(ErrorKind::transient, fmt::format("cannot refresh the phone directory: {}", e.what()));
    }
}

Result<MoodleTxtSettings> PushStore::read_moodletxt_settings(Deadline deadline) {
    start_work(deadline);
    if (auto down = ensure_connected()) return *down;
    writing_ = false;
    try {
        MoodleTxtSettings out;
        session_->autocommitted(remaining(), [&](pqxx::transaction_base& tx) {
            for (const auto& row : session_->statements.run(tx, "moodletxt_settings"))
                out[row[0].as<std::string>()] = row[1].is_null() ? std::string{} : row[1].as<std::string>();
            return 0;
        });
        return out;
    } catch (const pqxx::broken_connection& e) {
        session_.reset();
        return fail(ErrorKind::transient, "database unavailable");
    } catch (const pqxx::sql_error& e) {
        return failed(sqlstate_of(e), e.what(), "reading MoodleTxt's settings");
    } catch (const std::exception& e) {
        session_.reset();
        return fail(ErrorKind::transient, fmt::format("cannot read MoodleTxt's settings: {}", e.what()));
    }
}

Result<size_t> PushStore::reroute_unrouted(int64_t now) {
    if (auto down = ensure_connected()) return *down;
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

Result<StoreReport> PushStore::store(const Push& push, int64_t now, std::string_view request_id,
                                     Deadline deadline) {
    start_work(deadline);
    // A few attempts: one may meet a connection the database dropped
    // (restart, idle timeout) or be rolled back (deadlock, serialization).
    // Retrying is safe: the ledger makes every write idempotent, even after
    // a commit whose outcome was lost.
    constexpr int kAttempts = 3;
    for (int attempt = 1; attempt <= kAttempts; ++attempt) {
        if (auto down = ensure_connected()) return *down;
        std::string try_no = std::to_string(attempt);
        writing_ = false;
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
            return failed(sqlstate_of(e), e.what(), "storing the push");
        } catch (const std::exception& e) {
            // Not the database's answer: a value read back that txtpushd did
            // not expect, or a bug. Never the push's fault: it is kept.
            log_.error("db_error", {{"kind", "bug"}, {"error", e.what()}});
            session_.reset();
            return fail(ErrorKind::bug, "internal error while storing the push");
        }
    }
    return fail(ErrorKind::transient, "database unavailable");
}

Error PushStore::failed(const std::string& sqlstate, std::string_view what, std::string_view doing) {
    ErrorKind kind = classify_sqlstate(sqlstate);
    // Only the write carries the push's own values: a data exception while
    // reading (a row the plugin wrote that txtpushd cannot take) says nothing
    // about the push, which waits for an operator like any database fault.
    if (kind == ErrorKind::permanent && !writing_) kind = ErrorKind::transient;
    if (kind == ErrorKind::transient) session_.reset();
    if (const Misfit* m = misfit(sqlstate)) {
        auto now = std::chrono::steady_clock::now();
        if (now >= next_misconfigured_log_) {  // every push says so: the log at most once a minute
            log_.error("db_misconfigured", {{"sqlstate", sqlstate}, {"what", m->what}, {"while", doing},
                                            {"error", what}, {"fix", m->fix}});
            next_misconfigured_log_ = now + std::chrono::minutes(1);
        }
        return fail(kind, fmt::format("{} ({} while {}): the push was not stored, send it again later", m->what,
                                      sqlstate, doing));
    }
    log_.error("db_error", {{"sqlstate", sqlstate}, {"kind", error_kind_name(kind)}, {"error", what}});
    return fail(kind, fmt::format("database error {} while {}", sqlstate, doing));
}

}  // namespace txtpush
