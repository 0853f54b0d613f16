#include "row_plan.hpp"

#include <stdexcept>

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <tuple>
#include <utility>

namespace txtpush {

const std::vector<ColumnWidth>& column_widths() {
    static const std::vector<ColumnWidth> all = {
        {"{prefix}block_moodletxt_status", "statusmessage", 100},
        {"{prefix}block_moodletxt_inbox", "source", 20},
        {"{prefix}block_moodletxt_inbox", "sourcefirstname", 50},
        {"{prefix}block_moodletxt_inbox", "sourcelastname", 50},
        {"{schema}.unrouted", "destination", 255},
        {"{schema}.unrouted", "destinationaccount", 255},
    };
    return all;
}

namespace {

size_t width_of(std::string_view column) {
    for (const ColumnWidth& w : column_widths())
        if (w.column == column) return w.chars;
    throw std::logic_error("no width for column " + std::string(column));  // a bug: every call names a listed one
}

}  // namespace

std::string Flags::fit(std::string_view value, int64_t ticket, std::string_view kind, std::string_view column) {
    std::string out = truncate_utf8(value, width_of(column));
    if (out.size() != value.size()) {
        ++truncated_;
        add(ticket, kind, fmt::format("truncated_{}", column), value);
    }
    return out;
}

JsonRows status_rows(const Push& push, int64_t now, Flags& flags, size_t& distinct) {
    // Key order: concurrent pushes take the ledger's row locks in one order.
    std::map<std::pair<int64_t, int>, const StatusUpdate*> by_key;
    for (const StatusUpdate& s : push.statuses) by_key.emplace(std::make_pair(s.ticket, s.status), &s);
    distinct = by_key.size();
    JsonRows rows;
    for (const auto& [key, s] : by_key)
        rows.row()
            .field("ticketnumber", s->ticket)
            .field("status", int64_t{s->status})
            .field("statusmessage", flags.fit(s->message, s->ticket, "status", "statusmessage"))
            .field("updatetime", now);
    return rows;
}

JsonRows inbox_rows(std::vector<InboxRow> routed, Flags& flags) {
    std::sort(routed.begin(), routed.end(),
              [](const InboxRow& a, const InboxRow& b) { return std::tie(a.ticket, a.userid) < std::tie(b.ticket, b.userid); });
    JsonRows rows;
    for (const InboxRow& r : routed)
        rows.row()
            .field("userid", r.userid)
            .field("ticket", r.ticket)
            .field("messagetext", r.messagetext)
            .field("source", flags.fit(r.source, r.ticket, "inbound", "source"))
            .field("firstname", flags.fit(r.firstname, r.ticket, "inbound", "sourcefirstname"))
            .field("lastname", flags.fit(r.lastname, r.ticket, "inbound", "sourcelastname"))
            .field("timereceived", r.timereceived)
            .field("sender_user", r.sender_user)
            .field("contact", r.contact)
            .field("account", r.account);
    return rows;
}

JsonRows unrouted_rows(const std::vector<UnroutedRow>& routed, int64_t now, Flags& flags) {
    JsonRows rows;
    for (const UnroutedRow& u : routed)
        rows.row()
            .field("ticket", u.sms->ticket)
            .field("messagetext", u.sms->text)
            .field("source", u.source)  // kept whole: TEXT
            .field("destination",
                   flags.fit(u.sms->destination, u.sms->ticket, "inbound", "destination"))
            .field("destinationaccount",
                   flags.fit(u.sms->account, u.sms->ticket, "inbound", "destinationaccount"))
            .field("timereceived", u.sms->date)
            .field("reason", u.reason)
            .field("timestored", now);
    return rows;
}

}  // namespace txtpush
