// One log line per event, logfmt (key=value) on stderr, which journald keeps.
// A line is written with a single write(2) so lines from workers never mix.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace txtpush {

enum class LogLevel { debug = 0, info = 1, warn = 2, error = 3 };

std::optional<LogLevel> parse_log_level(std::string_view name);

using LogField = std::pair<std::string_view, std::string_view>;

class Log {
public:
    explicit Log(LogLevel level = LogLevel::info, int fd = 2) : level_(level), fd_(fd) {}

    void set_level(LogLevel level) { level_ = level; }
    bool enabled(LogLevel level) const { return level >= level_; }

    void write(LogLevel level, std::string_view event, std::initializer_list<LogField> fields = {}) const;
    void debug(std::string_view e, std::initializer_list<LogField> f = {}) const { write(LogLevel::debug, e, f); }
    void info(std::string_view e, std::initializer_list<LogField> f = {}) const { write(LogLevel::info, e, f); }
    void warn(std::string_view e, std::initializer_list<LogField> f = {}) const { write(LogLevel::warn, e, f); }
    void error(std::string_view e, std::initializer_list<LogField> f = {}) const { write(LogLevel::error, e, f); }

private:
    LogLevel level_;
    int fd_;
};

// Appends `key=value` to `line`, quoting the value when logfmt needs it.
void append_logfmt(std::string& line, std::string_view key, std::string_view value);

}  // namespace txtpush
