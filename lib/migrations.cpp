#include "migrations.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "text.hpp"

namespace txtpush {

namespace {

// Indexes txtpush 0.1 added to Moodle's tables (without prefix). Moodle's own
// confplug_plunam_uix, which 0.1 also named, is not among them.
constexpr std::string_view kLegacyIndexes[] = {
    "block_moodletxt_inbox_userid_ix", "block_moodletxt_inbox_ticket_userid_uix",
    "block_moodletxt_accounts_username_uix", "block_moodletxt_accounts_defaultuser_ix",
    "block_moodletxt_accounts_lower_username_ix", "block_moodletxt_stats_userid_ix",
    "block_moodletxt_stats_txttoolsaccount_ix", "block_moodletxt_outbox_userid_ix",
    "block_moodletxt_outbox_txttoolsaccount_ix", "block_moodletxt_sent_messageid_ix",
    "block_moodletxt_sent_ticketnumber_uix", "block_moodletxt_status_ticketnumber_ix",
    "block_moodletxt_status_ticketnumber_status_uix", "block_moodletxt_templ_userid_ix",
    "block_moodletxt_uconfig_userid_ix", "block_moodletxt_filter_account_ix", "block_moodletxt_in_fil_filter_ix",
    "block_moodletxt_in_fil_userid_ix", "block_moodletxt_ab_owner_ix", "block_moodletxt_ab_entry_addressbook_ix",
    "block_moodletxt_ab_u_addressbook_ix", "block_moodletxt_ab_u_userid_ix",
    "block_moodletxt_ab_group_addressbook_ix", "block_moodletxt_ab_grpmem_contact_ix",
    "block_moodletxt_ab_grpmem_groupid_ix", "block_moodletxt_in_ab_contact_ix",
    "block_moodletxt_in_ab_receivedmessage_uix", "block_moodletxt_in_u_userid_ix",
    "block_moodletxt_in_u_receivedmessage_uix", "block_moodletxt_sent_ab_contact_ix",
    "block_moodletxt_sent_ab_sentmessage_ix", "block_moodletxt_sent_u_userid_ix",
    "block_moodletxt_sent_u_sentmessage_ix", "block_moodletxt_restrict_txttoolsaccount_ix",
    "block_moodletxt_restrict_moodleuser_ix", "block_moodletxt_tags_userid_ix", "user_txtpush_phone1_ix",
    "user_txtpush_phone2_ix", "block_moodletxt_ab_entry_txtpush_phone_ix",
};

}  // namespace

// txtpush's own tables; uninstall refuses a schema holding anything else.
const std::set<std::string>& own_tables() {
    static const std::set<std::string> all = {"schema_version",        "status_ledger", "inbound_ledger",
                                              "unrouted",              "flags",         "phone_directory",
                                              "phone_directory_state", "inbox_watch",   "phone_directory_buckets"};
    return all;
}

namespace {

struct MoodleTable {
    std::string name;                  // without prefix
    std::string create;                // the whole block: table, comment, indexes
    std::vector<std::string> indexes;  // index name (with {prefix}) -> its CREATE statement, in pairs
};

// The blocks of sql/moodle/moodle_tables.sql, one per "-- table: NAME".
std::vector<MoodleTable> moodle_table_blocks() {
    constexpr std::string_view marker = "\n-- table: ";
    std::string_view sql = builtin_moodle_tables();
    std::vector<MoodleTable> out;
    for (size_t at = sql.find(marker); at != std::string_view::npos;) {
        size_t name_end = sql.find('\n', at + 1);
        size_t next = sql.find(marker, name_end);
        MoodleTable t;
        t.name = std::string(sql.substr(at + marker.size(), name_end - at - marker.size()));
        t.create = std::string(sql.substr(name_end + 1, next == std::string_view::npos ? next : next - name_end - 1));
        for (std::string_view rest = t.create; !rest.empty();) {
            size_t eol = rest.find('\n');
            std::string_view line = rest.substr(0, eol);
            rest = eol == std::string_view::npos ? std::string_view{} : rest.substr(eol + 1);
            if (!line.starts_with("CREATE INDEX ") && !line.starts_with("CREATE UNIQUE INDEX ")) continue;
            size_t name_at = line.find("INDEX ") + 6;
            t.indexes.emplace_back(line.substr(name_at, line.find(' ', name_at) - name_at));
            t.indexes.emplace_back(line);
        }
        out.push_back(std::move(t));
        at = next;
    }
    return out;
}

bool relation_exists(pqxx::transaction_base& txn, const std::string& name) {
    return txn.exec_params1("SELECT to_regclass($1) IS NOT NULL", name)[0].as<bool>();
}

std::string version_table(const DbNames& n) { return n.schema + ".schema_version"; }

// A standalone mirror gets the tables Moodle would have. In a real Moodle
// database (its user table exists) nothing is created: MoodleTxt's tables
// missing there mean the block is not installed, or not fully, and creating
// them would make its own install or upgrade fail.
void plan_mirror(pqxx::transaction_base& txn, const DbNames& n, std::vector<MigrationStep>& steps) {
    std::vector<std::string> missing;
    for (const MoodleTable& t : moodle_table_blocks())
        if (!relation_exists(txn, n.prefix + t.name)) missing.push_back(t.name);
    if (missing.empty()) return;
    bool moodle = relation_exists(txn, n.prefix + "user") && relation_exists(txn, n.prefix + "config_plugins");
    if (moodle)
        throw std::runtime_error(fmt::format(
            "this is a Moodle database without MoodleTxt's table {}{}: install or upgrade the MoodleTxt block "
            "first (txtpush creates Moodle's tables only in an empty database)",
            n.prefix, missing.front()));
    for (const MoodleTable& t : moodle_table_blocks())
        if (std::find(missing.begin(), missing.end(), t.name) != missing.end())
            steps.push_back({fmt::format("create {}{} as Moodle's XMLDB does (not there: standalone mirror)",
                                         n.prefix, t.name),
                             with_names(t.create, n)});
}

void plan_own_schema(pqxx::transaction_base& txn, const DbNames& n, std::vector<MigrationStep>& steps) {
    std::set<int> applied;
    if (relation_exists(txn, version_table(n))) {
        for (const auto& row : txn.exec("SELECT version FROM " + version_table(n))) applied.insert(row[0].as<int>());
    } else {
        steps.push_back({fmt::format("create schema {} (txtpush's own objects)", n.schema),
                         fmt::format("CREATE SCHEMA IF NOT EXISTS {0};\nCREATE TABLE {1} (version INTEGER PRIMARY "
                                     "KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now());",
                                     n.schema, version_table(n))});
    }
    for (const Migration& m : builtin_migrations()) {
        if (applied.count(m.version)) continue;
        steps.push_back({fmt::format("apply migration {} ({}) in schema {}", m.version, m.name, n.schema),
                         with_names(m.sql, n) + fmt::format("\nINSERT INTO {} (version, name) VALUES ({}, '{}');",
                                                            version_table(n), m.version, m.name)});
    }
}

// A database migrated by txtpush 0.1 kept its objects under Moodle's prefix.
void plan_legacy_cleanup(pqxx::transaction_base& txn, const DbNames& n, std::vector<MigrationStep>& steps) {
    const std::string p = n.prefix;
    if (!relation_exists(txn, p + "txtpush_schema_version")) return;
    if (relation_exists(txn, p + "txtpush_unrouted"))
        steps.push_back({fmt::format("move {}txtpush_unrouted into {}.unrouted", p, n.schema),
                         fmt::format("INSERT INTO {1}.unrouted (ticket, messagetext, source, destination, "
                                     "destinationaccount, timereceived, reason, timestored, routed)\n"
                                     "SELECT ticket, messagetext, source, destination, destinationaccount, "
                                     "timereceived, reason, timestored, routed FROM {0}txtpush_unrouted ORDER BY id\n"
                                     "ON CONFLICT (ticket) DO NOTHING;\nDROP TABLE {0}txtpush_unrouted;",
                                     p, n.schema)});
    if (relation_exists(txn, p + "txtpush_flags"))
        steps.push_back({fmt::format("move {}txtpush_flags into {}.flags", p, n.schema),
                         fmt::format("INSERT INTO {1}.flags (ticket, kind, flag, original, timestored)\n"
                                     "SELECT ticket, kind, flag, original, timestored FROM {0}txtpush_flags ORDER BY "
                                     "id\nON CONFLICT (ticket, kind, flag) DO NOTHING;\nDROP TABLE {0}txtpush_flags;",
                                     p, n.schema)});
    std::string drops = fmt::format("DROP VIEW IF EXISTS {}txtpush_latest_status;\n", p);
    for (std::string_view index : kLegacyIndexes)
        if (relation_exists(txn, p + std::string(index))) drops += fmt::format("DROP INDEX {}{};\n", p, index);
    drops += fmt::format("DROP FUNCTION IF EXISTS {0}txtpush_phone_key(text);\n"
                         "DROP FUNCTION IF EXISTS {0}txtpush_phone(text, text, text);\n"
                         "DROP TABLE {0}txtpush_schema_version;",
                         p);
    steps.push_back({"drop what txtpush 0.1 added under Moodle's prefix (indexes, view, functions)", drops});
    // A mirror made by 0.1 had its indexes under 0.1's names: give MoodleTxt's
    // tables Moodle's. Only tables 0.1 created (their primary key is named
    // NAME_pkey, Moodle's NAME_id_pk); 0.1's user and config_plugins stand-ins
    // stay as they are.
    std::string restore;
    for (const MoodleTable& t : moodle_table_blocks()) {
        bool made_by_01 = t.name.starts_with("block_moodletxt_") && relation_exists(txn, p + t.name + "_pkey");
        for (size_t i = 0; made_by_01 && i < t.indexes.size(); i += 2)
            if (!relation_exists(txn, with_names(t.indexes[i], n))) restore += with_names(t.indexes[i + 1], n) + "\n";
    }
    if (!restore.empty()) steps.push_back({"give a mirror made by txtpush 0.1 Moodle's own indexes", restore});
}

std::vector<MigrationStep> plan(pqxx::transaction_base& txn, const DbNames& n) {
    std::vector<MigrationStep> steps;
    plan_mirror(txn, n, steps);
    plan_own_schema(txn, n, steps);
    plan_legacy_cleanup(txn, n, steps);
    return steps;
}

}  // namespace

Result<std::vector<MigrationStep>> plan_migration(pqxx::connection& conn, const DbNames& names) {
    try {
        pqxx::read_transaction txn(conn);
        return plan(txn, names);
    } catch (const std::exception& e) {
        return fail(ErrorKind::transient, fmt::format("cannot plan the migration: {}", e.what()));
    }
}

Result<int> migrate(pqxx::connection& conn, const DbNames& names, const Log& log) {
    try {
        pqxx::work txn(conn);
        // One migrator at a time, whoever else runs it.
        txn.exec("SELECT pg_advisory_xact_lock(hashtext('txtpush_migrate'))");
        auto steps = plan(txn, names);
        for (const MigrationStep& step : steps) {
            txn.exec(step.sql);
            log.info("migration_step", {{"what", step.what}});
        }
        txn.commit();
        return static_cast<int>(steps.size());
    } catch (const std::exception& e) {
        return fail(ErrorKind::permanent, fmt::format("migration failed: {}", e.what()));
    }
}

Result<int> schema_version(pqxx::connection& conn, const DbNames& names) {
    try {
        pqxx::read_transaction txn(conn);
        if (!relation_exists(txn, version_table(names))) return 0;
        return txn.exec("SELECT coalesce(max(version), 0) FROM " + version_table(names))[0][0].as<int>();
    } catch (const std::exception& e) {
        return fail(ErrorKind::transient, fmt::format("cannot read schema version: {}", e.what()));
    }
}

Result<bool> uninstall(pqxx::connection& conn, const DbNames& names) {
    try {
        pqxx::work txn(conn);
        if (!relation_exists(txn, version_table(names))) return false;
        // DROP SCHEMA ... CASCADE must never take anything that is not ours.
        auto foreign = txn.exec_params(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace "
            "WHERE s.nspname = $1 AND c.relkind IN ('r', 'v', 'm', 'p', 'f')",
            names.schema);
        for (const auto& row : foreign)
            if (!own_tables().count(row[0].as<std::string>()))
                return fail(ErrorKind::permanent,
                            fmt::format("schema {} holds {}, which is not txtpush's: nothing dropped", names.schema,
                                        row[0].as<std::string>()));
        // Nor anything outside it that uses txtpush's objects (a DBA's view or
        // index over txtpush.phone_key, say), which CASCADE would drop too.
        auto dependents = txn.exec_params(R"(
SELECT pg_describe_object(d.classid, d.objid, d.objsubid)
FROM pg_depend d
LEFT JOIN pg_class c ON d.classid = 'pg_class'::regclass AND c.oid = d.objid
LEFT JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND r.oid = d.objid
LEFT JOIN pg_class v ON v.oid = r.ev_class
LEFT JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND p.oid = d.objid
WHERE d.deptype = 'n'
  AND d.refobjid IN (SELECT c2.oid FROM pg_class c2 JOIN pg_namespace s ON s.oid = c2.relnamespace WHERE s.nspname = $1
                     UNION ALL
                     SELECT p2.oid FROM pg_proc p2 JOIN pg_namespace s ON s.oid = p2.pronamespace WHERE s.nspname = $1)
  AND coalesce(c.relnamespace, v.relnamespace, p.pronamespace) <> (SELECT oid FROM pg_namespace WHERE nspname = $1)
LIMIT 1)",
                                          names.schema);
        if (!dependents.empty())
            return fail(ErrorKind::permanent,
                        fmt::format("{} depends on schema {}: drop it first; nothing dropped",
                                    dependents[0][0].as<std::string>(), names.schema));
        txn.exec("DROP SCHEMA " + names.schema + " CASCADE");
        txn.commit();
        return true;
    } catch (const std::exception& e) {
        return fail(ErrorKind::transient, fmt::format("uninstall failed: {}", e.what()));
    }
}

}  // namespace txtpush
