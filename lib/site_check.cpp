#include "site_check.hpp"

#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <pqxx/pqxx>
#include <regex>

#include <fmt/format.h>

#include "grants.hpp"
#include "migrations.hpp"
#include "push_credentials.hpp"
#include "push_store.hpp"

namespace txtpush {

namespace {

using Findings = std::vector<Finding>;

bool yes(pqxx::transaction_base& tx, const std::string& sql) { return tx.exec(sql)[0][0].as<bool>(); }

std::string literal(pqxx::transaction_base& tx, const std::string& s) { return tx.quote(s); }

void check_migration(pqxx::connection& conn, const Config& config, Findings& out) {
    int latest = builtin_migrations().back().version;
    auto version = schema_version(conn, config.names());
    if (!version)
        out.push_back({Finding::fail, version.error().reason, "grant the runtime role: txtpushd grants ROLE | psql"});
    else if (*version < latest)
        out.push_back({Finding::fail, fmt::format("schema {} at version {}, this txtpushd needs {}", config.schema,
                                                  *version, latest),
                       "run txtpushd migrate as the owner of Moodle's tables, then txtpushd grants"});
    else
        out.push_back({Finding::ok, fmt::format("schema {} at version {}", config.schema, *version), {}});
}

void check_rights(pqxx::transaction_base& tx, const Config& config, Findings& out) {
    const std::string& p = config.table_prefix;
    std::vector<std::string> missing;
    auto need = [&](const std::string& test, const std::string& name) {
        if (!yes(tx, "SELECT " + test)) missing.push_back(name);
    };
    for (const ColumnsRead& t : moodle_columns_read())
        for (std::string_view c : t.columns)
            need(fmt::format("has_column_privilege({}, {}, 'SELECT')", literal(tx, p + std::string(t.table)),
                             literal(tx, std::string(c))),
                 fmt::format("SELECT ({}) ON {}{}", c, p, t.table));
    for (std::string_view t : moodle_tables_written()) {
        need(fmt::format("has_table_privilege({}, 'INSERT')", literal(tx, p + std::string(t))),
             fmt::format("INSERT ON {}{}", p, t));
        need(fmt::format("has_sequence_privilege({}, 'USAGE')", literal(tx, p + std::string(t) + "_id_seq")),
             fmt::format("USAGE ON SEQUENCE {}{}_id_seq", p, t));
    }
    need(fmt::format("has_schema_privilege({}, 'USAGE')", literal(tx, config.schema)),
         fmt::format("USAGE ON SCHEMA {}", config.schema));
    need("has_database_privilege(current_database(), 'TEMPORARY')", "TEMPORARY ON DATABASE");
    // Each privilege of each object on its own: has_*_privilege with a list
    // is true when any one of them is held.
    for (const OwnGrant& g : own_grants()) {
        std::string test = g.kind == "TABLE" ? "has_table_privilege" : g.kind == "SEQUENCE" ? "has_sequence_privilege"
                                                                                            : "has_function_privilege";
        for (std::string_view object : g.objects) {
            std::string name = config.schema + "." + std::string(object);
            for (std::string_view rest = g.privileges; !rest.empty();) {
                size_t comma = rest.find(", ");
                std::string privilege(rest.substr(0, comma));
                rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 2);
                need(fmt::format("{}({}, {})", test, literal(tx, name), literal(tx, privilege)),
                     fmt::format("{} ON {} {}", privilege, g.kind, name));
            }
        }
    }
    if (missing.empty())
        out.push_back({Finding::ok, "every right txtpushd needs is granted", {}});
    else
        out.push_back({Finding::fail, fmt::format("missing rights: {}{}", missing.front(),
                                                  missing.size() > 1 ? fmt::format(" and {} more", missing.size() - 1)
                                                                     : ""),
                       "run txtpushd grants ROLE as the owner of Moodle's tables and feed it to psql"});
    // What it must not read: every user's password hash, every plugin's secrets.
    std::vector<std::string> exposed;
    auto never = [&](const std::string& test, const std::string& name) {
        if (yes(tx, "SELECT " + test)) exposed.push_back(name);
    };
    never(fmt::format("has_column_privilege({}, 'password', 'SELECT')", literal(tx, p + "user")), p + "user.password");
    never(fmt::format("has_column_privilege({}, 'password', 'SELECT')", literal(tx, p + "block_moodletxt_accounts")),
          p + "block_moodletxt_accounts.password");
    never(fmt::format("has_any_column_privilege({}, 'SELECT')", literal(tx, p + "config_plugins")), p + "config_plugins");
    if (exposed.empty())
        out.push_back({Finding::ok, "the role cannot read user.password, the accounts' passwords or config_plugins", {}});
    else
        out.push_back({Finding::fail, fmt::format("the role can read {}", exposed.front()),
                       "run txtpushd grants ROLE again: it revokes what earlier versions granted"});
}

void check_connections(pqxx::transaction_base& tx, int pool_size, Findings& out) {
    // Each worker and the spooler hold one; during a reload, two generations.
    int needed = 2 * (pool_size + 1);
    auto row = tx.exec(
        "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int "
        "- (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int + 1, "
        "(SELECT rolconnlimit FROM pg_roles WHERE rolname = current_user)")[0];
    int free = row[0].as<int>(), role_limit = row[1].as<int>();
    std::string what = fmt::format("connections: {} needed (workers, spooler, a reload's second generation), {} free",
                                   needed, free);
    if (role_limit >= 0 && role_limit < needed)
        out.push_back({Finding::fail, what + fmt::format(", but the role may open {}", role_limit),
                       "ALTER ROLE ... CONNECTION LIMIT, or fewer [server] workers"});
    else if (free < needed)
        out.push_back({Finding::fail, what, "raise max_connections, or fewer [server] workers"});
    else
        out.push_back({Finding::ok, what, {}});
}

// nginx's user, as its main configuration names it (Debian's default www-data).
std::string nginx_user() {
    std::ifstream in("/etc/nginx/nginx.conf");
    std::smatch m;
    for (std::string line; std::getline(in, line);)
        if (std::regex_search(line, m, std::regex(R"(^\s*user\s+([^\s;]+))"))) return m[1];
    return "www-data";
}

bool may(const struct stat& st, const passwd& user, const std::vector<gid_t>& groups, mode_t owner_bit) {
    if (user.pw_uid == 0) return true;
    if (st.st_uid == user.pw_uid) return st.st_mode & owner_bit;
    for (gid_t g : groups)
        if (g == st.st_gid) return st.st_mode & (owner_bit >> 3);
    return st.st_mode & (owner_bit >> 6);
}

void check_socket(const Config& config, Findings& out) {
    if (config.listen.empty() || config.listen[0] != '/') return;  // TCP: nothing to reach on disk
    std::string who = nginx_user();
    const passwd* pw = ::getpwnam(who.c_str());
    if (pw == nullptr) {
        out.push_back({Finding::warn, fmt::format("no user {} (nginx's) to check the socket for", who),
                       "check that nginx's user can reach " + config.listen});
        return;
    }
    int count = 64;
    std::vector<gid_t> groups(static_cast<size_t>(count));
    if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count) < 0) {  // count: how many there are
        groups.resize(static_cast<size_t>(count));
        if (::getgrouplist(pw->pw_name, pw->pw_gid, groups.data(), &count) < 0) count = 0;
    }
    groups.resize(static_cast<size_t>(count));
    std::filesystem::path socket(config.listen);
    for (std::filesystem::path dir = socket.parent_path(); !dir.empty(); dir = dir.parent_path()) {
        struct stat st{};
        if (::stat(dir.c_str(), &st) == 0 && !may(st, *pw, groups, S_IXUSR)) {
            out.push_back({Finding::fail, fmt::format("nginx's user {} cannot enter {}", who, dir.string()),
                           "chmod o+x (or a group nginx's user is in) on that folder, or put the socket elsewhere"});
            return;
        }
        if (dir == dir.root_path()) break;
    }
    struct stat st{};
    if (::stat(socket.c_str(), &st) != 0) {
        out.push_back({Finding::info, fmt::format("{} is not there (txtpushd not running): its folders are reachable",
                                                  config.listen), {}});
        return;
    }
    if (!may(st, *pw, groups, S_IWUSR))
        out.push_back({Finding::fail, fmt::format("nginx's user {} cannot write to {}", who, config.listen),
                       "set [server] socket_mode, socket_owner or socket_group so that it can"});
    else
        out.push_back({Finding::ok, fmt::format("nginx's user {} can reach {}", who, config.listen), {}});
}

