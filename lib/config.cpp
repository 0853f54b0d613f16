#include "config.hpp"

#include <ini.h>

#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace txtpush {

bool valid_table_prefix(std::string_view prefix) {
    if (prefix.empty() || prefix.size() > 20) return false;
    for (char c : prefix)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
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

// Applies one key; returns an error text, empty when the key was fine.
std::string apply(Parsing& p, std::string_view section, std::string_view key, std::string_view value) {
    Config& c = p.config;
    unsigned long n = 0;
    std::string where = fmt::format("[{}] {}", section, key);
    if (section == "server") {
        if (key == "listen") c.listen = value;
        else if (key == "socket_owner") c.socket_owner = value;
        else if (key == "socket_group") c.socket_group = value;
        else if (key == "socket_mode") {
            if (!parse_number(value, 8, n) || n > 0777) return where + ": expected an octal mode like 0660";
            c.socket_mode = static_cast<unsigned>(n);
        } else if (key == "workers") {
            if (!parse_number(value, 10, n) || n > 256) return where + ": expected 0..256";
            c.workers = static_cast<int>(n);
        } else if (key == "body_limit") {
            if (!parse_number(value, 10, n) || n < 1024 || n > 64ul * 1024 * 1024)
                return where + ": expected bytes between 1024 and 67108864";
            c.body_limit = n;
        } else if (key == "log_level") {
            auto level = parse_log_level(value);
            if (!level) return where + ": expected debug, info, warn or error";
            c.log_level = *level;
        } else {
            return where + ": unknown key";
        }
    } else if (section == "database") {
        if (key == "conninfo") c.conninfo = value;
        else if (key == "table_prefix") {
            if (!valid_table_prefix(value)) return where + ": 1 to 20 of a-z, 0-9 and _";
            c.table_prefix = value;
        } else {
            return where + ": unknown key";
        }
    } else if (section == "push") {
        if (key == "username") p.username = value;
        else if (key == "password") p.password = value;
        else if (key == "password_sha256") p.password_sha256 = value;
        else if (key == "unknown_sender_name") c.unknown_sender_name = value;
        else return where + ": unknown key";
    } else {
        return fmt::format("[{}]: unknown section", section);
    }
    return {};
}

int on_key(void* user, const char* section, const char* key, const char* value) {
    auto* p = static_cast<Parsing*>(user);
    if (!p->error.empty()) return 1;
    p->error = apply(*p, section, key, value);
    return p->error.empty() ? 1 : 0;
}

Result<Config> finish(Parsing& p) {
    if (p.username.empty()) return fail(500, "[push] username is required");
    if (!p.password.empty() && !p.password_sha256.empty())
        return fail(500, "[push] give password or password_sha256, not both");
    if (!p.password_sha256.empty()) {
        auto digest = sha256_from_hex(p.password_sha256);
        if (!digest) return fail(500, "[push] password_sha256: expected 64 hex digits");
        p.config.credentials = Credentials(p.username, *digest);
    } else if (!p.password.empty()) {
        p.config.credentials = Credentials::from_plain(p.username, p.password);
    } else {
        return fail(500, "[push] password or password_sha256 is required");
    }
    return std::move(p.config);
}

}  // namespace

Result<Config> parse_config(std::string_view text) {
    Parsing p;
    std::string copy(text);
    int rc = ini_parse_string(copy.c_str(), on_key, &p);
    if (!p.error.empty()) return fail(500, fmt::format("line {}: {}", rc, p.error));
    if (rc != 0) return fail(500, fmt::format("line {}: syntax error", rc));
    return finish(p);
}

Result<Config> load_config(const std::string& path) {
    std::ifstream in(path);
    if (!in) return fail(500, fmt::format("cannot read config file {}", path));
    std::ostringstream text;
    text << in.rdbuf();
    auto config = parse_config(text.str());
    if (!config) return fail(500, fmt::format("{}: {}", path, config.error().reason));
    return config;
}

}  // namespace txtpush
