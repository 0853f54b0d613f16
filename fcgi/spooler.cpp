#include "spooler.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "push_store.hpp"
#include "spool.hpp"
#include "spool_replay.hpp"
#include "signals.hpp"

namespace txtpush {

namespace {

constexpr auto kIdlePoll = std::chrono::milliseconds(250);
constexpr auto kMaxBackoff = std::chrono::milliseconds(30000);
constexpr auto kInboxCatchUp = std::chrono::seconds(5);
constexpr auto kListAnyway = std::chrono::seconds(30);
constexpr auto kDirectoryLook = std::chrono::milliseconds(250);  // a period is 1 s at least

// Sleeps in short steps so SIGTERM is honoured promptly.
void pause_for(std::chrono::milliseconds total) {
    auto until = std::chrono::steady_clock::now() + total;
    while (!stop_requested() && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
}

}  // namespace

int run_spooler(const Config& config, PushValidator& validator, Scoreboard& board, WorkerSlot& slot, const Log& log) {
    install_stop_handlers();
    BoardInboxFloor inbox_floor(board, slot.generation.load());
    PushStore store(store_options(config), log);
    store.share_inbox_floor(&inbox_floor);
    Spool spool(config.spool_dir, config.spool_max_bytes, &board.spool, board.index_of(slot));
    auto backoff = std::chrono::milliseconds(500);
    spool.note_waiting("");  // a reason a previous run left is not this run's
    slot.state.store(static_cast<int>(SlotState::idle));

    auto next_catch_up = std::chrono::steady_clock::now();
    auto next_listing = std::chrono::steady_clock::now();
    auto next_catch_up_log = std::chrono::steady_clock::now();
    auto next_directory_look = std::chrono::steady_clock::now();
    while (!stop_requested()) {
        log_signals_received(log);
        if (std::chrono::steady_clock::now() >= next_directory_look) {
            // Failures are the catch-up's to report: the same connection.
            (void)store.refresh_directory_ahead();
            next_directory_look = std::chrono::steady_clock::now() + kDirectoryLook;
        }
        if (std::chrono::steady_clock::now() >= next_catch_up) {
            // Keeps the inbox watermark close, so a push reads few rows above it.
            auto caught = store.catch_up_inbox();
            if (caught && *caught > 0) log.info("inbox_caught_up", {{"rows_new_to_ledger", std::to_string(*caught)}});
            if (!caught && std::chrono::steady_clock::now() >= next_catch_up_log) {  // at most once a minute
                log.warn("inbox_catch_up_failed", {{"reason", caught.error().reason}});
                next_catch_up_log = std::chrono::steady_clock::now() + std::chrono::minutes(1);
            }
            next_catch_up = std::chrono::steady_clock::now() + kInboxCatchUp;
        }
        // The usage counters, not the folder, say whether to look; the folder
        // is listed anyway now and then, for a file a killed writer left uncounted.
        bool look_anyway = std::chrono::steady_clock::now() >= next_listing;
        if (spool.files() == 0 && !look_anyway) {
            pause_for(kIdlePoll);
            continue;
        }
        next_listing = std::chrono::steady_clock::now() + kListAnyway;
        ReplayResult r = replay_spool(spool, validator, store, log, stop_requested);
        if (r.listed == 0) {
            spool.note_waiting("");
            pause_for(kIdlePoll);
            continue;
        }
        board.metrics.spool_replayed.fetch_add(r.stored);
        if (r.stored > 0 || r.set_aside > 0 || r.kept > 0)
            log.info("spool_progress", {{"stored", std::to_string(r.stored)},
                                        {"set_aside", std::to_string(r.set_aside)},
                                        {"kept", std::to_string(r.kept)},
                                        {"remaining", std::to_string(spool.files())}});
        if (r.kept > 0 && !r.database_down) pause_for(backoff);  // unreadable files: do not spin on them
        if (r.stored > 0 || r.waiting.kind == ErrorKind::misconfigured)
            board.note_database(r.waiting.kind == ErrorKind::misconfigured);
        spool.note_waiting(r.database_down ? r.waiting.reason : "");
        if (r.database_down) {
            log.warn("spool_waiting_for_database", {{"remaining", std::to_string(r.remaining)},
                                                    {"kind", error_kind_name(r.waiting.kind)},
                                                    {"reason", r.waiting.reason},
                                                    {"retry_ms", std::to_string(backoff.count())}});
            pause_for(backoff);
            backoff = std::min(backoff * 2, kMaxBackoff);
        } else {
            backoff = std::chrono::milliseconds(500);
        }
    }
    return 0;
}

}  // namespace txtpush
