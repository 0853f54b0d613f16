// libFuzzer target: form decoding of arbitrary request bodies.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "form.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view body(reinterpret_cast<const char*>(data), size);
    auto form = txtpush::decode_push_form(body);
    if (form) {
        // A decoded value never grows: each byte or escape gives at most one byte.
        if (form->u.size() + form->p.size() + form->x.size() > size) __builtin_trap();
    }
    auto single = txtpush::percent_decode(body);
    if (single && single->size() > size) __builtin_trap();
    return 0;
}
