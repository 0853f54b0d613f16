// A folder of files named so that name order is arrival order: the storage
// under the spool (pushes waiting for the database) and the quarantine
// (refused pushes kept for the operator).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "result.hpp"

namespace txtpush {

struct QueuedFile {
    std::string name;
    uint64_t bytes = 0;
};

class FileQueue {
public:
    explicit FileQueue(std::string dir) : dir_(std::move(dir)) {}

    const std::string& dir() const { return dir_; }

    // Creates the folder if missing.
    Result<bool> ensure_dir() const;

    // A new name that sorts after every earlier one: arrival time in ns, pid, sequence.
    std::string next_name(std::string_view suffix);

    // Writes via a temporary file and rename. With `durable`, the file and the
    // folder are fsynced before returning, so the file survives a crash.
    Result<bool> write(const std::string& name, std::string_view content, bool durable) const;

    Result<std::string> read(const std::string& name) const;
    bool remove(const std::string& name, bool durable) const;
    // Moves a file into another queue's folder (same file system), durably.
    Result<bool> move_to(const std::string& name, const FileQueue& other) const;
    // Removes the temporary files of writers that died mid-write.
    void remove_temporary_files() const;

    // Files with `suffix`, oldest first (temporary files are not listed).
    std::vector<QueuedFile> list(std::string_view suffix) const;

private:
    std::string path(const std::string& name) const { return dir_ + "/" + name; }
    std::string dir_;
    uint64_t sequence_ = 0;
};

}  // namespace txtpush
