#include "json_rows.hpp"

#include <fmt/format.h>

namespace txtpush {

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20) {
            out += fmt::format("\\u{:04x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
}

std::string truncate_utf8(std::string_view s, size_t max_chars) {
    size_t chars = 0;
    for (size_t i = 0; i < s.size(); ++i) {
        bool starts_char = (static_cast<unsigned char>(s[i]) & 0xC0) != 0x80;
        if (starts_char && chars++ == max_chars) return std::string(s.substr(0, i));
    }
    return std::string(s);
}

void JsonRows::separate() {
    if (row_open_) text_ += '}';
    if (count_ > 0) text_ += ',';
    ++count_;
}

JsonRows& JsonRows::row() {
    separate();
    text_ += '{';
    row_open_ = true;
    first_field_ = true;
    return *this;
}

void JsonRows::key(std::string_view name) {
    if (!first_field_) text_ += ',';
    first_field_ = false;
    append_json_string(text_, name);
    text_ += ':';
}

JsonRows& JsonRows::field(std::string_view name, std::string_view value) {
    key(name);
    append_json_string(text_, value);
    return *this;
}

JsonRows& JsonRows::field(std::string_view name, int64_t value) {
    key(name);
    text_ += std::to_string(value);
    return *this;
}

JsonRows& JsonRows::field(std::string_view name, std::optional<int64_t> value) {
    key(name);
    text_ += value ? std::to_string(*value) : "null";
    return *this;
}

JsonRows& JsonRows::value(std::string_view v) {
    separate();
    row_open_ = false;
    append_json_string(text_, v);
    return *this;
}

JsonRows& JsonRows::value(int64_t v) {
    separate();
    row_open_ = false;
    text_ += std::to_string(v);
    return *this;
}

}  // namespace txtpush
