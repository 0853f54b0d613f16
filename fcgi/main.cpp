// txtpushd: the entry point. Parses the command line, then either runs the
// FastCGI pool or one of the operator commands.
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>
#include <string>

#include "config.hpp"
#include "credentials.hpp"
#include "log.hpp"
#include "master.hpp"
#include "grants.hpp"
#include "migrations.hpp"
#include "phone.hpp"
#include "push_handler.hpp"
#include "push_document.hpp"
#include "push_store.hpp"
#include "reference.hpp"
#include "site_check.hpp"
#include "spool.hpp"
#include "spool_replay.hpp"
#include "text.hpp"
#include "version.hpp"
#include "xml_validator.hpp"

using namespace txtpush;

namespace {

// The configuration, or nothing once the reason is logged (one line, as the
// service logs it): every command refuses a bad file the same way.
std::optional<Config> config_or_say(const std::string& path, const Log& log) {
    auto config = load_config(path);
    if (!config) {
        log.error("config_invalid", {{"error", config.error().reason}});
        return std::nullopt;
    }
    return std::move(*config);
}

int run_service(const std::string& path, Log& log) {
    auto config = config_or_say(path, log);
    if (!config) return kExitBadConfig;
    log.set_level(config->log_level);
    harden_libxml2();
    load_phone_metadata();
    auto validator = PushValidator::compile_builtin();
    if (!validator) {
        log.error("schema_invalid", {{"error", validator.error().reason}});
        return kExitFailed;
    }
    return run_master(path, *config, *validator, log);
}

// migrate and uninstall run as the owner of Moodle's tables: `conninfo`
// (from --conninfo) overrides the config's, which names txtpushd's own role.
int run_migrate(const std::string& path, const std::string& conninfo, bool plan_only, Log& log) {
    auto config = config_or_say(path, log);
    if (!config) return kExitBadConfig;
    try {
        pqxx::connection conn(conninfo.empty() ? config->conninfo : conninfo);
        if (plan_only) {
            auto steps = plan_migration(conn, config->names());
            if (!steps) {
                std::cerr << steps.error().reason << "\n";
                return kExitFailed;
            }
            if (steps->empty()) std::cout << "-- nothing to do: the database is up to date\n";
            for (const MigrationStep& step : *steps) std::cout << "-- " << step.what << "\n" << step.sql << "\n\n";
            return kExitOk;
        }
        auto taken = migrate(conn, config->names(), log);
        if (!taken) {
            log.error("migrate_failed", {{"error", taken.error().reason}});
            return kExitFailed;
        }
        auto version = schema_version(conn, config->names());
        std::cout << "schema " << config->schema << " at version " << (version ? *version : 0) << " (" << *taken
                  << " step(s) taken)\n";
        return kExitOk;
    } catch (const std::exception& e) {
        log.error("db_connect_failed", {{"error", e.what()}});
        return kExitFailed;
    }
}

int run_uninstall(const std::string& path, const std::string& conninfo, Log& log) {
    auto config = config_or_say(path, log);
    if (!config) return kExitBadConfig;
    try {
        pqxx::connection conn(conninfo.empty() ? config->conninfo : conninfo);
        auto dropped = uninstall(conn, config->names());
        if (!dropped) {
            std::cerr << dropped.error().reason << "\n";
            return kExitFailed;
        }
        std::cout << (*dropped ? "dropped schema " : "nothing to do: no txtpush schema ") << config->schema
                  << "; Moodle's tables are as they were\n";
        return kExitOk;
    } catch (const std::exception& e) {
        log.error("db_connect_failed", {{"error", e.what()}});
        return kExitFailed;
    }
}

// grants and sql work without a config file (Moodle's defaults), but not
// with a broken one.
std::optional<DbNames> names_of(const std::string& path, const Log& log) {
    if (!std::filesystem::exists(path)) return Config{}.names();
    auto config = config_or_say(path, log);
    if (!config) return std::nullopt;
    return config->names();
}

int run_grants(const std::string& path, const std::string& role, const Log& log) {
    auto found = names_of(path, log);
    if (!found) return kExitBadConfig;
    const DbNames& names = *found;
    std::cout << grants_sql(names, role);
    return kExitOk;
}

// `check`: the config, then the database and the socket as the service will meet them.
int run_check(const std::string& path) {
    auto config = load_config(path);
    if (!config) {
        std::cout << "FAIL " << config.error().reason << "\n";
        return kExitBadConfig;
    }
    std::cout << "ok   " << path << "\n";
    auto findings = check_site(*config, pool_size(*config));
    std::cout << render_findings(findings);
    return all_pass(findings) ? kExitOk : kExitFailed;
}

int run_check_config(const std::string& path, const Log& log) {
    auto config = config_or_say(path, log);
    if (!config) return kExitBadConfig;
    std::cout << "config ok\n";
    return kExitOk;
}

// `spool list`, `spool show ID`, `spool replay`; `quarantine list`, `quarantine show NAME`.
int run_spool_command(const std::string& path, const std::string& action, const std::string& id, Log& log) {
    auto config = config_or_say(path, log);
    if (!config) return kExitBadConfig;
    Spool spool(config->spool_dir, config->spool_max_bytes);
    if (action == "list") {
        auto waiting = spool.list();
        if (!waiting.empty() && !spool.waiting().empty()) std::cout << "# waiting: " << spool.waiting() << "\n";
        for (const auto& f : waiting) std::cout << f.name << "\t" << f.bytes << "\n";
        for (const auto& f : spool.unstorable()) std::cout << "unstorable/" << f.name << "\t" << f.bytes << "\n";
        return kExitOk;
    }
    if (action == "show") {
        auto item = spool.read(id);
        if (!item) {
            std::cerr << item.error().reason << "\n";
            return kExitFailed;
        }
        std::cout << "received " << item->received << "\nrequest_id " << item->request_id << "\n\n" << item->xml;
        return kExitOk;
    }
    harden_libxml2();
    auto validator = PushValidator::compile_builtin();
    if (!validator) return kExitFailed;
    PushStore store(store_options(*config), log);
    ReplayResult r = replay_spool(spool, *validator, store, log);
    std::cout << "stored " << r.stored << ", set aside " << r.set_aside << ", kept " << r.kept << ", remaining "
              << r.remaining
              << (r.database_down ? " (database unavailable)" : "") << "\n";
    return r.database_down ? 1 : 0;
}

int run_quarantine_command(const std::string& path, const std::string& action, const std::string& name,
                           const Log& log) {
    auto config = config_or_say(path, log);
    if (!config) return kExitBadConfig;
    Quarantine quarantine(config->quarantine_dir, config->quarantine_max_files, config->quarantine_max_bytes);
    if (action == "list") {
        for (const auto& f : quarantine.list()) std::cout << f.name << "\t" << f.bytes << "\n";
        return kExitOk;
    }
    auto text = quarantine.read(name);
    if (!text) {
        std::cerr << text.error().reason << "\n";
        return kExitFailed;
    }
    std::cout << *text;
    return kExitOk;
}

int run_print_sql(const std::string& path, const Log& log) {
    auto found = names_of(path, log);
    if (!found) return kExitBadConfig;
    const DbNames& names = *found;
    for (const auto& [name, sql] : prepared_statements(names)) std::cout << "-- " << name << sql << ";\n\n";
    return kExitOk;
}

int run_reroute(const std::string& path, Log& log) {
    auto config = config_or_say(path, log);
    if (!config) return kExitBadConfig;
    PushStore store(store_options(*config), log);
    auto routed = store.reroute_unrouted(unix_now());
    if (!routed) {
        std::cerr << routed.error().reason << "\n";
        return kExitFailed;
    }
    std::cout << *routed << " unrouted message(s) now in inboxes\n";
    return kExitOk;
}

// A value on one line, as in the log: quotes, backslashes and line breaks escaped.
std::string as_quoted(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default: out += c;
        }
    }
    return out + "\"";
}

