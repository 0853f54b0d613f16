// Decoding of the gateway's form post (application/x-www-form-urlencoded).
#pragma once

#include <string>
#include <string_view>

#include "result.hpp"

namespace txtpush {

// The three fields of a push: push username, push password, XML document.
struct PushForm {
    std::string u;
    std::string p;
    std::string x;
};

// Percent-decodes one form component, `+` meaning space. Refuses a `%` that is
// not followed by two hex digits rather than guessing.
Result<std::string> percent_decode(std::string_view in);

// Decodes the body into u, p and x. A missing or repeated u/p/x is refused
// (400); other fields are ignored, as PHP's $_POST would.
Result<PushForm> decode_push_form(std::string_view body);

}  // namespace txtpush
