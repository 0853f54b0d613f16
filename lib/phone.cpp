#include "phone.hpp"

#include <phonenumbers/phonenumberutil.h>

#include "text.hpp"

namespace txtpush {

namespace {

std::string digits_of(std::string_view s) {
    std::string out;
    for (char c : s)
        if (c >= '0' && c <= '9') out += c;
    return out;
}

bool possible_number(const std::string& e164) {
    using i18n::phonenumbers::PhoneNumberUtil;
    const PhoneNumberUtil* util = PhoneNumberUtil::GetInstance();
    i18n::phonenumbers::PhoneNumber parsed;
    if (util->Parse(e164, "ZZ", &parsed) != PhoneNumberUtil::NO_PARSING_ERROR) return false;
    return util->IsPossibleNumber(parsed);
}

}  // namespace

std::string canonical_phone(std::string_view raw, const PhoneRules& rules) {
    std::string t = trim(raw);
    std::string digits = digits_of(t);
    if (digits.empty()) return {};
    if (t[0] == '+') return "+" + digits;
    if (digits.rfind("00", 0) == 0) return "+" + digits.substr(2);
    const std::string& np = rules.national_prefix;
    if (!np.empty() && digits.rfind(np, 0) == 0)
        return "+" + digits_of(rules.international_prefix) + digits.substr(np.size());
    return "+" + digits;
}

std::optional<std::string> moodletxt_source(std::string_view raw) {
    std::string kept;
    for (char c : raw)
        if (c == '+' || (c >= '0' && c <= '9')) kept += c;
    bool lost_plus = raw.size() >= 2 && raw[0] == ' ' && raw[1] >= '0' && raw[1] <= '9';
    if (lost_plus && kept[0] != '+') kept.insert(0, 1, '+');
    size_t digits = kept.size() - (kept.starts_with('+') ? 1 : 0);
    constexpr size_t kSourceChars = 20;  // block_moodletxt_inbox.source, VARCHAR(20)
    bool block_accepts = digits >= 5 && digits <= 20 && kept.find('+', 1) == std::string::npos;
    if (!block_accepts || kept.size() > kSourceChars) return std::nullopt;
    return kept;
}

void load_phone_metadata() { possible_number("+447700900123"); }

std::string phone_key(std::string_view number) {
    std::string digits = digits_of(number);
    return digits.size() > 8 ? digits.substr(digits.size() - 8) : digits;
}

PhoneNumber normalise_phone(std::string_view raw, const PhoneRules& rules) {
    std::string canonical = canonical_phone(raw, rules);
    if (!canonical.empty() && canonical.size() <= 21 && possible_number(canonical)) return {canonical, true};
    return {trim(raw), false};
}

PhoneNumber PhoneNormaliser::operator()(std::string_view raw, const PhoneRules& rules) {
    std::string canonical = canonical_phone(raw, rules);
    if (canonical.empty() || canonical.size() > 21) return {trim(raw), false};
    auto known = plausible_.find(canonical);
    bool plausible = known != plausible_.end() ? known->second : possible_number(canonical);
    if (known == plausible_.end()) {
        if (plausible_.size() >= kMaxRemembered) plausible_.clear();
        plausible_.emplace(canonical, plausible);
    }
    if (plausible) return {std::move(canonical), true};
    return {trim(raw), false};
}

}  // namespace txtpush
