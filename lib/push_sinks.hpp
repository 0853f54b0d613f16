// Where the push handler hands a push: the database, the spool, the
// quarantine. Small interfaces, so that every branch of handle_push is
// tested with fakes (test/unit/push_handler_test.cpp); PushStore, Spool and
// Quarantine are the real ones.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "deadline.hpp"
#include "result.hpp"
#include "store_report.hpp"

namespace txtpush {

struct Push;  // push_document.hpp

// Stores a whole push, or says why not: transient (the database cannot take
// it now), misconfigured, permanent (its own values are refused) or bug.
class PushSink {
public:
    virtual ~PushSink() = default;
    virtual Result<StoreReport> store(const Push& push, int64_t now, std::string_view request_id,
                                      Deadline deadline) = 0;
};

// Makes a push durable until the database takes it; returns its id.
class SpoolSink {
public:
    virtual ~SpoolSink() = default;
    virtual Result<std::string> put(std::string_view xml, int64_t received, std::string_view request_id) = 0;
};

// Keeps a refused push for the operator, with the reason. Best effort.
class RefusedSink {
public:
    virtual ~RefusedSink() = default;
    virtual void keep(std::string_view xml, std::string_view reason, std::string_view peer,
                      std::string_view request_id) = 0;
};

}  // namespace txtpush
