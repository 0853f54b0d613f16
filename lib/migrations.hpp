// The schema as numbered migrations (sql/migrations/NNN_name.sql, built into
// the binary), applied in order, each once, recorded in
// {prefix}txtpush_schema_version.
#pragma once

#include <pqxx/pqxx>

#include <string>
#include <string_view>
#include <vector>

#include "log.hpp"
#include "result.hpp"

namespace txtpush {

struct Migration {
    int version;
    std::string_view name;
    std::string_view sql;  // with {prefix} placeholders
};

// Generated at build time from sql/migrations/.
const std::vector<Migration>& builtin_migrations();

// The SQL of a migration with {prefix} replaced.
std::string migration_sql(const Migration& m, std::string_view prefix);

// Applies the missing migrations; returns how many were applied.
Result<int> migrate(pqxx::connection& conn, std::string_view prefix, const Log& log);

// The highest applied version, 0 when none was.
Result<int> schema_version(pqxx::connection& conn, std::string_view prefix);

}  // namespace txtpush
