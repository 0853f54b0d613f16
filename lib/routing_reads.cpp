#include "routing_reads.hpp"

#include <algorithm>
#include <map>
#include <utility>

#include "json_rows.hpp"

namespace txtpush {

InboundRead read_inbound(const Statements& st, pqxx::transaction_base& tx, const InboxCursor& cursor,
                         const std::vector<InboundSms>& messages, const std::string& unknown_name) {
    std::set<std::string> names;
    for (const InboundSms& m : messages) names.insert(m.account);
    JsonRows name_list;
    for (const auto& n : names) name_list.value(n);

    InboundRead out;
    RoutingSettings& s = out.settings;
    s.unknown_name = unknown_name;
    std::map<int64_t, Filter> filters;
    for (const auto& row :
         st.run(tx, "inbound_reads", cursor.top(), cursor.gap_firsts(), cursor.gap_lasts(), name_list.str())) {
        const std::string kind = row[0].as<std::string>();
        if (kind == "setting") {
            std::string name = row[1].as<std::string>(), value = row[2].as<std::string>();
            if (name == "Phone_Number_Source" && (value == "phone1" || value == "phone2")) s.phone_column = value;
            else if (name == "Default_International_Prefix") s.phone.international_prefix = value;
            else if (name == "National_Prefix") s.phone.national_prefix = value;
        } else if (kind == "directory_stale") {
            out.directory_stale = row[1].as<bool>();
        } else if (kind == "inbox_read") {
            out.catch_up = {row[1].as<size_t>(), parse_id_array(row[2].c_str()), row[3].as<int64_t>(),
                            row[4].as<int64_t>(), row[5].as<int64_t>()};
        } else if (kind == "account") {
            out.accounts.push_back({row[1].as<int64_t>(), row[2].as<std::string>(), row[3].as<int64_t>(),
                                    row[4].as<bool>(), row[5].as<bool>()});
        } else if (kind == "filter") {
            int64_t id = row[1].as<int64_t>();
            Filter& f = filters.try_emplace(id, Filter{id, row[2].as<int64_t>(), row[3].as<bool>(),
                                                       row[4].as<std::string>(), {}}).first->second;
            f.users.push_back(row[5].as<int64_t>());
        }
    }
    for (auto& [id, f] : filters) {
        std::sort(f.users.begin(), f.users.end());
        out.filters.push_back(std::move(f));
    }
    return out;
}

std::set<std::string> sender_keys(const std::vector<PhoneNumber>& numbers) {
    std::set<std::string> keys;
    for (const PhoneNumber& n : numbers)
        if (n.plausible) keys.insert(phone_key(n.value));
    return keys;
}

void read_senders(const Statements& st, pqxx::transaction_base& tx, const std::set<std::string>& keys,
                  const RoutingSettings& s, RoutingData& data) {
    JsonRows key_list;
    for (const auto& k : keys) key_list.value(k);
    for (const auto& row : st.run(tx, "senders", key_list.str(), s.phone.international_prefix,
                                  s.phone.national_prefix, s.phone_column)) {
        if (row[0].as<std::string>() == "user")
            data.senders.push_back({row[1].as<int64_t>(), row[2].as<std::string>(), row[3].as<std::string>(),
                                    row[4].as<std::string>()});
        else
            data.contacts.push_back({row[1].as<int64_t>(), row[2].as<std::string>(), row[3].as<std::string>(),
                                     row[4].as<std::string>(), row[5].as<bool>(), row[6].as<int64_t>()});
    }
    auto by_id = [](const auto& a, const auto& b) { return a.id < b.id; };
    std::sort(data.senders.begin(), data.senders.end(), by_id);
    std::sort(data.contacts.begin(), data.contacts.end(), by_id);
}

}  // namespace txtpush
