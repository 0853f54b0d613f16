#include "log.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fmt/chrono.h>
#include <fmt/format.h>

namespace txtpush {

std::optional<LogLevel> parse_log_level(std::string_view name) {
    if (name == "debug") return LogLevel::debug;
    if (name == "info") return LogLevel::info;
    if (name == "warn" || name == "warning") return LogLevel::warn;
    if (name == "error") return LogLevel::error;
    return std::nullopt;
}

static std::string_view level_name(LogLevel level) {
    switch (level) {
        case LogLevel::debug: return "debug";
        case LogLevel::info: return "info";
        case LogLevel::warn: return "warn";
        case LogLevel::error: return "error";
    }
    return "info";
}

void append_logfmt(std::string& line, std::string_view key, std::string_view value) {
    if (!line.empty()) line += ' ';
    line.append(key);
    line += '=';
    bool plain = !value.empty();
    for (unsigned char c : value)
        if (c <= ' ' || c == '"' || c == '=' || c == '\\' || c >= 0x7f) plain = false;
    if (plain) {
        line.append(value);
        return;
    }
    line += '"';
    for (unsigned char c : value) {
        if (c == '"' || c == '\\') {
            line += '\\';
            line += static_cast<char>(c);
        } else if (c == '\n') {
            line += "\\n";
        } else if (c < ' ' || c == 0x7f) {
            line += fmt::format("\\x{:02x}", c);
        } else {
            line += static_cast<char>(c);
        }
    }
    line += '"';
}

void Log::write(LogLevel level, std::string_view event, std::initializer_list<LogField> fields) const {
    if (!enabled(level)) return;
    // UTC whatever TZ says: the Z promises it.
    auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
    std::time_t seconds = std::chrono::system_clock::to_time_t(now);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    auto ms = (now.time_since_epoch() % std::chrono::seconds(1)).count();
    std::string line;
    append_logfmt(line, "ts", fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", utc, ms));
    append_logfmt(line, "level", level_name(level));
    append_logfmt(line, "pid", std::to_string(::getpid()));
    append_logfmt(line, "event", event);
    for (const auto& [k, v] : fields) append_logfmt(line, k, v);
    line += '\n';
    // A short write to stderr is not worth failing a request for.
    [[maybe_unused]] auto n = ::write(fd_, line.data(), line.size());
}

}  // namespace txtpush
