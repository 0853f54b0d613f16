#include "config.hpp"

#include <ini.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <functional>
#include <vector>
#include <sstream>

#include <fmt/format.h>

namespace txtpush {

static bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

bool valid_table_prefix(std::string_view prefix) {
    return !prefix.empty() && prefix.size() <= 20 && std::all_of(prefix.begin(), prefix.end(), is_name_char);
}

bool valid_schema_name(std::string_view schema) {
    if (schema.empty() || schema.size() > 40 || (schema[0] >= '0' && schema[0] <= '9')) return false;
    if (schema == "public" || schema == "information_schema" || schema.starts_with("pg_")) return false;
    return std::all_of(schema.begin(), schema.end(), is_name_char);
}

namespace {

struct Parsing {
    Config config;
    std::string error;
    std::string username;
    std::string password;
    std::string password_sha256;
};

bool parse_number(std::string_view text, int base, unsigned long& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, base);
    return ec == std::errc{} && end == text.data() + text.size();
}

// Applies a value to the config; returns what is wrong with it, or nothing.
using Setter = std::function<std::string(Parsing&, std::string_view)>;

Setter text(std::string Config::*field) {
    return [field](Parsing& p, std::string_view v) {
        p.config.*field = v;
        return std::string{};
    };
}

Setter secret(std::string Parsing::*field) {
    return [field](Parsing& p, std::string_view v) {
        p.*field = v;
        return std::string{};
    };
}

template <class T>
Setter number(T Config::*field, unsigned long min, unsigned long max, int base = 10) {
    return [=](Parsing& p, std::string_view v) {
        unsigned long n = 0;
        if (!parse_number(v, base, n) || n < min || n > max)
            return base == 8 ? fmt::format("expected an octal mode like 0660") : fmt::format("expected {}..{}", min, max);
        p.config.*field = static_cast<T>(n);
        return std::string{};
    };
}

struct Key {
    std::string_view section;
    std::string_view name;
    Setter set;
};

const std::vector<Key>& keys() {
    constexpr unsigned long kMiB = 1024 * 1024;
    static const std::vector<Key> all = {
        {"server", "listen", text(&Config::listen)},
        {"server", "socket_mode", number(&Config::socket_mode, 0, 0777, 8)},
        {"server", "socket_owner", text(&Config::socket_owner)},
        {"server", "socket_group", text(&Config::socket_group)},
        {"server", "workers", number(&Config::workers, 0, 256)},
        {"server", "body_limit", number(&Config::body_limit, 1024, 64 * kMiB)},
        {"server", "max_requests", number(&Config::max_requests, 0, 1000000000)},
        {"server", "request_timeout", number(&Config::request_timeout, 0, 3600)},
        {"server", "stop_grace", number(&Config::stop_grace, 1, 3600)},
        {"server", "log_level",
         [](Parsing& p, std::string_view v) {
             auto level = parse_log_level(v);
             if (!level) return std::string("expected debug, info, warn or error");
             p.config.log_level = *level;
             return std::string{};
         }},
        {"database", "conninfo", text(&Config::conninfo)},
        {"database", "table_prefix",
         [](Parsing& p, std::string_view v) {
             if (!valid_table_prefix(v)) return std::string("1 to 20 of a-z, 0-9 and _");
             p.config.table_prefix = v;
             return std::string{};
         }},
        {"database", "schema",
         [](Parsing& p, std::string_view v) {
             if (!valid_schema_name(v)) return std::string("a-z, 0-9 and _, not starting with a digit, not public");
             p.config.schema = v;
             return std::string{};
         }},
        {"spool", "dir", text(&Config::spool_dir)},
        {"spool", "max_bytes", number(&Config::spool_max_bytes, kMiB, 1024 * 1024 * kMiB)},
        {"quarantine", "dir", text(&Config::quarantine_dir)},
        {"quarantine", "max_files", number(&Config::quarantine_max_files, 0, 1000000)},
        {"quarantine", "max_bytes", number(&Config::quarantine_max_bytes, 0, 1024 * 1024 * kMiB)},
        {"push", "username", secret(&Parsing::username)},
        {"push", "password", secret(&Parsing::password)},
        {"push", "password_sha256", secret(&Parsing::password_sha256)},
        {"push", "unknown_sender_name", text(&Config::unknown_sender_name)},
    };
    return all;
}

// Applies one key; returns an error text, empty when the key was fine.
std::string apply(Parsing& p, std::string_view section, std::string_view key, std::string_view value) {
    bool known_section = false;
    for (const Key& k : keys()) {
        known_section |= k.section == section;
        if (k.section != section || k.name != key) continue;
        std::string problem = k.set(p, value);
        return problem.empty() ? problem : fmt::format("[{}] {}: {}", section, key, problem);
    }
    if (!known_section) return fmt::format("[{}]: unknown section", section);
    return fmt::format("[{}] {}: unknown key", section, key);
}

int on_key(void* user, const char* section, const char* key, const char* value) {
    auto* p = static_cast<Parsing*>(user);
    if (!p->error.empty()) return 1;
    p->error = apply(*p, section, key, value);
    return p->error.empty() ? 1 : 0;
}

Result<Config> finish(Parsing& p) {
    if (p.username.empty()) return fail(ErrorKind::config, "[push] username is required");
    if (!p.password.empty() && !p.password_sha256.empty())
        return fail(ErrorKind::config, "[push] give password or password_sha256, not both");
    if (!p.password_sha256.empty()) {
        auto digest = sha256_from_hex(p.password_sha256);
        if (!digest) return fail(ErrorKind::config, "[push] password_sha256: expected 64 hex digits");
        p.config.credentials = Credentials(p.username, *digest);
    } else if (!p.password.empty()) {
        p.config.credentials = Credentials::from_plain(p.username, p.password);
    } else {
        return fail(ErrorKind::config, "[push] password or password_sha256 is required");
    }
    return std::move(p.config);
}

}  // namespace

Result<Config> parse_config(std::string_view text) {
    Parsing p;
    std::string copy(text);
    int rc = ini_parse_string(copy.c_str(), on_key, &p);
    if (!p.error.empty()) return fail(ErrorKind::config, fmt::format("line {}: {}", rc, p.error));
    if (rc != 0) return fail(ErrorKind::config, fmt::format("line {}: syntax error", rc));
    return finish(p);
}

Result<Config> load_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail(ErrorKind::config, fmt::format("cannot read config file {}", path));
    std::ostringstream text;
    text << in.rdbuf();
    auto config = parse_config(text.str());
    if (!config) return fail(ErrorKind::config, fmt::format("{}: {}", path, config.error().reason));
    return config;
}

}  // namespace txtpush
