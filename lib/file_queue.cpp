#include "file_queue.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

namespace txtpush {

namespace fs = std::filesystem;

namespace {

class OpenFile {
public:
    OpenFile(const std::string& path, int flags, mode_t mode = 0640) : fd_(::open(path.c_str(), flags | O_CLOEXEC, mode)) {}
    ~OpenFile() {
        if (fd_ >= 0) ::close(fd_);
    }
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    int fd() const { return fd_; }

private:
    int fd_;
};

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

bool sync_dir(const std::string& dir) {
    OpenFile d(dir, O_RDONLY | O_DIRECTORY);
    return d.fd() >= 0 && ::fsync(d.fd()) == 0;
}

Error io_error(std::string_view what, const std::string& path) {
    return fail(ErrorKind::local_io, fmt::format("{} {}: {}", what, path, std::strerror(errno)));
}

}  // namespace

Result<bool> FileQueue::ensure_dir() const {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return fail(ErrorKind::local_io, fmt::format("cannot create {}: {}", dir_, ec.message()));
    return true;
}

std::string FileQueue::next_name(std::string_view suffix) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::system_clock::now().time_since_epoch())
                  .count();
    return fmt::format("{:020d}-{}-{}{}", ns, ::getpid(), sequence_++, suffix);
}

Result<bool> FileQueue::write(const std::string& name, std::string_view content, bool durable) const {
    std::string tmp = path("." + name + ".tmp");
    {
        OpenFile f(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL);
        if (f.fd() < 0) return io_error("cannot create", tmp);
        if (!write_all(f.fd(), content) || (durable && ::fsync(f.fd()) != 0)) {
            Error e = io_error("cannot write", tmp);
            ::unlink(tmp.c_str());
            return e;
        }
    }
    if (::rename(tmp.c_str(), path(name).c_str()) != 0) {
        Error e = io_error("cannot rename", tmp);
        ::unlink(tmp.c_str());
        return e;
    }
    if (durable && !sync_dir(dir_)) {  // not durable: all or nothing, so it goes
        Error e = io_error("cannot sync", dir_);
        ::unlink(path(name).c_str());
        return e;
    }
    return true;
}

Result<std::string> FileQueue::read(const std::string& name) const {
    OpenFile f(path(name), O_RDONLY);
    if (f.fd() < 0)
        return fail(errno == ENOENT ? ErrorKind::not_found : ErrorKind::local_io,
                    fmt::format("cannot open {}: {}", path(name), std::strerror(errno)));
    std::string out;
    char buf[65536];
    for (ssize_t n; (n = ::read(f.fd(), buf, sizeof(buf))) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return io_error("cannot read", path(name));
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

bool FileQueue::remove(const std::string& name, bool durable) const {
    if (::unlink(path(name).c_str()) != 0) return false;
    if (durable) sync_dir(dir_);  // gone either way; a lost unlink only replays a stored push (harmless)
    return true;
}

std::vector<QueuedFile> FileQueue::list(std::string_view suffix) const {
    std::vector<QueuedFile> out;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        std::string name = entry.path().filename().string();
        if (name.empty() || name[0] == '.' || !name.ends_with(suffix)) continue;
        // Listed even when its size cannot be read: a queued file that cannot
        // be read must show up (and be reported) rather than vanish.
        std::error_code size_ec;
        uint64_t bytes = entry.file_size(size_ec);
        out.push_back({name, size_ec ? 0 : bytes});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
}

Result<bool> FileQueue::move_to(const std::string& name, const FileQueue& other) const {
    if (::rename(path(name).c_str(), other.path(name).c_str()) != 0) return io_error("cannot move", path(name));
    // Moved either way; a rename lost in a crash only brings the file back.
    sync_dir(other.dir_);
    sync_dir(dir_);
    return true;
}

void FileQueue::remove_temporary_files() const {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
        std::string name = entry.path().filename().string();
        if (name.starts_with(".") && name.ends_with(".tmp")) fs::remove(entry.path(), ec);
    }
}

}  // namespace txtpush
