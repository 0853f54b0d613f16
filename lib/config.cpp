#include "config.hpp"

#include <ini.h>
#include <libpq-fe.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <vector>
#include <sstream>

#include <fmt/format.h>

namespace txtpush {

static bool is_name_char(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; }

// An unquoted PostgreSQL identifier: a letter or _ first, then letters,
// digits and _ (lower case: PostgreSQL folds unquoted names).
static bool plain_identifier(std::string_view name) {
    return !name.empty() && !(name[0] >= '0' && name[0] <= '9') && std::all_of(name.begin(), name.end(), is_name_char);
}

// PostgreSQL 15's reserved key words (Appendix C): not usable unquoted as a name.
static bool reserved_word(std::string_view name) {
    static const std::set<std::string_view> reserved = {
        "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "authorization", "binary",
        "both", "case", "cast", "check", "collate", "collation", "column", "concurrently", "constraint", "create",
        "cross", "current_catalog", "current_date", "current_role", "current_schema", "current_time",
        "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do", "else", "end",
        "except", "false", "fetch", "for", "foreign", "freeze", "from", "full", "grant", "group", "having", "ilike",
        "in", "initially", "inner", "intersect", "into", "is", "isnull", "join", "lateral", "leading", "left", "like",
        "limit", "localtime", "localtimestamp", "natural", "not", "notnull", "null", "offset", "on", "only", "or",
        "order", "outer", "overlaps", "placing", "primary", "references", "returning", "right", "select",
        "session_user", "similar", "some", "symmetric", "system_user", "table", "tablesample", "then", "to",
        "trailing", "true", "union", "unique", "user", "using", "variadic", "verbose", "when", "where", "window",
        "with"};
    return reserved.count(name) > 0;
}

bool valid_table_prefix(std::string_view prefix) { return prefix.size() <= 20 && plain_identifier(prefix); }

bool valid_schema_name(std::string_view schema) {
    if (schema.size() > 40 || !plain_identifier(schema) || reserved_word(schema)) return false;
    return schema != "public" && schema != "information_schema" && !schema.starts_with("pg_");
}

namespace {

struct Parsing {
    Config config;
    std::string error;
    std::string username;
    std::string password;
    std::string password_sha256;
    std::set<std::string> keys_seen;
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
    ConfigKeyDoc doc;
    Setter set;
};

Setter log_level() {
    return [](Parsing& p, std::string_view v) {
        auto level = parse_log_level(v);
        if (!level) return std::string("expected debug, info, warn or error");
        p.config.log_level = *level;
        return std::string{};
    };
}

Setter checked_name(std::string Config::*field, bool (*valid)(std::string_view), const char* expected) {
    return [=](Parsing& p, std::string_view v) {
        if (!valid(v)) return std::string(expected);
        p.config.*field = v;
        return std::string{};
    };
}

// Every key, with what the documentation says of it: txtpushd.conf(5) and
// the table in docs/operations.md are generated from this list (`txtpushd reference`).
const std::vector<Key>& keys() {
    constexpr unsigned long kMiB = 1024 * 1024;
    static const std::vector<Key> all = {
        {{"server", "listen", "/run/txtpush/txtpushd.sock",
          "unix socket path, or host:port (a non-loopback host is warned about); ignored when systemd passes the "
          "socket (txtpushd.socket)"},
         text(&Config::listen)},
        {{"server", "socket_mode", "0660", "mode of the unix socket"}, number(&Config::socket_mode, 0, 0777, 8)},
        {{"server", "socket_owner", "(the process's)", "owner of the unix socket"}, text(&Config::socket_owner)},
        {{"server", "socket_group", "(the process's)", "group of the unix socket: nginx's user must reach it"},
         text(&Config::socket_group)},
        {{"server", "workers", "0", "worker processes; 0 = one per core"}, number(&Config::workers, 0, 256)},
        {{"server", "body_limit", "1048576", "largest request body in bytes (1024 .. 67108864); beyond it: 413"},
         number(&Config::body_limit, 1024, 64 * kMiB)},
        {{"server", "max_requests", "0", "a worker retires after this many requests and is replaced; 0 = never"},
         number(&Config::max_requests, 0, 1000000000)},
        {{"server", "request_timeout", "30",
          "seconds; a request still running then is logged (event=request_timeout, with its phase) and its worker "
          "killed and replaced. It is the push's one deadline: the credentials' read, each connect (libpq's least is "
          "2 s) and each statement get what remains, and a push the database has not taken half a second before it "
          "is spooled (202); the spooler's work is bounded alike. 0 = no limit, else 3 .. 3600 (a connect needs 2 s)"},
         [](Parsing& p, std::string_view v) {
             unsigned long n = 0;
             if (!parse_number(v, 10, n) || (n != 0 && (n < 3 || n > 3600))) return std::string("expected 0 or 3..3600");
             p.config.request_timeout = static_cast<unsigned>(n);
             return std::string{};
         }},
        {{"server", "stop_grace", "10", "seconds workers get to finish their request on stop; then they are killed"},
         number(&Config::stop_grace, 1, 3600)},
        {{"server", "log_level", "info", "debug, info, warn or error"}, log_level()},
        {{"database", "conninfo", "dbname=moodle",
          "libpq connection string of txtpushd's own role (txtpushd grants ROLE prints its rights); keep its "
          "password in a passfile= (mode 0600, owner txtpush), not here"},
         [](Parsing& p, std::string_view v) {
             // libpq's own parser: a typo is refused now, not at every connect.
             // Its message may quote the password, so it is not repeated.
             char* error = nullptr;
             PQconninfoOption* options = PQconninfoParse(std::string(v).c_str(), &error);
             bool ok = options != nullptr;
             if (options) PQconninfoFree(options);
             if (error) PQfreemem(error);
             if (!ok) return std::string("not a libpq connection string (key=value pairs, or a postgresql:// URI)");
             p.config.conninfo = v;
             return std::string{};
         }},
        {{"database", "table_prefix", "mdl_", "Moodle's table prefix: 1 to 20 of a-z, 0-9 and _"},
         checked_name(&Config::table_prefix, valid_table_prefix,
                      "1 to 20 of a-z, 0-9 and _, not starting with a digit (Moodle's $CFG->prefix)")},
        {{"database", "schema", "txtpush",
          "txtpush's own PostgreSQL schema, holding all its objects (a-z, 0-9 and _; not public)"},
         checked_name(&Config::schema, valid_schema_name,
                      "a-z, 0-9 and _, not starting with a digit, not public, pg_..., nor a reserved word such as user")},
        {{"database", "pool_mode", "session",
          "session: txtpushd keeps its own connection per worker and prepares its statements once (direct to "
          "PostgreSQL, or a session pooler); transaction: behind PgBouncer's pool_mode = transaction, statements "
          "are sent unnamed each time and every write transaction sets its own settings (SET LOCAL; docs/operations.md: "
          "Scaling out)"},
         [](Parsing& p, std::string_view v) {
             if (v == "session") p.config.pool_mode = PoolMode::session;
             else if (v == "transaction") p.config.pool_mode = PoolMode::transaction;
             else return std::string("expected session or transaction");
             return std::string{};
         }},
        {{"spool", "dir", "/var/lib/txtpush/spool", "where pushes wait (durably) while the database cannot take them"},
         text(&Config::spool_dir)},
        {{"spool", "max_bytes", "268435456", "spool size cap in bytes; when full: 503"},
         number(&Config::spool_max_bytes, kMiB, 1024 * 1024 * kMiB)},
        {{"quarantine", "dir", "/var/lib/txtpush/quarantine", "where refused (authenticated) pushes are kept with their reason"},
         text(&Config::quarantine_dir)},
        {{"quarantine", "max_files", "1000", "most refused pushes kept; the oldest are dropped first; 0 keeps none"},
         number(&Config::quarantine_max_files, 0, 1000000)},
        {{"quarantine", "max_bytes", "67108864", "most bytes of refused pushes kept"},
         number(&Config::quarantine_max_bytes, 0, 1024 * 1024 * kMiB)},
        {{"push", "username", "(MoodleTxt's Push_Username)",
          "the push username the gateway sends as u; with password or password_sha256 it overrides the push "
          "credentials saved in MoodleTxt's settings, which are used when neither is given"},
         secret(&Parsing::username)},
        {{"push", "password", "(MoodleTxt's Push_Password)", "the push password the gateway sends as p"},
         secret(&Parsing::password)},
        {{"push", "password_sha256", "(MoodleTxt's Push_Password)",
          "the push password's SHA-256 in hex: printf '%s' PW | txtpushd hash-password"},
         secret(&Parsing::password_sha256)},
        {{"push", "unknown_sender_name", "Unknown", "the name given to a sender that is neither a user nor a contact"},
         text(&Config::unknown_sender_name)},
    };
    return all;
}

// Applies one key; returns an error text, empty when the key was fine.
std::string apply(Parsing& p, std::string_view section, std::string_view key, std::string_view value) {
    bool known_section = false;
    for (const Key& k : keys()) {
        known_section |= k.doc.section == section;
        if (k.doc.section != section || k.doc.name != key) continue;
        std::string problem = k.set(p, value);
        return problem.empty() ? problem : fmt::format("[{}] {}: {}", section, key, problem);
    }
    if (!known_section) return fmt::format("[{}]: unknown section", section);
    return fmt::format("[{}] {}: unknown key", section, key);
}

// A key given twice is a mistake (the later one would win silently).
std::string refuse_repeated_key(Parsing& p, const std::string& section, const std::string& key) {
    if (!p.keys_seen.insert(section + "\n" + key).second) return fmt::format("[{}] {}: given twice", section, key);
    return {};
}

// So is a section header given twice: inih does not report headers, so they
// are found here, with their line. An indented line is refused too: inih
// would take it as the continuation of the key before it (even a [section]).
std::optional<Error> check_layout(std::string_view text) {
    if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // a UTF-8 BOM, as inih skips it
    std::set<std::string, std::less<>> seen;
    size_t line = 0;
    for (std::string_view rest = text; !rest.empty();) {
        size_t end = rest.find('\n');
        std::string_view l = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
        ++line;
        size_t start = std::min(l.find_first_not_of(" \t\r"), l.size());
        l.remove_prefix(start);
        if (l.empty() || l.starts_with(';') || l.starts_with('#')) continue;
        if (start > 0)
            return fail(ErrorKind::config, fmt::format("line {}: indented line (start keys and sections at the "
                                                       "beginning of the line)", line));
        size_t close = l.find(']');
        if (!l.starts_with('[') || close == std::string_view::npos) continue;
        std::string name(l.substr(1, close - 1));
        if (!seen.insert(name).second)
            return fail(ErrorKind::config, fmt::format("line {}: [{}]: section given twice", line, name));
    }
    return std::nullopt;
}

int on_key(void* user, const char* section, const char* key, const char* value) {
    auto* p = static_cast<Parsing*>(user);
    if (!p->error.empty()) return 1;
    p->error = refuse_repeated_key(*p, section, key);
    if (p->error.empty()) p->error = apply(*p, section, key, value);
    return p->error.empty() ? 1 : 0;
}

Result<Config> finish(Parsing& p) {
    bool password_given = !p.password.empty() || !p.password_sha256.empty();
    // Neither: the credentials saved on MoodleTxt's settings page (the default).
    if (p.username.empty() && !password_given) return std::move(p.config);
    if (p.username.empty()) return fail(ErrorKind::config, "[push] a password without username: give both, or neither "
                                                           "to use MoodleTxt's push credentials");
    if (!password_given)
        return fail(ErrorKind::config, "[push] password or password_sha256 is required with username (or give "
                                       "neither to use MoodleTxt's push credentials)");
    if (!p.password.empty() && !p.password_sha256.empty())
        return fail(ErrorKind::config, "[push] give password or password_sha256, not both");
    if (!p.password_sha256.empty()) {
        auto digest = sha256_from_hex(p.password_sha256);
        if (!digest) return fail(ErrorKind::config, "[push] password_sha256: expected 64 hex digits");
        if (p.password_sha256.find_first_not_of('0') == std::string::npos)
            return fail(ErrorKind::config, "[push] password_sha256: the example's placeholder (all zeros); set "
                                           "printf '%s' PW | txtpushd hash-password, or remove it");
        p.config.credentials = Credentials(p.username, *digest);
    } else {
        p.config.credentials = Credentials::from_plain(p.username, p.password);
    }
    return std::move(p.config);
}

}  // namespace

std::vector<ConfigKeyDoc> config_key_docs() {
    std::vector<ConfigKeyDoc> out;
    for (const Key& k : keys()) out.push_back(k.doc);
    return out;
}

namespace {

// One file into `p`: a key given twice within it is refused; a later file
// may set a key an earlier one set (drop-ins override the main file).
std::optional<Error> parse_into(Parsing& p, std::string_view text) {
    if (auto wrong = check_layout(text)) return *wrong;
    p.keys_seen.clear();
    std::string copy(text);
    int rc = ini_parse_string(copy.c_str(), on_key, &p);
    if (!p.error.empty()) return fail(ErrorKind::config, fmt::format("line {}: {}", rc, p.error));
    if (rc != 0) return fail(ErrorKind::config, fmt::format("line {}: syntax error", rc));
    return std::nullopt;
}

std::optional<std::string> read_text(const std::string& path) {
    std::ifstream in(path);
    if (!in) return std::nullopt;
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

}  // namespace

Result<Config> parse_config(std::string_view text) {
    Parsing p;
    if (auto wrong = parse_into(p, text)) return *wrong;
    return finish(p);
}

std::vector<std::string> config_drop_ins(const std::string& path) {
    std::vector<std::string> files;
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(path + ".d", ignored))
        if (entry.path().extension() == ".conf" && !entry.path().filename().string().starts_with("."))
            files.push_back(entry.path().string());
    std::sort(files.begin(), files.end());
    return files;
}

Result<Config> load_config(const std::string& path) {
    Parsing p;
    std::vector<std::string> files{path};
    for (std::string& drop_in : config_drop_ins(path)) files.push_back(std::move(drop_in));
    for (const std::string& file : files) {
        auto text = read_text(file);
        if (!text) return fail(ErrorKind::config, fmt::format("cannot read config file {}", file));
        if (auto wrong = parse_into(p, *text)) return fail(ErrorKind::config, fmt::format("{}: {}", file, wrong->reason));
    }
    auto config = finish(p);
    if (!config) return fail(ErrorKind::config, fmt::format("{}: {}", path, config.error().reason));
    return config;
}

}  // namespace txtpush
