// Builds a JSON array of flat objects: the one parameter through which a
// whole push reaches PostgreSQL (read there with jsonb_to_recordset), since
// libpqxx 6 cannot bind arrays.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace txtpush {

class JsonRows {
public:
    JsonRows() { text_ = "["; }

    JsonRows& row();
    JsonRows& field(std::string_view name, std::string_view value);
    JsonRows& field(std::string_view name, int64_t value);
    JsonRows& field(std::string_view name, std::optional<int64_t> value);
    // A bare value, for arrays of scalars.
    JsonRows& value(std::string_view value);
    JsonRows& value(int64_t value);

    bool empty() const { return count_ == 0; }
    std::string str() const { return text_ + (row_open_ ? "}]" : "]"); }

private:
    void key(std::string_view name);
    void separate();
    std::string text_;
    size_t count_ = 0;
    bool row_open_ = false;
    bool first_field_ = true;
};

void append_json_string(std::string& out, std::string_view s);

// At most `max_chars` UTF-8 characters of `s` (VARCHAR(n) counts characters).
std::string truncate_utf8(std::string_view s, size_t max_chars);

}  // namespace txtpush
