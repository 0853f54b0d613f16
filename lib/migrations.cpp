#include "migrations.hpp"

#include <fmt/format.h>

#include "text.hpp"

namespace txtpush {

std::string migration_sql(const Migration& m, std::string_view prefix) { return replace_all(m.sql, "{prefix}", prefix); }

static std::string version_table(std::string_view prefix) {
    return fmt::format("{}txtpush_schema_version", prefix);
}

Result<int> migrate(pqxx::connection& conn, std::string_view prefix, const Log& log) {
    try {
        pqxx::work txn(conn);
        // One migrator at a time, whoever else runs it.
        txn.exec("SELECT pg_advisory_xact_lock(hashtext('txtpush_migrate'))");
        txn.exec(fmt::format("CREATE TABLE IF NOT EXISTS {} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                             "applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                             version_table(prefix)));
        int applied = 0;
        for (const Migration& m : builtin_migrations()) {
            auto done = txn.exec(fmt::format("SELECT 1 FROM {} WHERE version = {}", version_table(prefix), m.version));
            if (!done.empty()) continue;
            txn.exec(migration_sql(m, prefix));
            txn.exec(fmt::format("INSERT INTO {} (version, name) VALUES ({}, {})", version_table(prefix), m.version,
                                 txn.quote(std::string(m.name))));
            log.info("migration_applied", {{"version", std::to_string(m.version)}, {"name", m.name}});
            ++applied;
        }
        txn.commit();
        return applied;
    } catch (const std::exception& e) {
        return fail(500, fmt::format("migration failed: {}", e.what()));
    }
}

Result<int> schema_version(pqxx::connection& conn, std::string_view prefix) {
    try {
        pqxx::read_transaction txn(conn);
        auto exists = txn.exec(fmt::format("SELECT to_regclass({}) IS NOT NULL", txn.quote(version_table(prefix))));
        if (!exists[0][0].as<bool>()) return 0;
        auto r = txn.exec(fmt::format("SELECT coalesce(max(version), 0) FROM {}", version_table(prefix)));
        return r[0][0].as<int>();
    } catch (const std::exception& e) {
        return fail(503, fmt::format("cannot read schema version: {}", e.what()));
    }
}

}  // namespace txtpush
