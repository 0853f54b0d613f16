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
    for (auto* sub : {migrate_cmd, check_cmd}) sub->add_option("-c,--config", config_path, "configuration file");
    CLI11_PARSE(app, argc, argv);

    Log log;
    if (*migrate_cmd) return run_migrate(config_path, log);
    if (*check_cmd) return run_check_config(config_path);
    if (*hash_cmd) return run_hash_password();
    return run_service(config_path, log);
}
