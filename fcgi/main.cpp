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

// migrate and uninstall run as the owner of Moodle's tables: `conninfo`
// (from --conninfo) overrides the config's, which names txtpushd's own role.
int run_migrate(const std::string& path, const std::string& conninfo, bool plan_only, Log& log) {
    auto config = load_config(path);
    if (!config) {
        log.error("config_invalid", {{"error", config.error().reason}});
        return 2;
    }
    try {
        pqxx::connection conn(conninfo.empty() ? config->conninfo : conninfo);
        if (plan_only) {
            auto steps = plan_migration(conn, config->names());
            if (!steps) {
                std::cerr << steps.error().reason << "\n";
                return 1;
            }
            if (steps->empty()) std::cout << "-- nothing to do: the database is up to date\n";
            for (const MigrationStep& step : *steps) std::cout << "-- " << step.what << "\n" << step.sql << "\n\n";
            return 0;
        }
        auto taken = migrate(conn, config->names(), log);
        if (!taken) {
            log.error("migrate_failed", {{"error", taken.error().reason}});
            return 1;
        }
        auto version = schema_version(conn, config->names());
        std::cout << "schema " << config->schema << " at version " << (version ? *version : 0) << " (" << *taken
                  << " step(s) taken)\n";
        return 0;
    } catch (const std::exception& e) {
        log.error("db_connect_failed", {{"error", e.what()}});
        return 1;
    }
}

int run_uninstall(const std::string& path, const std::string& conninfo, Log& log) {
    auto config = load_config(path);
    if (!config) {
        log.error("config_invalid", {{"error", config.error().reason}});
        return 2;
    }
    try {
        pqxx::connection conn(conninfo.empty() ? config->conninfo : conninfo);
        auto dropped = uninstall(conn, config->names());
        if (!dropped) {
            std::cerr << dropped.error().reason << "\n";
            return 1;
        }
        std::cout << (*dropped ? "dropped schema " : "nothing to do: no txtpush schema ") << config->schema
                  << "; Moodle's tables are as they were\n";
        return 0;
    } catch (const std::exception& e) {
        log.error("db_connect_failed", {{"error", e.what()}});
        return 1;
    }
}

int run_grants(const std::string& path, const std::string& role) {
    auto config = load_config(path);
    DbNames names = config ? config->names() : Config{}.names();
    std::cout << grants_sql(names, role);
    return 0;
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
    if (action == "list") {
        for (const auto& f : spool.list()) std::cout << f.name << "\t" << f.bytes << "\n";
        for (const auto& f : spool.unstorable()) std::cout << "unstorable/" << f.name << "\t" << f.bytes << "\n";
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
    PushStore store(store_options(*config), log);
    ReplayResult r = replay_spool(spool, *validator, store, log);
    std::cout << "stored " << r.stored << ", set aside " << r.set_aside << ", kept " << r.kept << ", remaining "
              << r.remaining
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
    DbNames names = config ? config->names() : Config{}.names();
    for (const auto& [name, sql] : prepared_statements(names)) std::cout << "-- " << name << sql << ";\n\n";
    return 0;
}

int run_reroute(const std::string& path, Log& log) {
    auto config = load_config(path);
    if (!config) {
        std::cerr << config.error().reason << "\n";
        return 2;
    }
    PushStore store(store_options(*config), log);
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
    std::string owner_conninfo, role;
    bool plan_only = false;
    auto* migrate_cmd = app.add_subcommand(
        "migrate", "create or upgrade txtpush's schema (and, in an empty database, Moodle's tables), then exit");
    migrate_cmd->add_flag("--plan", plan_only, "print what migrate would do, change nothing");
    auto* uninstall_cmd =
        app.add_subcommand("uninstall", "drop txtpush's own schema and everything in it; nothing of Moodle's");
    for (auto* sub : {migrate_cmd, uninstall_cmd})
        sub->add_option("--conninfo", owner_conninfo, "connect as this (the owner of Moodle's tables), not [database] conninfo");
    auto* grants_cmd = app.add_subcommand("grants", "print the GRANTs that let ROLE run txtpushd, nothing more");
    grants_cmd->add_option("role", role, "the database role txtpushd connects as")->required();
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
    for (auto* sub : {migrate_cmd, uninstall_cmd, grants_cmd, check_cmd, spool_cmd, quarantine_cmd, sql_cmd, reroute_cmd})
        sub->add_option("-c,--config", config_path, "configuration file");
    CLI11_PARSE(app, argc, argv);

    Log log;
    if (*migrate_cmd) return run_migrate(config_path, owner_conninfo, plan_only, log);
    if (*uninstall_cmd) return run_uninstall(config_path, owner_conninfo, log);
    if (*grants_cmd) return run_grants(config_path, role);
    if (*check_cmd) return run_check_config(config_path);
    if (*hash_cmd) return run_hash_password();
    if (*sql_cmd) return run_print_sql(config_path);
    if (*reroute_cmd) return run_reroute(config_path, log);
    if (*spool_cmd) return run_spool_command(config_path, action, item, log);
    if (*quarantine_cmd) return run_quarantine_command(config_path, action, item);
    return run_service(config_path, log);
}
