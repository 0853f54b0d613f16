#include "form.hpp"

#include <fmt/format.h>

#include "text.hpp"

namespace txtpush {

Result<std::string> percent_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (c == '+') {
            out += ' ';
        } else if (c != '%') {
            out += c;
        } else {
            int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
            int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
            if (hi < 0 || lo < 0) return fail(ErrorKind::bad_input, fmt::format("malformed percent-encoding at offset {}", i));
            out += static_cast<char>(hi * 16 + lo);
            i += 2;
        }
    }
    return out;
}

static std::string* field_slot(PushForm& form, std::string_view name) {
    if (name == "u") return &form.u;
    if (name == "p") return &form.p;
    if (name == "x") return &form.x;
    return nullptr;
}

Result<PushForm> decode_push_form(std::string_view body) {
    PushForm form;
    bool seen[3] = {false, false, false};
    const std::string_view names = "upx";
    while (!body.empty()) {
        size_t amp = body.find('&');
        std::string_view pair = body.substr(0, amp);
        body = amp == std::string_view::npos ? std::string_view{} : body.substr(amp + 1);
        if (pair.empty()) continue;
        size_t eq = pair.find('=');
        auto name = percent_decode(pair.substr(0, eq));
        if (!name) return name.error();
        std::string* slot = field_slot(form, *name);
        if (slot == nullptr) continue;
        size_t idx = names.find((*name)[0]);
        if (seen[idx]) return fail(ErrorKind::bad_input, fmt::format("form field '{}' given more than once", *name));
        seen[idx] = true;
        auto value = percent_decode(eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1));
        if (!value) return value.error();
        *slot = std::move(*value);
    }
    for (size_t i = 0; i < 3; ++i)
        if (!seen[i]) return fail(ErrorKind::bad_input, fmt::format("missing form field '{}'", names[i]));
    return form;
}

}  // namespace txtpush
