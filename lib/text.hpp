// Small text helpers shared across lib/.
#pragma once

#include <string>
#include <string_view>

namespace txtpush {

// Without leading and trailing spaces, tabs and line breaks.
std::string trim(std::string_view s);

// Every `from` in `text` replaced by `to`.
std::string replace_all(std::string_view text, std::string_view from, std::string_view to);

// The value of one hex digit, -1 for any other character.
int hex_value(char c);

}  // namespace txtpush
