// Reading what routing needs for an inbound push: two round trips (the
// statements `inbound_reads` and `senders`), before the push's write.
#pragma once

#include <pqxx/pqxx>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "inbox_catch_up.hpp"
#include "phone.hpp"
#include "push_document.hpp"
#include "routing.hpp"
#include "store_statements.hpp"

namespace txtpush {

// What the first round trip of an inbound push returns.
struct InboundRead {
    RoutingSettings settings;
    bool directory_stale = false;
    CatchUpRead catch_up;  // for the cursor, once the reads are committed
    std::vector<Account> accounts;
    std::vector<Filter> filters;  // by id; users in id order
};

// The first round trip: the inbox catch-up from `cursor`, the plugin's
// settings, the directory's freshness, the accounts the messages name and
// their filters.
InboundRead read_inbound(const Statements& st, pqxx::transaction_base& tx, const InboxCursor& cursor,
                         const std::vector<InboundSms>& messages, const std::string& unknown_name);

// The lookup keys of the push's plausible senders.
std::set<std::string> sender_keys(const std::vector<PhoneNumber>& numbers);

// The second: the users and contacts whose number has one of the keys, in id order.
void read_senders(const Statements& st, pqxx::transaction_base& tx, const std::set<std::string>& keys,
                  const RoutingSettings& s, RoutingData& data);

}  // namespace txtpush
