// Phone numbers in one international form, so that `07700 900123`,
// `+44 7700 900123` and `447700900123` compare equal.
//
// The same rules run in PostgreSQL as {prefix}txtpush_phone() (sql/migrations)
// for numbers stored in Moodle's tables; keep the two in step.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <string_view>

namespace txtpush {

// From config_plugins (plugin moodletxt): Default_International_Prefix, National_Prefix.
struct PhoneRules {
    std::string international_prefix = "+44";
    std::string national_prefix = "0";
};

struct PhoneNumber {
    std::string value;       // E.164 ("+447700900123") when plausible, else as received
    bool plausible = false;  // libphonenumber finds it a possible number
};

// Rules: keep `+` and digits. `+...` stays; `00...` becomes `+...`; a number
// starting with the national prefix gets the international prefix instead;
// any other run of digits is taken as international that lost its `+`
// (form decoding turns an unencoded `+` into a space).
std::string canonical_phone(std::string_view raw, const PhoneRules& rules);

// The sender as MoodleTxt stores `source` and its pages read it back: only
// `+` and digits kept; a `+` lost to form decoding restored when the raw
// value, before any trimming, starts with a space and a digit; then the
// block's own rule, ^\+?\d{5,20}$, within the column's 20 characters.
// Nothing when the sender fails it (an alphanumeric sender id such as
// ACMEPOST): the block's inbox page throws on such a source. Matching uses
// canonical_phone, never this.
std::optional<std::string> moodletxt_source(std::string_view raw);

// The index key of a number: its last 8 digits ({prefix}txtpush_phone_key in SQL).
std::string phone_key(std::string_view number);

// Loads libphonenumber's metadata now. Called by the master before it forks,
// so that the workers share the parsed metadata instead of each building it.
void load_phone_metadata();

// canonical_phone() checked with libphonenumber; an implausible number is kept
// as received (trimmed), never dropped.
PhoneNumber normalise_phone(std::string_view raw, const PhoneRules& rules);

// normalise_phone() remembering what libphonenumber said of each number it
// saw (its regular expressions are most of a push's CPU otherwise). One per
// worker; bounded: forgets everything past kMaxRemembered numbers.
class PhoneNormaliser {
public:
    PhoneNumber operator()(std::string_view raw, const PhoneRules& rules);

private:
    static constexpr size_t kMaxRemembered = 50000;
    std::unordered_map<std::string, bool> plausible_;
};

}  // namespace txtpush
