// The listening socket nginx connects to: a unix path or host:port.
// Opened by the master before forking; every worker accepts on it.
#pragma once

#include <string>

#include "config.hpp"
#include "log.hpp"
#include "result.hpp"

namespace txtpush {

// An owned file descriptor.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd();
    Fd(Fd&& other) noexcept : fd_(other.release()) {}
    Fd& operator=(Fd&& other) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;

    int get() const { return fd_; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }

private:
    int fd_ = -1;
};

// The socket systemd passed (socket activation), else one it binds and
// listens on (backlog 511, as php-fpm). A unix socket gets the
// configured mode and owner; a TCP address off loopback is logged as a warning.
struct ListenSocket {
    Fd fd;
    std::string name;  // for the log: the path or address, or systemd's
};
Result<ListenSocket> open_listen_socket(const Config& config, const Log& log);

// Connections waiting in the accept queue of a TCP listening socket; -1 for
// a unix socket, where Linux does not tell.
int64_t listen_queue_length(int fd);

}  // namespace txtpush
