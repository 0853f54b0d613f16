#include "test_databases.hpp"

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <pqxx/pqxx>

#include "test_support.hpp"

namespace txtpush::test {

std::string conninfo_of(std::string_view db, std::string_view user) {
    std::string base = stack_conninfo();  // host=... port=... dbname=txtpush user=postgres
    base = base.substr(0, base.find(" dbname="));
    return fmt::format("{} dbname={} user={}", base, db, user);
}

void recreate_database(std::string_view db) {
    pqxx::connection admin(stack_conninfo());
    pqxx::nontransaction tx(admin);
    tx.exec(fmt::format("DROP DATABASE IF EXISTS {} WITH (FORCE)", db));
    tx.exec(fmt::format("CREATE DATABASE {}", db));
}

void run_sql_file(std::string_view db, const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::ostringstream sql;
    sql << in.rdbuf();
    pqxx::connection conn(conninfo_of(db));
    pqxx::nontransaction tx(conn);
    tx.exec(sql.str());
}

void exec_sql(pqxx::connection& conn, const std::string& sql) {
    pqxx::work txn(conn);
    txn.exec(sql);
    txn.commit();
}

int64_t query_number(pqxx::connection& conn, const std::string& query) {
    pqxx::work txn(conn);
    return txn.exec(query)[0][0].as<int64_t>();
}

std::string moodle_schema_path() { return TXTPUSH_MOODLE_SCHEMA; }

std::string moodle_objects_dump(std::string_view db, std::string_view txtpush_schema) {
    std::string command = fmt::format("pg_dump --schema-only --exclude-schema={} '{}'", txtpush_schema, conninfo_of(db));
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
    if (!pipe) throw std::runtime_error("cannot run " + command);
    std::string out;
    char buf[65536];
    for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe.get())) > 0;) out.append(buf, n);
    if (out.find("CREATE TABLE") == std::string::npos) throw std::runtime_error("pg_dump printed no table: " + command);
    // pg_dump 15.14+ guards its output with a random \restrict key: not part of the schema.
    std::string kept;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
        if (!line.starts_with("\\restrict ") && !line.starts_with("\\unrestrict ")) kept += line + "\n";
    return kept;
}

}  // namespace txtpush::test
