// Memory shared by the master and its children, set up before the first
// fork: the metrics (so counters survive recycling), what the spool holds,
// and one slot per child saying what it is doing (for the status page and
// the request timeout).
//
// Who writes what (every field is an atomic; readers never lock):
//   metrics         workers (count_request), the spooler (spool_replayed),
//                   the master (supervisor events); all by fetch_add.
//   spool           the master sets files and bytes once, before the first
//                   fork (Spool::recount); then workers add what they have
//                   written (after the write) and the spooler subtracts what
//                   it stores or sets aside: nobody overwrites them.
//                   spool.in_flight[i] is what the child in slot i has
//                   reserved and not yet written: only that child writes it,
//                   and the master zeroes it when it reaps that child (a
//                   worker killed between reserving and writing leaks nothing).
//   slots[i]        the master claims a slot (state starting, pid) before
//                   fork and frees it (empty, pid 0) after reaping the child;
//                   in between only that child writes state, phase,
//                   busy_since_ms, requests, db_connected, request_id.
//                   request_id is read by the master while the child may
//                   write it: a seqlock (request_id_version odd while
//                   written) lets the reader see a whole id or none.
//   db_misconfigured_ms     workers and the spooler, by store: the steady-clock
//                   ms of the last push refused because the database lacks
//                   what txtpush was migrated for, 0 once one is stored again
//                   (last writer wins: both are true of the database at once).
//                   Read by the status page and the master (systemd STATUS=).
//   inbox_floor     workers and the spooler, after a catch-up they read has
//                   committed: raised to their inbox cursor's floor, never
//                   lowered (compare-and-swap), and read before each catch-up
//                   (lib/inbox_catch_up.hpp, invariant 6). Its top 16 bits
//                   hold a generation: the master sets it to the new
//                   generation with floor 0 before a reload's first fork (a
//                   reload may name another database); a child reads and
//                   raises it only while it holds the child's own generation.
//   slots[i].generation     the master, before the fork.
//   pool_size, start_time   the master.
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "inbox_catch_up.hpp"
#include "metrics.hpp"
#include "spool.hpp"

namespace txtpush {

enum class SlotState : int { empty, starting, idle, busy, stopping };

struct WorkerSlot {
    std::atomic<pid_t> pid{0};
    std::atomic<int> state{0};          // SlotState
    std::atomic<int> phase{0};          // Phase, while busy
    std::atomic<int64_t> busy_since_ms{0};  // steady clock
    std::atomic<uint64_t> requests{0};
    std::atomic<bool> db_connected{false};
    std::atomic<bool> is_worker{false};  // the spooler's slot is not a FastCGI worker
    std::atomic<uint32_t> generation{0};  // the reload that started it
    std::atomic<uint32_t> request_id_version{0};  // odd while the child writes request_id
    std::array<std::atomic<char>, 48> request_id{};  // informational; written by the child only

    void set_request_id(std::string_view id);  // the child
    std::string request_id_now() const;        // anyone: the whole id, or "" if it kept changing
};

// Two full pools (old and new during a reload), plus spoolers.
inline constexpr size_t kMaxSlots = 2 * 256 + 4;
static_assert(kMaxSlots <= kSpoolWriters, "every slot needs its share of the spool's reservations");

struct Scoreboard {
    Metrics metrics;
    SpoolUsage spool;
    std::array<WorkerSlot, kMaxSlots> slots;
    std::atomic<uint64_t> pool_size{0};
    std::atomic<uint64_t> start_time{0};
    std::atomic<int64_t> db_misconfigured_ms{0};
    std::atomic<uint64_t> inbox_floor{0};  // generation << 48 | floor

    size_t index_of(const WorkerSlot& slot) const { return static_cast<size_t>(&slot - slots.data()); }

    // What the last push said of the database: misconfigured, or fine.
    void note_database(bool misconfigured);

    // The child in `slot` took a request / finished it.
    void mark_busy(WorkerSlot& slot, const char* request_id);
    void mark_idle(WorkerSlot& slot);
    PoolGauges gauges() const;
};

// The pool's shared inbox floor, as one child of `generation` sees it.
class BoardInboxFloor : public SharedInboxFloor {
public:
    BoardInboxFloor(Scoreboard& board, uint32_t generation) : floor_(board.inbox_floor), generation_(generation & 0xffff) {}
    int64_t get() const override;
    void raise(int64_t floor) override;

private:
    std::atomic<uint64_t>& floor_;
    uint64_t generation_;
};

// The master, before the first fork of a generation: the floor starts again.
void reset_inbox_floor(Scoreboard& board, uint32_t generation);

// An anonymous MAP_SHARED mapping holding one Scoreboard, unmapped on destruction.
class SharedScoreboard {
public:
    SharedScoreboard();
    ~SharedScoreboard();
    SharedScoreboard(const SharedScoreboard&) = delete;
    SharedScoreboard& operator=(const SharedScoreboard&) = delete;
    Scoreboard& get() { return *board_; }

private:
    Scoreboard* board_;
};

int64_t steady_ms();

}  // namespace txtpush