void check_moodletxt(pqxx::transaction_base& tx, const Config& config, Findings& out) {
    MoodleTxtSettings settings;
    for (const auto& row : tx.exec("SELECT name, value FROM " + config.schema + ".moodletxt_settings()"))
        settings[row[0].as<std::string>()] = row[1].is_null() ? "" : row[1].as<std::string>();
    if (config.credentials.configured()) {
        out.push_back({Finding::ok, "push credentials: from txtpushd.conf ([push] username), not MoodleTxt's", {}});
    } else if (auto credentials = credentials_from_settings(settings); !credentials) {
        out.push_back({Finding::warn, credentials.error().reason,
                       "set the push username and password on MoodleTxt's settings page, and give them to ConnectTxt"});
    } else {
        out.push_back({Finding::ok, "push credentials: MoodleTxt's Push_Username and Push_Password", {}});
    }
    for (const char* polling : {"Get_Status_On_View", "Get_Inbound_On_View"})
        if (settings[polling] == "1")
            out.push_back({Finding::warn, fmt::format("MoodleTxt's {} is still on", polling),
                           "turn it off on MoodleTxt's settings page once pushes arrive"});
    auto accounts = tx.exec("SELECT username FROM " + config.table_prefix +
                            "block_moodletxt_accounts WHERE inboundenabled = 1 ORDER BY username");
    out.push_back({Finding::info, "for ConnectTxt: push URL https://YOUR-MOODLE/blocks/moodletxt/push.php", {}});
    if (accounts.empty())
        out.push_back({Finding::warn, "no MoodleTxt account takes inbound SMS (inboundenabled = 1)",
                       "enable inbound on an account in MoodleTxt, or expect status updates only"});
    for (const auto& a : accounts)
        out.push_back({Finding::info, "for ConnectTxt: inbound enabled on account " + a[0].as<std::string>(), {}});
}

}  // namespace

