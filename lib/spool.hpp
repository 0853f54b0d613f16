// The spool: authenticated, valid pushes the database could not take, kept
// durably on local disk and replayed in arrival order once it can.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "file_queue.hpp"
#include "push_sinks.hpp"
#include "result.hpp"

namespace txtpush {

struct SpooledPush {
    std::string id;
    int64_t received = 0;  // Unix seconds when the push arrived: the status rows' updatetime
    std::string request_id;
    std::string xml;
};

// Most writers of one spool: txtpushd's scoreboard slots (fcgi/scoreboard.hpp).
inline constexpr size_t kSpoolWriters = 520;

// What a spool holds, kept in memory so that no request lists the folder.
// Shared by every process that puts into or takes from one spool (txtpushd
// keeps it in its scoreboard, see fcgi/scoreboard.hpp for who writes it).
// `files` and `bytes` count what is written; what a writer has reserved and
// not yet written is its own `in_flight[writer]`, so a writer killed between
// reserving and writing leaks nothing: whoever reaps it forgets its share.
struct SpoolUsage {
    std::atomic<uint64_t> files{0};
    std::atomic<uint64_t> bytes{0};
    std::array<std::atomic<uint64_t>, kSpoolWriters> in_flight{};

    uint64_t reserved() const;
    // `writer` is gone (reaped): its reservation is no one's.
    void forget(size_t writer) { in_flight.at(writer).store(0); }
};

class Spool : public SpoolSink {
public:
    // `usage` is shared with the other processes of one spool; without it the
    // spool counts its folder itself (the command-line tools).
    // `writer` is this process's index in usage->in_flight.
    Spool(std::string dir, uint64_t max_bytes, SpoolUsage* usage = nullptr, size_t writer = 0);

    // Makes the push durable (fsync of file and folder) and returns its id.
    // local_io when the spool is full or cannot be written. Space is reserved
    // (in this writer's in_flight) before the write and checked against what
    // is written plus every writer's reservation, so concurrent writers never
    // overshoot max_bytes.
    Result<std::string> put(std::string_view xml, int64_t received, std::string_view request_id) override;

    std::vector<QueuedFile> list() const { return files_.list(kSuffix); }
    Result<SpooledPush> read(const std::string& id) const;
    // Called only after the push is committed.
    bool remove(const QueuedFile& file);
    // A push that can never be stored leaves the spool only whole: moved
    // (rename, fsync of both folders) to unstorable/, with its reason beside
    // it in NAME.reason. Never evicted; an operator looks at it.
    Result<bool> set_aside(const QueuedFile& file, std::string_view reason);
    std::vector<QueuedFile> unstorable() const { return FileQueue(unstorable_dir()).list(kSuffix); }

    // Counts the folder into the usage and removes the temporary files of
    // writers that died mid-write. Only while nothing else uses the spool
    // (the master, before it forks).
    void recount();
    // Why the spooled pushes wait (the spooler, when the database refuses
    // them now), for `txtpushd spool list`; empty clears it. Informational:
    // written by rename, not synced.
    void note_waiting(std::string_view reason) const;
    std::string waiting() const;

    uint64_t files() const { return usage_->files.load(); }
    uint64_t bytes() const { return usage_->bytes.load(); }
    const std::string& dir() const { return files_.dir(); }

private:
    static constexpr std::string_view kSuffix = ".push";
    std::string unstorable_dir() const { return files_.dir() + "/unstorable"; }
    void release(uint64_t bytes);
    FileQueue files_;
    uint64_t max_bytes_;
    std::unique_ptr<SpoolUsage> own_;  // without a shared usage
    SpoolUsage* usage_;
    std::atomic<uint64_t>& in_flight_;
};

// Refused pushes kept for the operator, with the reason; bounded in count and
// bytes, the oldest dropped first. Best effort: never fails a request.
class Quarantine : public RefusedSink {
public:
    Quarantine(std::string dir, size_t max_files, uint64_t max_bytes)
        : files_(std::move(dir)), max_files_(max_files), max_bytes_(max_bytes) {}

    void keep(std::string_view xml, std::string_view reason, std::string_view peer,
              std::string_view request_id) override;
    std::vector<QueuedFile> list() const { return files_.list(kSuffix); }
    Result<std::string> read(const std::string& name) const { return files_.read(name); }

private:
    static constexpr std::string_view kSuffix = ".xml";
    void trim();
    FileQueue files_;
    size_t max_files_;
    uint64_t max_bytes_;
};

}  // namespace txtpush
