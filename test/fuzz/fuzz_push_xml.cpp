// libFuzzer target: XML parsing and XSD validation, then extraction and
// routing of whatever passes, as a worker does with the field x.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "push_document.hpp"
#include "routing.hpp"
#include "xml_validator.hpp"

namespace {

txtpush::PushValidator& validator() {
    static txtpush::PushValidator v = [] {
        txtpush::harden_libxml2();
        auto compiled = txtpush::PushValidator::compile_builtin();
        if (!compiled) __builtin_trap();
        return std::move(*compiled);
    }();
    return v;
}

txtpush::RoutingData directory() {
    txtpush::RoutingData d;
    d.accounts = {{1, "CollegeSMS", 100, true, true}};
    d.filters = {{1, 1, true, "HELP", {101}}, {2, 1, false, "07700 900555", {102}}};
    d.senders = {{201, "Ada", "L", "+447700900201"}};
    d.contacts = {{301, "C", "G", "+447700900301", true, 0}};
    return d;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string_view xml(reinterpret_cast<const char*>(data), size);
    auto doc = validator().parse(xml);
    if (!doc) {
        if (doc.error().kind != txtpush::ErrorKind::bad_input && doc.error().kind != txtpush::ErrorKind::too_large) __builtin_trap();
        return 0;
    }
    txtpush::Push push = txtpush::extract_push(**doc);
    static const txtpush::RoutingData d = directory();
    txtpush::Routed routed = txtpush::route(push.inbound, d, txtpush::RoutingSettings{});
    if (!push.inbound.empty() && routed.inbox.empty() && routed.unrouted.empty()) __builtin_trap();
    // The schema's ranges hold for everything it let through.
    for (const auto& s : push.statuses)
        if (s.ticket <= 0 || s.status < -1 || s.status > 6) __builtin_trap();
    return 0;
}
