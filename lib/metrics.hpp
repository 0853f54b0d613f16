// Counters of what txtpushd did, kept in memory shared by the master and all
// workers (so they survive worker recycling), rendered in Prometheus text
// format by /txtpush-status. Plain lock-free atomics: no process code here.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "outcome.hpp"
#include "store_report.hpp"

namespace txtpush {


// Upper bounds of the latency histogram, in seconds.
inline constexpr std::array<double, 12> kLatencyBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                           0.1,   0.25,   0.5,   1.0,  2.5,   5.0};

struct Metrics {
    std::array<std::atomic<uint64_t>, static_cast<size_t>(Outcome::kCount)> requests{};
    std::atomic<uint64_t> statuses_stored{0};
    std::atomic<uint64_t> statuses_duplicate{0};
    std::atomic<uint64_t> inbox_rows_stored{0};
    std::atomic<uint64_t> inbox_rows_duplicate{0};
    std::atomic<uint64_t> inbound_received{0};
    std::atomic<uint64_t> unrouted{0};
    std::atomic<uint64_t> senders_not_a_number{0};
    std::atomic<uint64_t> implausible_numbers{0};
    std::atomic<uint64_t> truncated_values{0};
    std::atomic<uint64_t> spool_replayed{0};
    std::array<std::atomic<uint64_t>, kLatencyBuckets.size() + 1> latency{};  // last: +Inf
    std::atomic<uint64_t> latency_sum_us{0};
    std::atomic<uint64_t> worker_restarts{0};
    std::atomic<uint64_t> worker_recycles{0};
    std::atomic<uint64_t> worker_timeouts{0};
    std::atomic<uint64_t> crash_loops{0};
    std::atomic<uint64_t> max_children_reached{0};
    std::atomic<uint64_t> max_active_workers{0};
    std::atomic<uint64_t> reloads{0};

    void count_request(Outcome outcome, const StoreReport* stored, double seconds);
};

// One child of the pool, as the status page shows it.
struct ChildState {
    size_t slot = 0;  // the label: bounded, where pids grow with every recycled child
    int pid = 0;
    std::string_view role;   // worker or spooler
    std::string_view state;  // starting, idle, busy, stopping
    uint64_t requests = 0;
};

// Gauges read when the status page is asked for.
struct PoolGauges {
    uint64_t workers_busy = 0;
    uint64_t workers_idle = 0;
    uint64_t workers_db_connected = 0;
    uint64_t spool_files = 0;
    uint64_t spool_bytes = 0;
    int64_t listen_queue = -1;  // -1: not known for this socket type
    uint64_t start_time = 0;    // Unix seconds
    std::vector<ChildState> children;
    bool database_misconfigured = false;
};

std::string render_prometheus(const Metrics& m, const PoolGauges& g);

}  // namespace txtpush