// `validate FILE`: the XSD check a worker makes, offline, and the rows the
// document carries (routing needs the database: inbound SMS are listed as sent).
int run_validate(const std::string& path) {
    std::ifstream in(path == "-" ? "/dev/stdin" : path, std::ios::binary);
    if (!in) {
        std::cerr << "cannot read " << path << "\n";
        return kExitFailed;
    }
    std::ostringstream xml;
    xml << in.rdbuf();
    harden_libxml2();
    auto validator = PushValidator::compile_builtin();
    if (!validator) return kExitFailed;
    auto doc = validator->parse(xml.str());
    if (!doc) {
        std::cerr << "invalid: " << doc.error().reason << "\n";
        return kExitFailed;
    }
    Push push = extract_push(**doc);
    std::cout << "valid: " << push.statuses.size() << " status update(s), " << push.inbound.size()
              << " inbound SMS, " << push.ignored << " element(s) ignored\n";
    for (const StatusUpdate& u : push.statuses)
        std::cout << "status ticket=" << u.ticket << " status=" << u.status << " message=" << as_quoted(u.message)
                  << (u.phone.empty() ? "" : " phone=" + as_quoted(u.phone)) << "\n";
    for (const InboundSms& m : push.inbound)
        std::cout << "inbound ticket=" << m.ticket << " account=" << as_quoted(m.account) << " from=" << as_quoted(m.phone)
                  << " destination=" << as_quoted(m.destination) << " date=" << m.date << " text=" << as_quoted(m.text)
                  << "\n";
    return kExitOk;
}

