#include "listen_socket.hpp"

#include <systemd/sd-daemon.h>

#include <optional>

#include <grp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace txtpush {

constexpr int kBacklog = 511;

Fd::~Fd() {
    if (fd_ >= 0) ::close(fd_);
}

Fd& Fd::operator=(Fd&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.release();
    }
    return *this;
}

// The config is valid; the system refused (address in use, no such folder,
// permissions): exit 1, not 2.
static Error sys_error(std::string_view what, std::string_view where) {
    return fail(ErrorKind::local_io, fmt::format("{} {}: {}", what, where, std::strerror(errno)));
}

static Result<bool> set_owner(const Config& config) {
    uid_t uid = static_cast<uid_t>(-1);
    gid_t gid = static_cast<gid_t>(-1);
    if (!config.socket_owner.empty()) {
        const passwd* pw = ::getpwnam(config.socket_owner.c_str());
        if (pw == nullptr) return fail(ErrorKind::config, fmt::format("socket_owner: no user '{}'", config.socket_owner));
        uid = pw->pw_uid;
    }
    if (!config.socket_group.empty()) {
        const group* gr = ::getgrnam(config.socket_group.c_str());
        if (gr == nullptr) return fail(ErrorKind::config, fmt::format("socket_group: no group '{}'", config.socket_group));
        gid = gr->gr_gid;
    }
    if ((uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) &&
        ::chown(config.listen.c_str(), uid, gid) != 0)
        return sys_error("chown", config.listen);
    return true;
}

static Result<Fd> open_unix(const Config& config) {
    sockaddr_un addr{};
    if (config.listen.size() >= sizeof(addr.sun_path)) return fail(ErrorKind::config, "listen: unix socket path too long");
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, config.listen.c_str(), config.listen.size() + 1);
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return sys_error("socket", config.listen);
    struct stat st{};
    if (::lstat(config.listen.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) ::unlink(config.listen.c_str());
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return sys_error("bind", config.listen);
    if (::chmod(config.listen.c_str(), config.socket_mode) != 0) return sys_error("chmod", config.listen);
    auto owned = set_owner(config);
    if (!owned) return owned.error();
    if (::listen(fd.get(), kBacklog) != 0) return sys_error("listen", config.listen);
    return fd;
}

static Result<Fd> open_tcp(const Config& config, const Log& log) {
    std::string host, port;
    size_t colon = config.listen.rfind(':');
    if (colon == std::string::npos) return fail(ErrorKind::config, "listen: expected a unix path or host:port");
    host = config.listen.substr(0, colon);
    port = config.listen.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    if (int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found); rc != 0)
        return fail(rc == EAI_AGAIN || rc == EAI_SYSTEM ? ErrorKind::local_io : ErrorKind::config,  // a DNS hiccup is no bad config
                    fmt::format("listen {}: {}", config.listen, gai_strerror(rc)));
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, ::freeaddrinfo);
    Fd fd(::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (fd.get() < 0) return sys_error("socket", config.listen);
    int on = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (::bind(fd.get(), found->ai_addr, found->ai_addrlen) != 0) return sys_error("bind", config.listen);
    if (::listen(fd.get(), kBacklog) != 0) return sys_error("listen", config.listen);
    if (host != "127.0.0.1" && host != "::1" && host != "localhost")
        log.warn("listen_not_loopback", {{"listen", config.listen},
                                         {"hint", "FastCGI should be reachable by nginx only"}});
    return fd;
}

int64_t listen_queue_length(int fd) {
    tcp_info info{};
    socklen_t len = sizeof(info);
    if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &len) != 0 || info.tcpi_state != TCP_LISTEN) return -1;
    return info.tcpi_unacked;  // for a listening socket: the current accept queue
}

// systemd socket activation (txtpushd.socket): the socket systemd holds
// across restarts, so connections queue in the kernel while txtpushd starts.
static std::optional<Result<Fd>> inherited_socket(const Log& log) {
    int n = sd_listen_fds(1);  // 1: the children must not see LISTEN_FDS
    if (n == 0) return std::nullopt;
    if (n < 0) return fail(ErrorKind::config, fmt::format("sd_listen_fds: {}", std::strerror(-n)));
    if (n > 1) return fail(ErrorKind::config, fmt::format("systemd passed {} sockets, expected one", n));
    int fd = SD_LISTEN_FDS_START;
    if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0)
        return fail(ErrorKind::config, "the descriptor systemd passed is not a listening stream socket");
    log.info("listen_inherited", {{"fd", std::to_string(fd)}, {"hint", "listen in the config is not used"}});
    return Fd(fd);
}

Result<ListenSocket> open_listen_socket(const Config& config, const Log& log) {
    if (auto inherited = inherited_socket(log)) {
        if (!*inherited) return inherited->error();
        return ListenSocket{std::move(**inherited), "systemd socket (fd 3)"};
    }
    auto opened = !config.listen.empty() && config.listen[0] == '/' ? open_unix(config) : open_tcp(config, log);
    if (!opened) return opened.error();
    return ListenSocket{std::move(*opened), config.listen};
}

}  // namespace txtpush
