#include "routing.hpp"

#include <algorithm>
#include <set>

#include "text.hpp"

namespace txtpush {

namespace {

std::string upper(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return out;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

const Account* find_account(const RoutingData& data, std::string_view name) {
    const Account* found = nullptr;
    std::string wanted = lower(name);
    for (const Account& a : data.accounts)
        if (lower(a.username) == wanted && (found == nullptr || a.id < found->id)) found = &a;
    return found;
}

std::optional<std::string> unroutable_reason(const Account* account) {
    if (account == nullptr) return "unknown account";
    if (!account->inbound_enabled) return "inbound disabled for account";
    if (!account->default_user_exists) return "default user does not exist";
    return std::nullopt;
}

std::vector<int64_t> receiving_users(const InboundSms& sms, const std::string& sender, const Account& account,
                                     const RoutingData& data, const RoutingSettings& settings) {
    std::set<int64_t> users;
    std::string keyword = keyword_of(sms.text);
    for (const Filter& f : data.filters) {
        if (f.account != account.id) continue;
        bool match = f.keyword ? (!keyword.empty() && upper(f.value) == keyword)
                               : (!sender.empty() && canonical_phone(f.value, settings.phone) == sender);
        if (match) users.insert(f.users.begin(), f.users.end());
    }
    if (users.empty()) users.insert(account.default_user);
    return {users.begin(), users.end()};
}

struct Sender {
    std::string firstname, lastname;
    std::optional<int64_t> user, contact;
};

Sender identify(const std::string& phone, const std::vector<int64_t>& receivers, const RoutingData& data,
                const RoutingSettings& settings) {
    for (const MoodleUser& u : data.senders)  // ordered by id
        if (u.phone == phone) return {u.firstname, u.lastname, u.id, std::nullopt};
    for (const Contact& c : data.contacts) {
        bool visible = c.global || std::find(receivers.begin(), receivers.end(), c.owner) != receivers.end();
        if (c.phone == phone && visible) return {c.firstname, c.lastname, std::nullopt, c.id};
    }
    return {settings.unknown_name, settings.unknown_name, std::nullopt, std::nullopt};
}

}  // namespace

std::string keyword_of(std::string_view text) {
    size_t start = text.find_first_not_of(" \t\r\n");
    if (start == std::string_view::npos) return {};
    size_t end = text.find_first_of(" \t\r\n", start);
    return upper(text.substr(start, end == std::string_view::npos ? end : end - start));
}

Routed route(const std::vector<InboundSms>& messages, const RoutingData& data, const RoutingSettings& settings) {
    std::vector<PhoneNumber> numbers;
    for (const InboundSms& sms : messages) numbers.push_back(normalise_phone(sms.phone, settings.phone));
    return route(messages, numbers, data, settings);
}

Routed route(const std::vector<InboundSms>& messages, const std::vector<PhoneNumber>& numbers,
             const RoutingData& data, const RoutingSettings& settings) {
    Routed out;
    std::set<std::pair<int64_t, int64_t>> seen;  // (ticket, user): a push may repeat a message
    for (size_t i = 0; i < messages.size(); ++i) {
        const InboundSms& sms = messages[i];
        const PhoneNumber& number = numbers[i];
        // A sender the block cannot read back never becomes an inbox row.
        std::optional<std::string> source = moodletxt_source(sms.phone);
        if (!source) {
            out.unrouted.push_back({&sms, trim(sms.phone), std::string(kSenderNotANumber)});
            continue;
        }
        if (!number.plausible) out.implausible.push_back(&sms);
        const Account* account = find_account(data, sms.account);
        if (auto reason = unroutable_reason(account)) {
            out.unrouted.push_back({&sms, *source, *reason});
            continue;
        }
        std::string match_phone = number.plausible ? number.value : std::string{};
        auto receivers = receiving_users(sms, match_phone, *account, data, settings);
        Sender sender = match_phone.empty() ? Sender{settings.unknown_name, settings.unknown_name, {}, {}}
                                            : identify(match_phone, receivers, data, settings);
        for (int64_t user : receivers) {
            if (!seen.insert({sms.ticket, user}).second) continue;
            out.inbox.push_back({user, sms.ticket, sms.text, *source, sender.firstname, sender.lastname,
                                 sms.date, sender.user, sender.contact, account->username});
        }
    }
    return out;
}

}  // namespace txtpush