int run_hash_password() {
    std::string password;
    std::getline(std::cin, password);
    std::cout << to_hex(sha256(password)) << "\n";
    return kExitOk;
}

}  // namespace

// A subcommand described as the man page describes it.
CLI::App* command(CLI::App& app, std::string_view name) {
    return app.add_subcommand(std::string(name), std::string(command_doc(name).what));
}

int main(int argc, char** argv) {
    CLI::App app{"txtpushd: receives the SMS gateway's push requests behind nginx (FastCGI)"};
    app.set_version_flag("--version", "txtpushd " + std::string(kVersion));
    std::string config_path = "/etc/txtpush/txtpushd.conf";
    app.add_option("-c,--config", config_path, "configuration file")->capture_default_str();
    app.require_subcommand(0, 1);
    std::string owner_conninfo, role, action, item;
    bool plan_only = false;
    auto* migrate_cmd = command(app, "migrate");
    migrate_cmd->add_flag("--plan", plan_only, "print what migrate would do, change nothing");
    auto* uninstall_cmd = command(app, "uninstall");
    for (auto* sub : {migrate_cmd, uninstall_cmd})
        sub->add_option("--conninfo", owner_conninfo, "connect as this (the owner of Moodle's tables), not [database] conninfo");
    auto* grants_cmd = command(app, "grants");
    grants_cmd->add_option("role", role, "the database role txtpushd connects as")->required();
    auto* check_cmd = command(app, "check-config");
    auto* site_check_cmd = command(app, "check");
    auto* validate_cmd = command(app, "validate");
    validate_cmd->add_option("file", item, "the XML document (- for stdin)")->required();
    auto* hash_cmd = command(app, "hash-password");
    auto* sql_cmd = command(app, "sql");
    auto* spool_cmd = command(app, "spool");
    spool_cmd->add_option("action", action, "list, show or replay")
        ->required()
        ->check(CLI::IsMember({"list", "show", "replay"}));
    spool_cmd->add_option("id", item, "spool id (for show)");
    auto* quarantine_cmd = command(app, "quarantine");
    quarantine_cmd->add_option("action", action, "list or show")->required()->check(CLI::IsMember({"list", "show"}));
    quarantine_cmd->add_option("name", item, "file name (for show)");
    auto* reroute_cmd = command(app, "reroute");
    for (auto* sub : {migrate_cmd, uninstall_cmd, grants_cmd, check_cmd, site_check_cmd, spool_cmd, quarantine_cmd,
                      sql_cmd, reroute_cmd})
        sub->add_option("-c,--config", config_path, "configuration file");
    // The man pages and the tables of docs/operations.md, generated from the code (hidden).
    auto* reference_cmd = app.add_subcommand("reference", "print generated documentation")->group("");
    std::vector<std::string> references;
    for (std::string_view name : reference_names()) references.emplace_back(name);
    reference_cmd->add_option("what", action, "which")->required()->check(CLI::IsMember(references));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kExitOk : kExitUsage;
    }

    Log log;
    if (*migrate_cmd) return run_migrate(config_path, owner_conninfo, plan_only, log);
    if (*uninstall_cmd) return run_uninstall(config_path, owner_conninfo, log);
    if (*grants_cmd) return run_grants(config_path, role, log);
    if (*check_cmd) return run_check_config(config_path, log);
    if (*site_check_cmd) return run_check(config_path);
    if (*validate_cmd) return run_validate(item);
    if (*hash_cmd) return run_hash_password();
    if (*sql_cmd) return run_print_sql(config_path, log);
    if (*reroute_cmd) return run_reroute(config_path, log);
    if (*spool_cmd) return run_spool_command(config_path, action, item, log);
    if (*quarantine_cmd) return run_quarantine_command(config_path, action, item, log);
    if (*reference_cmd) {
        std::cout << reference(action, kVersion);
        return kExitOk;
    }
    return run_service(config_path, log);
}
