// Inbound routing: which inboxes an SMS lands in, and who sent it.
// Pure logic over data the store has read (see inbound-routing rules in
// docs/design.md); no database access here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "phone.hpp"
#include "push_document.hpp"

namespace txtpush {

struct RoutingSettings {
    PhoneRules phone;
    std::string phone_column = "phone2";  // Phone_Number_Source: phone1 or phone2
    std::string unknown_name = "Unknown";
};

struct Account {
    int64_t id = 0;
    std::string username;  // as stored
    int64_t default_user = 0;
    bool default_user_exists = false;  // exists and is not deleted
    bool inbound_enabled = false;
};

struct Filter {
    int64_t id = 0;
    int64_t account = 0;
    bool keyword = true;    // else a phone-number filter
    std::string value;      // as stored
    std::vector<int64_t> users;  // from in_fil, live users only
};

struct MoodleUser {
    int64_t id = 0;
    std::string firstname, lastname;
    std::string phone;  // canonical form
};

struct Contact {
    int64_t id = 0;
    std::string firstname, lastname;
    std::string phone;  // canonical form
    bool global = false;
    int64_t owner = 0;
};

struct RoutingData {
    std::vector<Account> accounts;
    std::vector<Filter> filters;
    std::vector<MoodleUser> senders;   // users whose phone matches a sender in the push
    std::vector<Contact> contacts;     // contacts whose phone matches a sender in the push
};

struct InboxRow {
    int64_t userid = 0;
    int64_t ticket = 0;
    std::string messagetext;
    std::string source;
    std::string firstname, lastname;
    int64_t timereceived = 0;
    std::optional<int64_t> sender_user;  // -> block_moodletxt_in_u
    std::optional<int64_t> contact;      // -> block_moodletxt_in_ab
    std::string account;                 // the account's username, as stored (for the ledger)
};

struct UnroutedRow {
    const InboundSms* sms = nullptr;
    std::string source;  // as MoodleTxt stores it; a sender that is not a number, as received
    std::string reason;
};

// The reason of an SMS whose sender is not a phone number MoodleTxt can read
// (an alphanumeric sender id): kept unrouted for good, `reroute` leaves it.
inline constexpr std::string_view kSenderNotANumber = "sender_not_a_number";

struct Routed {
    std::vector<InboxRow> inbox;
    std::vector<UnroutedRow> unrouted;
    std::vector<const InboundSms*> implausible;  // sender number kept as received
};

// The keyword of a message: its first word, upper-cased (ASCII, as PHP's strtoupper).
std::string keyword_of(std::string_view text);

// `numbers[i]` is messages[i].phone normalised (the store computes them once per push).
Routed route(const std::vector<InboundSms>& messages, const std::vector<PhoneNumber>& numbers,
             const RoutingData& data, const RoutingSettings& settings);
// The same, normalising the numbers itself.
Routed route(const std::vector<InboundSms>& messages, const RoutingData& data, const RoutingSettings& settings);

}  // namespace txtpush
