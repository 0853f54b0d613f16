// The SQL txtpushd runs, by name, and how a connection runs it.
#pragma once

#include <pqxx/pqxx>

#include <map>
#include <string_view>
#include <string>
#include <utility>
#include <vector>

#include "db_names.hpp"

namespace txtpush {

// The settings every session of txtpushd runs with (name, value), and why:
// the store sets them per session (per transaction behind a pooler), `txtpushd
// sql` prints them, the bench's database ceilings and the PgBouncer test take
// them from there.
struct SessionSetting {
    std::string_view name, value, why;
};
const std::vector<SessionSetting>& session_settings();

// The statements a worker prepares, with the names applied (name, SQL):
// what `txtpushd sql` prints and the benchmark's database ceiling runs.
std::vector<std::pair<std::string, std::string>> prepared_statements(const DbNames& names);

// How a worker runs its statements: prepared once per connection, by name;
// or, behind a transaction pooler (PgBouncer's pool_mode = transaction, whose
// server connections change under the client), sent each time with their text
// as unnamed statements.
class Statements {
public:
    Statements(bool named, const DbNames& names) : named_(named) {
        for (auto& [name, sql] : prepared_statements(names)) sql_[name] = std::move(sql);
    }
    const std::map<std::string, std::string>& all() const { return sql_; }

    template <class... Args>
    pqxx::result run(pqxx::transaction_base& tx, const std::string& name, Args&&... args) const {
        if (named_) return tx.exec_prepared(name, std::forward<Args>(args)...);
        return tx.exec_params(sql_.at(name), std::forward<Args>(args)...);
    }

private:
    bool named_;
    std::map<std::string, std::string> sql_;
};

}  // namespace txtpush
