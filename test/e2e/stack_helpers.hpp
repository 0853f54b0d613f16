// What the end-to-end suites do to the running stack: read its status page
// and log, signal its master, change its config for one test.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <array>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_support.hpp"

namespace txtpush::test {

inline std::string read_text(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

inline pid_t master_pid() { return std::stoi(read_text(stack_dir() + "/txtpushd.pid")); }

// /txtpush-status as metric line -> value.
inline std::map<std::string, double> status_metrics() {
    HttpResponse r = http_request(stack_http_port(), "GET", "/txtpush-status", "", "");
    EXPECT_EQ(r.status, 200);
    std::map<std::string, double> out;
    std::istringstream lines(r.body);
    for (std::string line; std::getline(lines, line);) {
        if (line.empty() || line[0] == '#') continue;
        size_t space = line.rfind(' ');
        out[line.substr(0, space)] = std::stod(line.substr(space + 1));
    }
    return out;
}

// The pids of the children with `role` (worker or spooler), from the status page.
inline std::vector<pid_t> child_pids(const std::string& role) {
    std::vector<pid_t> out;
    std::smatch match;
    std::regex child("txtpush_child_pid\\{slot=\"\\d+\",role=\"" + role + "\"\\}");
    for (const auto& [key, value] : status_metrics())
        if (std::regex_match(key, child)) out.push_back(static_cast<pid_t>(value));
    return out;
}

inline bool wait_for_log(size_t offset, const std::string& needle, std::chrono::seconds limit) {
    return wait_until([&] { return stack_log(offset).find(needle) != std::string::npos; }, limit);
}

// The stack's config for one test: changed keys take effect by SIGHUP, and
// the original comes back (reloaded) when the test ends.
class StackConfig {
public:
    StackConfig() : path_(stack_dir() + "/txtpushd.conf"), original_(read_text(path_)) {}
    ~StackConfig() {
        if (read_text(path_) != original_) restore();
    }

    const std::string& original() const { return original_; }
    void write(const std::string& text) const { std::ofstream(path_) << text; }

    // The original with `key = value` set in `section`, then SIGHUP.
    void set(const std::vector<std::array<std::string, 3>>& settings) {
        std::string text = original_;
        for (const auto& [section, key, value] : settings) {
            std::regex existing("\n" + key + " = [^\n]*");
            std::string line = "\n" + key + " = " + value;
            if (std::regex_search(text, existing)) text = std::regex_replace(text, existing, line);
            else text.replace(text.find("[" + section + "]"), section.size() + 2, "[" + section + "]" + line);
        }
        write(text);
        reload();
    }
    void restore() {
        write(original_);
        reload();
    }
    static void reload() {
        size_t at = stack_log_size();
        ASSERT_EQ(::kill(master_pid(), SIGHUP), 0);
        ASSERT_TRUE(wait_for_log(at, "event=reloaded", std::chrono::seconds(20))) << stack_log(at);
    }

private:
    std::string path_, original_;
};

}  // namespace txtpush::test