std::vector<Finding> check_site(const Config& config, int pool_size) {
    Findings out;
    check_socket(config, out);
    try {
        pqxx::connection conn(conninfo_with_timeouts(config.conninfo, std::chrono::seconds(5)));
        out.push_back({Finding::ok, fmt::format("connected as {}", conn.username()), {}});
        check_migration(conn, config, out);
        pqxx::read_transaction tx(conn);
        check_rights(tx, config, out);
        check_connections(tx, pool_size, out);
        check_moodletxt(tx, config, out);
    } catch (const pqxx::broken_connection& e) {
        out.push_back({Finding::fail, fmt::format("cannot connect: {}", e.what()),
                       "check [database] conninfo (host, port, dbname, user, password or passfile) and pg_hba.conf"});
    } catch (const std::exception& e) {
        out.push_back({Finding::fail, e.what(), "run txtpushd migrate, then txtpushd grants, as the owner of Moodle's tables"});
    }
    return out;
}

std::string render_findings(const std::vector<Finding>& findings) {
    std::string out;
    for (const Finding& f : findings) {
        constexpr const char* label[] = {"ok  ", "warn", "FAIL", "    "};
        std::string what = f.what;
        while (!what.empty() && (what.back() == '\n' || what.back() == ' ')) what.pop_back();
        out += fmt::format("{} {}{}\n", label[f.level], what, f.fix.empty() ? "" : " -- fix: " + f.fix);
    }
    return out;
}

bool all_pass(const std::vector<Finding>& findings) {
    for (const Finding& f : findings)
        if (f.level == Finding::fail) return false;
    return true;
}

}  // namespace txtpush
