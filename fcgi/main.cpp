// txtpushd: the entry point. Parses the command line, then either runs the
// FastCGI pool or one of the operator commands.
#include <CLI/CLI.hpp>

#include <iostream>
#include <string>

#include "config.hpp"
#include "credentials.hpp"
#include "log.hpp"
#include "master.hpp"
#include "migrations.hpp"
#include "phone.hpp"
#include "push_handler.hpp"
#include "push_store.hpp"
#include "spool.hpp"
#include "spool_replay.hpp"
#include "xml_validator.hpp"

using namespace txtpush;

namespace {

int run_service(const std::string& path, Log& log) {
    auto config = load_config(path);
    if (!config) {
        log.error("config_invalid", {{"error", config.error().reason}});
        return 2;
    }
    log.set_level(config->log_level);
    harden_libxml2();
    load_phone_metadata();
    auto validator = PushValidator::compile_builtin();
    if (!validator) {
        log.error("schema_invalid", {{"error", validator.error().reason}});
        return 1;
    }
    return run_master(path, *config, *validator, log);
}

int run_migrate(const std::string& path, Log& log) {
    auto config = load_config(path);
    if (!config) {
        log.error("config_invalid", {{"error", config.error().reason}});
        return 2;
    }
    try {
        pqxx::connection conn(config->conninfo);
        auto applied = migrate(conn, config->table_prefix, log);
        if (!applied) {
            log.error("migrate_failed", {{"error", applied.error().reason}});
            return 1;
        }
        auto version = schema_version(conn, config->table_prefix);
        std::cout << "schema version " << (version ? *version : 0) << " (" << *applied << " migration(s) applied)\n";
        return 0;
    } catch (const std::exception& e) {
        log.error("db_connect_failed", {{"error", e.what()}});
        return 1;
    }
}

int run_check_config(const std::string& path) {
    auto config = load_config(path);
    if (!config) {
        std::cerr << config.error().reason << "\n";
        return 2;
    }
    std::cout << "config ok\n";
    return 0;
}

// `spool list`, `spool show ID`, `spool replay`; `quarantine list`, `quarantine show NAME`.
int run_spool_command(const std::string& path, const std::string& action, const std::string& id, Log& log) {
    auto config = load_config(path);
    if (!config) {
        std::cerr << config.error().reason << "\n";
        return 2;
    }
    Spool spool(config->spool_dir, config->spool_max_bytes);
    Quarantine quarantine(config->quarantine_dir, config->quarantine_max_files, config->quarantine_max_bytes);
    if (action == "list") {
        for (const auto& f : spool.list()) std::cout << f.name << "\t" << f.bytes << "\n";
        return 0;
    }
    if (action == "show") {
        auto item = spool.read(id);
        if (!item) {
            std::cerr << item.error().reason << "\n";
            return 1;
        }
        std::cout << "received " << item->received << "\nrequest_id " << item->request_id << "\n\n" << item->xml;
        return 0;
    }
    harden_libxml2();
    auto validator = PushValidator::compile_builtin();
    if (!validator) return 1;
    PushStore store(StoreOptions{config->conninfo, config->table_prefix, config->unknown_sender_name}, log);
    ReplayResult r = replay_spool(spool, quarantine, *validator, store, log, SIZE_MAX);
    std::cout << "stored " << r.stored << ", quarantined " << r.quarantined << ", remaining " << r.remaining
              << (r.database_down ? " (database unavailable)" : "") << "\n";
    return r.database_down ? 1 : 0;
}

int run_quarantine_command(const std::string& path, const std::string& action, const std::string& name) {
    auto config = load_config(path);
    if (!config) {
        std::cerr << config.error().reason << "\n";
        return 2;
    }
    Quarantine quarantine(config->quarantine_dir, config->quarantine_max_files, config->quarantine_max_bytes);
    if (action == "list") {
        for (const auto& f : quarantine.list()) std::cout << f.name << "\t" << f.bytes << "\n";
        return 0;
    }
    auto text = quarantine.read(name);
    if (!text) {
        std::cerr << text.error().reason << "\n";
        return 1;
    }
    std::cout << *text;
    return 0;
}

int run_print_sql(const std::string& path) {
    auto config = load_config(path);
    std::string prefix = config ? config->table_prefix : Config{}.table_prefix;
    for (const auto& [name, sql] : prepared_statements(prefix)) std::cout << "-- " << name << sql << ";\n\n";
    return 0;
}

int run_reroute(const std::string& path, Log& log) {
    auto config = load_config(path);
    if (!config) {
        std::cerr << config.error().reason << "\n";
        return 2;
    }
    PushStore store(StoreOptions{config->conninfo, config->table_prefix, config->unknown_sender_name}, log);
    auto routed = store.reroute_unrouted(unix_now());
    if (!routed) {
        std::cerr << routed.error().reason << "\n";
        return 1;
    }
    std::cout << *routed << " unrouted message(s) now in inboxes\n";
    return 0;
}

int run_hash_password() {
    std::string password;
    std::getline(std::cin, password);
    std::cout << to_hex(sha256(password)) << "\n";
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"txtpushd: receives the SMS gateway's push requests behind nginx (FastCGI)"};
    std::string config_path = "/etc/txtpush/txtpushd.conf";
    app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
    app.require_subcommand(0, 1);
    auto* migrate_cmd = app.add_subcommand("migrate", "create or upgrade the database schema, then exit");
    auto* check_cmd = app.add_subcommand("check-config", "validate the configuration file, then exit");
    auto* hash_cmd =
        app.add_subcommand("hash-password", "read a push password on stdin, print its password_sha256 value");
    auto* sql_cmd = app.add_subcommand("sql", "print the SQL statements a worker prepares (for DBAs and the benchmark)");
    std::string action, item;
    auto* spool_cmd = app.add_subcommand("spool", "pushes waiting for the database: list, show ID, replay");
    spool_cmd->add_option("action", action, "list, show or replay")
        ->required()
        ->check(CLI::IsMember({"list", "show", "replay"}));
    spool_cmd->add_option("id", item, "spool id (for show)");
    auto* quarantine_cmd = app.add_subcommand("quarantine", "refused pushes kept for inspection: list, show NAME");
    quarantine_cmd->add_option("action", action, "list or show")->required()->check(CLI::IsMember({"list", "show"}));
    quarantine_cmd->add_option("name", item, "file name (for show)");
    auto* reroute_cmd = app.add_subcommand(
        "reroute", "route again the inbound SMS kept in txtpush_unrouted (after fixing an account)");
    for (auto* sub : {migrate_cmd, check_cmd, spool_cmd, quarantine_cmd, sql_cmd, reroute_cmd})
        sub->add_option("-c,--config", config_path, "configuration file");
    CLI11_PARSE(app, argc, argv);

    Log log;
    if (*migrate_cmd) return run_migrate(config_path, log);
    if (*check_cmd) return run_check_config(config_path);
    if (*hash_cmd) return run_hash_password();
    if (*sql_cmd) return run_print_sql(config_path);
    if (*reroute_cmd) return run_reroute(config_path, log);
    if (*spool_cmd) return run_spool_command(config_path, action, item, log);
    if (*quarantine_cmd) return run_quarantine_command(config_path, action, item);
    return run_service(config_path, log);
}
