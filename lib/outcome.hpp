// How a push request ended, in the handler's words; the metrics count each.
#pragma once

#include <string_view>

namespace txtpush {

// How a request ended; one counter each.
enum class Outcome : int {
    stored,
    spooled,
    method,
    too_large,
    content_type,
    form,
    auth,
    invalid_xml,
    store_failed,
    spool_failed,
    unavailable,       // the push credentials could not be read (database down, none known yet)
    disabled,          // push is not enabled in MoodleTxt's settings (not a failed login: fail2ban ignores it)
    misconfigured,     // the database is not what txtpush was migrated for
    kCount
};

std::string_view outcome_name(Outcome o);
bool is_refusal(Outcome o);

}  // namespace txtpush
