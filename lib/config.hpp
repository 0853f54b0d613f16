// txtpushd's configuration: one INI file, every key optional (the push
// credentials default to MoodleTxt's). deploy/txtpushd.conf.example documents each key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "credentials.hpp"
#include "db_names.hpp"
#include "log.hpp"
#include "result.hpp"

namespace txtpush {

// How txtpushd reaches PostgreSQL: directly (or through a session pooler),
// or through a transaction pooler such as PgBouncer's pool_mode = transaction.
enum class PoolMode { session, transaction };

struct Config {
    // [server]
    std::string listen = "/run/txtpush/txtpushd.sock";  // unix path, or host:port
    unsigned socket_mode = 0660;
    std::string socket_owner;  // user name; empty keeps the process's
    std::string socket_group;  // group name; empty keeps the process's
    int workers = 0;           // 0: one per CPU core
    size_t body_limit = 1024 * 1024;
    unsigned long max_requests = 0;    // a worker retires after this many requests; 0: never
    unsigned request_timeout = 30;     // seconds; a request past it ends its worker; 0: no limit
    unsigned stop_grace = 10;          // seconds workers get to finish on stop or reload
    LogLevel log_level = LogLevel::info;

    // [database]
    std::string conninfo = "dbname=moodle";
    std::string table_prefix = "mdl_";  // Moodle's
    std::string schema = "txtpush";     // txtpush's own PostgreSQL schema
    PoolMode pool_mode = PoolMode::session;

    // [spool]: pushes the database could not take, replayed when it can
    std::string spool_dir = "/var/lib/txtpush/spool";
    uint64_t spool_max_bytes = 256ull * 1024 * 1024;

    // [quarantine]: refused pushes kept for the operator
    std::string quarantine_dir = "/var/lib/txtpush/quarantine";
    size_t quarantine_max_files = 1000;
    uint64_t quarantine_max_bytes = 64ull * 1024 * 1024;

    // [push]
    Credentials credentials;  // not configured(): MoodleTxt's, read from the database
    std::string unknown_sender_name = "Unknown";

    DbNames names() const { return {table_prefix, schema}; }
};

// A table prefix goes into SQL text unquoted: [a-z_][a-z0-9_]*, at most 20.
bool valid_table_prefix(std::string_view prefix);
// So does the schema name: [a-z_][a-z0-9_]*, not a reserved word, and not a
// schema PostgreSQL or Moodle own (uninstall drops it whole).
bool valid_schema_name(std::string_view schema);

// What the documentation says of a key: txtpushd.conf(5) and docs/operations.md's
// table are generated from these, so they cannot drift from the parser.
struct ConfigKeyDoc {
    std::string_view section;
    std::string_view name;
    std::string_view default_value;
    std::string_view meaning;
};
std::vector<ConfigKeyDoc> config_key_docs();

Result<Config> parse_config(std::string_view text);
// The file, then each PATH.d/*.conf in name order: a key a drop-in sets
// overrides the main file's (within one file, a key given twice is refused).
Result<Config> load_config(const std::string& path);
// The drop-ins load_config reads after `path`.
std::vector<std::string> config_drop_ins(const std::string& path);

}  // namespace txtpush
