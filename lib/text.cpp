#include "text.hpp"

namespace txtpush {

std::string trim(std::string_view s) {
    constexpr std::string_view ws = " \t\r\n";
    size_t first = s.find_first_not_of(ws);
    if (first == std::string_view::npos) return {};
    size_t last = s.find_last_not_of(ws);
    return std::string(s.substr(first, last - first + 1));
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
    std::string out;
    for (size_t at; (at = text.find(from)) != std::string_view::npos;) {
        out.append(text.substr(0, at));
        out.append(to);
        text.remove_prefix(at + from.size());
    }
    out.append(text);
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace txtpush
