// What `txtpushd migrate`, `uninstall` and `grants` do to a database.
//
// Moodle's tables are someone else's. migrate creates txtpush's objects only
// in its own PostgreSQL schema (sql/migrations/NNN_name.sql, applied in
// order, each once, recorded in {schema}.schema_version). Under Moodle's
// prefix it creates only MoodleTxt/Moodle tables that do not exist, exactly
// as Moodle's XMLDB would (sql/moodle/moodle_tables.sql): the standalone
// mirror. A database migrated by txtpush 0.1 (objects under Moodle's prefix)
// is cleaned up: its indexes, view and functions dropped, its data moved.
#pragma once

#include <pqxx/pqxx>

#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "db_names.hpp"
#include "log.hpp"
#include "result.hpp"

namespace txtpush {

struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;  // with {prefix} and {schema} placeholders
};

// Generated at build time from sql/migrations/ and sql/moodle/.
const std::vector<Migration>& builtin_migrations();
std::string_view builtin_moodle_tables();

// One thing migrate does, in words and in SQL.
struct MigrationStep {
    std::string what;
    std::string sql;
};

// The steps migrate would take on this database now, in order (empty when
// it is up to date). `migrate --plan` prints them.
Result<std::vector<MigrationStep>> plan_migration(pqxx::connection& conn, const DbNames& names);

// Takes the planned steps in one transaction; returns how many were taken.
Result<int> migrate(pqxx::connection& conn, const DbNames& names, const Log& log);

// The highest applied version of txtpush's schema, 0 when none was.
Result<int> schema_version(pqxx::connection& conn, const DbNames& names);

// Drops txtpush's schema and everything in it; nothing of Moodle's.
Result<bool> uninstall(pqxx::connection& conn, const DbNames& names);

// txtpush's own tables, as the migrations create them (uninstall refuses a
// schema holding anything else; integration test DropIn.TheOwnTablesAreWhatTheMigrationsCreate).
const std::set<std::string>& own_tables();

}  // namespace txtpush
