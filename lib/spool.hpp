// The spool: authenticated, valid pushes the database could not take, kept
// durably on local disk and replayed in arrival order once it can.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "file_queue.hpp"
#include "result.hpp"

namespace txtpush {

struct SpooledPush {
    std::string id;
    int64_t received = 0;  // Unix seconds when the push arrived: the status rows' updatetime
    std::string request_id;
    std::string xml;
};

class Spool {
public:
    Spool(std::string dir, uint64_t max_bytes) : files_(std::move(dir)), max_bytes_(max_bytes) {}

    // Makes the push durable (fsync of file and folder) and returns its id.
    // 503 when the spool is full or cannot be written.
    Result<std::string> put(std::string_view xml, int64_t received, std::string_view request_id);

    std::vector<QueuedFile> list() const { return files_.list(kSuffix); }
    Result<SpooledPush> read(const std::string& id) const;
    // Called only after the push is committed.
    bool remove(const std::string& id) const { return files_.remove(id, true); }
    const std::string& dir() const { return files_.dir(); }

private:
    static constexpr std::string_view kSuffix = ".push";
    FileQueue files_;
    uint64_t max_bytes_;
};

// Refused pushes kept for the operator, with the reason; bounded in count and
// bytes, the oldest dropped first. Best effort: never fails a request.
class Quarantine {
public:
    Quarantine(std::string dir, size_t max_files, uint64_t max_bytes)
        : files_(std::move(dir)), max_files_(max_files), max_bytes_(max_bytes) {}

    void keep(std::string_view xml, std::string_view reason, std::string_view peer, std::string_view request_id);
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
