// txtpushd: the entry point. Parses the command line, then either runs the
// FastCGI pool or one of the operator commands.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <fstream>
#include <optional>
#include <iostream>
#include <sstream>
#include <stdexcept>
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
#include "store_statements.hpp"
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
    std::cout << "-- session\n";
    for (const SessionSetting& s : session_settings()) std::cout << "SET " << s.name << " = " << s.value << ";\n";
    std::cout << "\n";
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

// What the command line gave.
struct Args {
    std::string config_path = "/etc/txtpush/txtpushd.conf";
    std::string owner_conninfo, role, action, item;
    bool plan_only = false;
};

// One operator command: its name (its help line is the man page's), whether
// it reads the config (-c after it too), its own arguments, what it runs.
struct Command {
    std::string_view name;
    bool reads_config;
    std::function<void(CLI::App&, Args&)> arguments;
    std::function<int(const Args&, Log&)> run;
};

void owner_conninfo(CLI::App& sub, Args& a) {
    sub.add_option("--conninfo", a.owner_conninfo, "connect as this (the owner of Moodle's tables), not [database] conninfo");
}

const std::vector<Command>& commands() {
    static const std::vector<Command> all = {
        {"migrate", true,
         [](CLI::App& sub, Args& a) {
             sub.add_flag("--plan", a.plan_only, "print what migrate would do, change nothing");
             owner_conninfo(sub, a);
         },
         [](const Args& a, Log& log) { return run_migrate(a.config_path, a.owner_conninfo, a.plan_only, log); }},
        {"uninstall", true, owner_conninfo,
         [](const Args& a, Log& log) { return run_uninstall(a.config_path, a.owner_conninfo, log); }},
        {"grants", true,
         [](CLI::App& sub, Args& a) {
             sub.add_option("role", a.role, "the database role txtpushd connects as")->required();
         },
         [](const Args& a, Log& log) { return run_grants(a.config_path, a.role, log); }},
        {"check-config", true, nullptr, [](const Args& a, Log& log) { return run_check_config(a.config_path, log); }},
        {"check", true, nullptr, [](const Args& a, Log&) { return run_check(a.config_path); }},
        {"validate", false,
         [](CLI::App& sub, Args& a) { sub.add_option("file", a.item, "the XML document (- for stdin)")->required(); },
         [](const Args& a, Log&) { return run_validate(a.item); }},
        {"hash-password", false, nullptr, [](const Args&, Log&) { return run_hash_password(); }},
        {"sql", true, nullptr, [](const Args& a, Log& log) { return run_print_sql(a.config_path, log); }},
        {"spool", true,
         [](CLI::App& sub, Args& a) {
             sub.add_option("action", a.action, "list, show or replay")
                 ->required()
                 ->check(CLI::IsMember({"list", "show", "replay"}));
             sub.add_option("id", a.item, "spool id (for show)");
         },
         [](const Args& a, Log& log) { return run_spool_command(a.config_path, a.action, a.item, log); }},
        {"quarantine", true,
         [](CLI::App& sub, Args& a) {
             sub.add_option("action", a.action, "list or show")->required()->check(CLI::IsMember({"list", "show"}));
             sub.add_option("name", a.item, "file name (for show)");
         },
         [](const Args& a, Log& log) { return run_quarantine_command(a.config_path, a.action, a.item, log); }},
        {"reroute", true, nullptr, [](const Args& a, Log& log) { return run_reroute(a.config_path, log); }},
    };
    return all;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"txtpushd: receives the SMS gateway's push requests behind nginx (FastCGI)"};
    app.set_version_flag("--version", "txtpushd " + std::string(kVersion));
    Args args;
    app.add_option("-c,--config", args.config_path, "configuration file")->capture_default_str();
    app.require_subcommand(0, 1);
    // The documented commands (fcgi/reference.cpp, which the man page and the
    // docs print), each with what it does here: one is never without the other.
    std::vector<std::pair<CLI::App*, const Command*>> given;
    for (const CommandDoc& doc : command_docs()) {
        if (doc.name.empty()) continue;  // the service itself
        auto c = std::find_if(commands().begin(), commands().end(), [&](const Command& k) { return k.name == doc.name; });
        if (c == commands().end()) throw std::logic_error("documented command without code: " + std::string(doc.name));
        CLI::App* sub = app.add_subcommand(std::string(c->name), std::string(doc.what));
        if (c->reads_config) sub->add_option("-c,--config", args.config_path, "configuration file");
        if (c->arguments) c->arguments(*sub, args);
        given.emplace_back(sub, &*c);
    }
    if (given.size() != commands().size()) throw std::logic_error("a command is not documented in fcgi/reference.cpp");
    // The man pages and the tables of docs/operations.md, generated from the code (hidden).
    auto* reference_cmd = app.add_subcommand("reference", "print generated documentation")->group("");
    std::vector<std::string> references;
    for (std::string_view name : reference_names()) references.emplace_back(name);
    reference_cmd->add_option("what", args.action, "which")->required()->check(CLI::IsMember(references));
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return app.exit(e) == 0 ? kExitOk : kExitUsage;
    }

    Log log;
    for (auto [sub, c] : given)
        if (*sub) return c->run(args, log);
    if (*reference_cmd) {
        std::cout << reference(args.action, kVersion);
        return kExitOk;
    }
    return run_service(args.config_path, log);
}
