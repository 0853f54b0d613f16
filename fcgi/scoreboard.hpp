// Memory shared by the master and its children, set up before the first
// fork: the metrics (so counters survive recycling) and one slot per child
// saying what it is doing (for the status page and the request timeout).
#pragma once

#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>

#include "metrics.hpp"

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
    char request_id[48]{};               // informational; written by the child only
};

// Two full pools (old and new during a reload), plus spoolers.
inline constexpr size_t kMaxSlots = 2 * 256 + 4;

struct Scoreboard {
    Metrics metrics;
    std::array<WorkerSlot, kMaxSlots> slots;
    std::atomic<uint64_t> busy_now{0};
    std::atomic<uint64_t> pool_size{0};
    std::atomic<uint64_t> start_time{0};

    // The child in `slot` took a request / finished it.
    void mark_busy(WorkerSlot& slot, const char* request_id);
    void mark_idle(WorkerSlot& slot);
    PoolGauges gauges() const;
};

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
