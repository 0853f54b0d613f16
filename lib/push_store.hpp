// Storage of a whole push in one PostgreSQL statement.
//
// One connection per worker, statements prepared once per connection. An
// inbound push takes three round trips: what routing needs (with the inbox
// catch-up), the senders' rows, and the write; a status-only push one. The
// write is one statement (rows batched as JSON parameters, one common table
// expression per table), so a transaction of its own. Moodle's tables have no unique keys and get none: replays are
// recognised in txtpush's own ledger ({schema}.status_ledger and
// inbound_ledger), written in the same statement as the Moodle rows, so a
// replayed push, or a retry after a lost commit acknowledgement, changes
// nothing. Rows go in key order, so concurrent pushes cannot deadlock.
#pragma once

#include <pqxx/pqxx>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"
#include "db_names.hpp"
#include "inbox_catch_up.hpp"
#include "log.hpp"
#include "push_credentials.hpp"
#include "push_document.hpp"
#include "push_sinks.hpp"
#include "result.hpp"
#include "routing.hpp"
#include "store_statements.hpp"
#include "store_report.hpp"

namespace txtpush {


struct StoreOptions {
    std::string conninfo;
    DbNames names;
    std::string unknown_sender_name = "Unknown";
    unsigned statement_timeout_ms = 0;  // per session; 0 keeps the server's
    bool transaction_pooling = false;   // behind PgBouncer's pool_mode = transaction: no named statements
};

StoreOptions store_options(const Config& config);

// `conninfo` (key=value or URI) with connect_timeout (what remains, 2 to 5 s),
// TCP keepalives and tcp_user_timeout added; the conninfo's own win.
std::string conninfo_with_timeouts(const std::string& conninfo, std::chrono::milliseconds remaining);

// What a database error means for the push: transient (the database cannot
// take it now: down, restarting, read-only, full, timed out, being re-granted;
// the same push may be stored later), misconfigured (a table, column, function
// or schema txtpush was migrated for is missing) or permanent (the database
// refuses these values: data exceptions, integrity violations).
ErrorKind classify_sqlstate(std::string_view sqlstate);

class PushStore : public PushSink {
public:
    PushStore(StoreOptions options, const Log& log);
    ~PushStore();
    PushStore(const PushStore&) = delete;
    PushStore& operator=(const PushStore&) = delete;

    // Stores the push, `now` (Unix seconds, when it arrived) stamping the
    // status updates and the ledger; `request_id` goes to the ledger.
    // Errors: transient (the database cannot take it now), permanent (the
    // push's own values are refused), misconfigured (the database lacks what
    // txtpush was migrated for) or bug; nothing is stored on failure.
    // `deadline`: when the request must have its answer (the push is then
    // spooled instead); every connect and statement gets what remains of
    // it. Without one: a statement budget from now.
    Result<StoreReport> store(const Push& push, int64_t now, std::string_view request_id = "",
                              Deadline deadline = std::nullopt) override;

    // Routes again the inbound SMS kept in txtpush_unrouted (after an
    // operator fixed the account or its default user); rows that now reach
    // an inbox are marked routed = 1. Returns how many were routed.
    Result<size_t> reroute_unrouted(int64_t now);

    // Records in the ledger the inbox rows the plugin wrote itself since the
    // last catch-up, and moves the shared watermark (the spooler, every few
    // seconds). Returns how many rows were new to the ledger.
    Result<size_t> catch_up_inbox();

    // Refreshes the phone directory when it is halfway to due (the spooler,
    // every second), so that pushes seldom wait for a refresh. Returns
    // whether it refreshed.
    Result<bool> refresh_directory_ahead();

    // MoodleTxt's settings that txtpushd uses (name -> value), read through
    // {schema}.moodletxt_settings(): the push credentials and the phone rules.
    Result<MoodleTxtSettings> read_moodletxt_settings(Deadline deadline = std::nullopt);

    // Connects (or reconnects) now; false when the database does not answer.
    // After a failure, attempts wait out a backoff (0.25 s doubling to 2 s)
    // and fail at once meanwhile, so that a database outage costs each push
    // no connect timeout: it is spooled straight away.
    bool connect();
    bool connected() const;

    // Where this process reads Moodle's inbox from (for the tests and checks).
    const InboxCursor& inbox_cursor() const { return inbox_; }
    // The floor this process shares with the others of its pool
    // (lib/inbox_catch_up.hpp, invariant 6); none by default. Not owned.
    void share_inbox_floor(SharedInboxFloor* floor) { shared_floor_ = floor; }

private:
    class Session;
    StoreReport store_once(const Push& push, int64_t now, std::string_view request_id);
    void start_work(Deadline deadline);
    std::chrono::milliseconds remaining() const;
    // Connected, or why not: unavailable, or misconfigured (login refused).
    std::optional<Error> ensure_connected();
    // The error a failed statement means, logged; `doing` names the work.
    Error failed(const std::string& sqlstate, std::string_view what, std::string_view doing);
    // Before a catch-up: a fresh inbox cursor takes the spooler's, then the
    // pool's shared floor (lib/inbox_catch_up.hpp, invariants 5 and 6).
    void before_catch_up(pqxx::transaction_base& tx);
    // After one has committed: the pool's floor rises to this cursor's.
    void after_catch_up(const CatchUpRead& read);

    StoreOptions options_;
    const Log& log_;
    std::unique_ptr<Session> session_;
    PhoneNormaliser normalise_;
    std::chrono::steady_clock::time_point next_attempt_{};
    std::chrono::milliseconds backoff_{0};
    Error connect_error_{ErrorKind::transient, "database unavailable"};  // why the last attempt failed
    bool writing_ = false;  // the push's write statement is running (its values can be refused)
    std::chrono::steady_clock::time_point deadline_{};  // of the work in hand
    std::chrono::steady_clock::time_point next_misconfigured_log_{};
    // Where this process reads Moodle's inbox from (lib/inbox_catch_up.hpp).
    InboxCursor inbox_;
    SharedInboxFloor* shared_floor_ = nullptr;  // the pool's (invariant 6)
    // What the spooler last published of it: a floor that rose is published
    // at once, a cursor whose floor stays (a transaction open elsewhere)
    // once a minute, so that the row's versions stay few.
    int64_t published_floor_ = -1;
    std::string published_cursor_;  // its top and gaps
    std::chrono::steady_clock::time_point next_publish_{};
};

}  // namespace txtpush
