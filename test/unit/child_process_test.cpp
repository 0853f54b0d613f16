// fcgi's run_child: a forked child ends where its body ends, whatever escapes it.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

#include "child_process.hpp"

using namespace txtpush;

namespace {

struct ChildEnd {
    int exit_code = -1;
    std::string wrote;  // what the child's own stack said on its way out
};

// Forks; the child holds a guard on its stack (as the master holds the
// scoreboard) and runs `body` through run_child.
ChildEnd fork_and_run(const std::function<int()>& body) {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe");
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        struct Guard {
            int fd;
            ~Guard() { (void)!::write(fd, "unwound;", 8); }
        } guard{fds[1]};
        Log quiet(LogLevel::error);
        run_child(body, quiet);
        (void)!::write(fds[1], "returned;", 9);
        ::_exit(99);
    }
    ::close(fds[1]);
    ChildEnd end;
    char buf[64];
    for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) end.wrote.append(buf, static_cast<size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFEXITED(status)) end.exit_code = WEXITSTATUS(status);
    return end;
}

}  // namespace

TEST(ChildProcess, AnExceptionEndsTheChildWithoutUnwindingItsParentsStack) {
    ChildEnd end = fork_and_run([]() -> int { throw std::runtime_error("boom"); });
    EXPECT_EQ(end.exit_code, 1);
    EXPECT_EQ(end.wrote, "");
}

TEST(ChildProcess, AnythingThrownEndsTheChild) {
    ChildEnd end = fork_and_run([]() -> int { throw 42; });
    EXPECT_EQ(end.exit_code, 1);
    EXPECT_EQ(end.wrote, "");
}

TEST(ChildProcess, TheBodysCodeIsTheExitCode) {
    ChildEnd end = fork_and_run([] { return 3; });
    EXPECT_EQ(end.exit_code, 3);
    EXPECT_EQ(end.wrote, "");
}
