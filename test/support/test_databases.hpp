// Databases of their own for the integration suites, in the test stack's
// PostgreSQL cluster: a standalone mirror (empty, then migrate) and a Moodle
// database as Moodle creates it (../shared/moodle-db/schema.sql).
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <string>
#include <string_view>

namespace txtpush::test {

// conninfo of database `db` in the stack's cluster, as `user`.
std::string conninfo_of(std::string_view db, std::string_view user = "postgres");

// Drops `db` if it exists (closing its connections) and creates it empty.
void recreate_database(std::string_view db);

// Runs a file of SQL statements in `db`, as the owner (postgres).
void run_sql_file(std::string_view db, const std::string& path);

// A Moodle 4.x database with MoodleTxt 3.0.5, prefix mdl_, as Moodle creates it.
std::string moodle_schema_path();

// `pg_dump --schema-only` of `db`, without txtpush's schema: Moodle's objects.
std::string moodle_objects_dump(std::string_view db, std::string_view txtpush_schema = "txtpush");

// Runs SQL in its own committed transaction.
void exec_sql(pqxx::connection& conn, const std::string& sql);
// The first column of the first row of a query, as a number.
int64_t query_number(pqxx::connection& conn, const std::string& query);

}  // namespace txtpush::test
