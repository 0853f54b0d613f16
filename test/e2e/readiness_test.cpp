// systemd readiness: txtpushd says READY=1 on $NOTIFY_SOCKET once its
// workers accept, whether or not the database answers (pushes are then
// spooled), and STOPPING=1 when asked to stop.
#include <gtest/gtest.h>

#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "test_support.hpp"

extern char** environ;

namespace {

// A datagram socket standing in for systemd's notification socket.
class NotifySocket {
public:
    NotifySocket() : path_(fmt::format("/tmp/txtpush-notify-{}.sock", ::getpid())) {
        fd_ = ::socket(AF_UNIX, SOCK_DGRAM, 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path_.c_str());
        ::unlink(path_.c_str());
        if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) throw std::runtime_error("bind");
    }
    ~NotifySocket() {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    const std::string& path() const { return path_; }

    // Messages received within `seconds`, joined.
    std::string receive(int seconds) {
        timeval timeout{seconds, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
        char buf[512];
        ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
        return n > 0 ? std::string(buf, static_cast<size_t>(n)) : std::string{};
    }

private:
    std::string path_;
    int fd_ = -1;
};

// A second txtpushd on its own socket, with the test stack's config otherwise.
class SecondDaemon {
public:
    SecondDaemon(const std::string& notify_path, const std::string& conninfo) {
        std::ifstream in(txtpush::test::stack_dir() + "/txtpushd.conf");
        std::stringstream text;
        text << in.rdbuf();
        std::string config = std::regex_replace(text.str(), std::regex("listen = [^\n]*"),
                                                "listen = " + txtpush::test::stack_dir() + "/ready-test.sock");
        config = std::regex_replace(config, std::regex("conninfo = [^\n]*"), "conninfo = " + conninfo);
        config_ = txtpush::test::stack_dir() + "/ready-test.conf";
        std::ofstream(config_) << config;
        std::string binary = std::string(TXTPUSH_BUILD_DIR) + "/txtpushd";
        std::string notify = "NOTIFY_SOCKET=" + notify_path;
        std::vector<char*> env;
        for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
        env.push_back(notify.data());
        env.push_back(nullptr);
        const char* argv[] = {binary.c_str(), "-c", config_.c_str(), nullptr};
        if (::posix_spawn(&pid_, binary.c_str(), nullptr, nullptr, const_cast<char**>(argv), env.data()) != 0)
            throw std::runtime_error("cannot start txtpushd");
    }
    ~SecondDaemon() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    int stop() {
        ::kill(pid_, SIGTERM);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

private:
    std::string config_;
    pid_t pid_ = -1;
};

}  // namespace

TEST(Readiness, ReadyThenStoppingAndExitZero) {
    NotifySocket notify;
    SecondDaemon daemon(notify.path(), txtpush::test::stack_conninfo());
    EXPECT_EQ(notify.receive(15), "READY=1");
    EXPECT_EQ(notify.receive(1), "");  // nothing else while running
    int code = 0;
    std::thread stopper([&] { code = daemon.stop(); });
    EXPECT_EQ(notify.receive(5), "STOPPING=1");
    stopper.join();
    EXPECT_EQ(code, 0);
}

TEST(Readiness, ReadyAtOnceWhileTheDatabaseIsUnreachable) {
    // systemd would otherwise kill and restart it in a loop, exactly when the
    // spool should be taking the pushes.
    NotifySocket notify;
    auto started = std::chrono::steady_clock::now();
    SecondDaemon daemon(notify.path(), "host=/nonexistent port=1 dbname=x connect_timeout=5");
    EXPECT_EQ(notify.receive(5), "READY=1");
    std::cout << "READY=1 after "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()
              << " s with the database unreachable\n";
    EXPECT_EQ(daemon.stop(), 0);
}
