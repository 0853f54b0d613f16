// The log line: logfmt, its timestamp in UTC whatever the time zone.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <string>

#include "log.hpp"

using namespace txtpush;

namespace {

// What one write of `log` put in a pipe.
std::string line_of(void (*write)(const Log&)) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    Log log(LogLevel::info, fds[1]);
    write(log);
    ::close(fds[1]);
    std::string out(4096, '\0');
    ssize_t n = ::read(fds[0], out.data(), out.size());
    ::close(fds[0]);
    out.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return out;
}

}  // namespace

TEST(Log, TimestampsAreUtcWhateverTheTimeZone) {
    const char* saved = std::getenv("TZ");
    std::string old = saved ? saved : "";
    ::setenv("TZ", "Asia/Tokyo", 1);
    ::tzset();
    std::time_t before = std::time(nullptr);
    std::string line = line_of([](const Log& log) { log.info("probe", {{"k", "v w"}}); });
    std::time_t after = std::time(nullptr);
    if (saved) ::setenv("TZ", old.c_str(), 1); else ::unsetenv("TZ");
    ::tzset();
    ASSERT_EQ(line.rfind("ts=", 0), 0u) << line;
    std::tm parsed{};
    const char* rest = ::strptime(line.c_str() + 3, "%Y-%m-%dT%H:%M:%S", &parsed);
    ASSERT_NE(rest, nullptr) << line;
    EXPECT_EQ(std::string(rest, 5).substr(0, 1), ".") << line;  // milliseconds
    EXPECT_EQ(rest[4], 'Z') << line;
    std::time_t stamped = ::timegm(&parsed);
    EXPECT_GE(stamped, before - 1) << line;
    EXPECT_LE(stamped, after + 1) << line;
    EXPECT_NE(line.find(" event=probe k=\"v w\"\n"), std::string::npos) << line;
}
