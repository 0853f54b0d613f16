// Planning the rows of a push: the JSON arrays the write statement takes,
// values cut to their Moodle columns, and the flags that say so.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "json_rows.hpp"
#include "push_document.hpp"
#include "routing.hpp"

namespace txtpush {

// The columns txtpush writes text into that have a width (VARCHAR(n), in
// characters): Moodle's as its DDL has them, txtpush's as the migrations
// do. Longer values are cut and flagged. One list: integration test
// DropIn.TheColumnWidthsAreTheDatabases checks each against a database
// Moodle created and migrate completed.
struct ColumnWidth {
    std::string_view table;   // as the SQL names it: {prefix}... or {schema}....
    std::string_view column;  // unique in this list
    size_t chars;
};
const std::vector<ColumnWidth>& column_widths();

// Values stored otherwise than received, written to txtpush_flags.
class Flags {
public:
    explicit Flags(int64_t now) : now_(now) {}

    void add(int64_t ticket, std::string_view kind, std::string_view flag, std::string_view original) {
        rows_.row()
            .field("ticket", ticket)
            .field("kind", kind)
            .field("flag", flag)
            .field("original", original)
            .field("timestored", now_);
    }

    // The value cut to its column's width (column_widths()); a cut is
    // flagged as truncated_<column>.
    std::string fit(std::string_view value, int64_t ticket, std::string_view kind, std::string_view column);

    const JsonRows& rows() const { return rows_; }
    size_t truncated() const { return truncated_; }

private:
    JsonRows rows_;
    int64_t now_;
    size_t truncated_ = 0;
};

// The push's status updates, one per (ticket, status), in key order;
// `distinct` is how many.
JsonRows status_rows(const Push& push, int64_t now, Flags& flags, size_t& distinct);
// Inbox rows in key order (ticket, user): concurrent pushes lock ledger rows in one order.
JsonRows inbox_rows(std::vector<InboxRow> routed, Flags& flags);
JsonRows unrouted_rows(const std::vector<UnroutedRow>& routed, int64_t now, Flags& flags);

}  // namespace txtpush
