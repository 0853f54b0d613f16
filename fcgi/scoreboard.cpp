#include "scoreboard.hpp"

#include <sys/mman.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace txtpush {

static_assert(std::atomic<uint64_t>::is_always_lock_free && std::atomic<int64_t>::is_always_lock_free,
              "shared-memory counters must be lock-free");

int64_t steady_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

void WorkerSlot::set_request_id(std::string_view id) {
    request_id_version.fetch_add(1);  // odd: being written
    std::atomic_thread_fence(std::memory_order_release);  // ...before any character is
    for (size_t i = 0; i < request_id.size(); ++i)
        request_id[i].store(i + 1 < request_id.size() && i < id.size() ? id[i] : '\0', std::memory_order_relaxed);
    request_id_version.fetch_add(1, std::memory_order_release);  // even: whole
}

std::string WorkerSlot::request_id_now() const {
    for (int attempt = 0; attempt < 3; ++attempt) {
        uint32_t before = request_id_version.load();
        if (before % 2 != 0) continue;
        std::string id;
        for (const auto& c : request_id) {
            char ch = c.load(std::memory_order_relaxed);
            if (ch == '\0') break;
            id += ch;
        }
        std::atomic_thread_fence(std::memory_order_acquire);
        if (request_id_version.load() == before) return id;
    }
    return {};
}

void Scoreboard::mark_busy(WorkerSlot& slot, const char* request_id) {
    slot.set_request_id(request_id);
    slot.busy_since_ms.store(steady_ms());
    slot.state.store(static_cast<int>(SlotState::busy));
    // Counted from the slots, not kept as a running sum: a worker killed
    // mid-request cannot leave it wrong.
    uint64_t busy = 0;
    for (const WorkerSlot& s : slots) busy += s.state.load() == static_cast<int>(SlotState::busy);
    uint64_t seen = metrics.max_active_workers.load();
    while (busy > seen && !metrics.max_active_workers.compare_exchange_weak(seen, busy)) {
    }
    if (busy >= pool_size.load()) metrics.max_children_reached.fetch_add(1);
}

void Scoreboard::mark_idle(WorkerSlot& slot) {
    slot.state.store(static_cast<int>(SlotState::idle));
    slot.requests.fetch_add(1);
}

static std::string_view state_name(SlotState s) {
    switch (s) {
        case SlotState::starting: return "starting";
        case SlotState::idle: return "idle";
        case SlotState::busy: return "busy";
        case SlotState::stopping: return "stopping";
        default: return "empty";
    }
}

PoolGauges Scoreboard::gauges() const {
    PoolGauges g;
    for (size_t i = 0; i < slots.size(); ++i) {
        const WorkerSlot& s = slots[i];
        if (s.pid.load() == 0) continue;
        auto state = static_cast<SlotState>(s.state.load());
        g.children.push_back({i, s.pid.load(), s.is_worker.load() ? "worker" : "spooler", state_name(state),
                              s.requests.load()});
        if (!s.is_worker.load()) continue;
        g.workers_busy += state == SlotState::busy;
        g.workers_idle += state == SlotState::idle;
        g.workers_db_connected += s.db_connected.load();
    }
    g.start_time = start_time.load();
    g.spool_files = spool.files.load();
    g.spool_bytes = spool.bytes.load();
    g.database_misconfigured = db_misconfigured_ms.load() != 0;
    return g;
}

void Scoreboard::note_database(bool misconfigured) {
    if (misconfigured) db_misconfigured_ms.store(steady_ms());
    else if (db_misconfigured_ms.load() != 0) db_misconfigured_ms.store(0);
}

SharedScoreboard::SharedScoreboard() {
    void* memory = ::mmap(nullptr, sizeof(Scoreboard), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) throw std::runtime_error("cannot map the shared scoreboard");
    board_ = std::construct_at(static_cast<Scoreboard*>(memory));
}

SharedScoreboard::~SharedScoreboard() {
    std::destroy_at(board_);
    ::munmap(board_, sizeof(Scoreboard));
}

namespace {
constexpr uint64_t kFloorBits = 48;
constexpr uint64_t kFloorMask = (uint64_t{1} << kFloorBits) - 1;
}  // namespace

int64_t BoardInboxFloor::get() const {
    uint64_t v = floor_.load();
    return (v >> kFloorBits) == generation_ ? static_cast<int64_t>(v & kFloorMask) : 0;
}

void BoardInboxFloor::raise(int64_t floor) {
    if (floor <= 0 || static_cast<uint64_t>(floor) > kFloorMask) return;  // ids beyond 2^48 are not shared
    uint64_t want = generation_ << kFloorBits | static_cast<uint64_t>(floor);
    uint64_t now = floor_.load();
    // Only the generation the master last started writes it (reload() resets it to that).
    while ((now >> kFloorBits) == generation_ && (now & kFloorMask) < static_cast<uint64_t>(floor))
        if (floor_.compare_exchange_weak(now, want)) return;
}

void reset_inbox_floor(Scoreboard& board, uint32_t generation) {
    board.inbox_floor.store(static_cast<uint64_t>(generation & 0xffff) << kFloorBits);
}

}  // namespace txtpush
