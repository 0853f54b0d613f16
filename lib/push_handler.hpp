// handle_push(request) -> response: a push's whole journey through txtpushd,
// top to bottom. Knows nothing of FastCGI; fcgi/ adapts requests to this.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"
#include "log.hpp"
#include "outcome.hpp"
#include "phase.hpp"
#include "push_credentials.hpp"
#include "push_sinks.hpp"
#include "xml_validator.hpp"

namespace txtpush {

struct Request {
    std::string_view method;
    std::string_view content_type;
    std::string_view body;
    bool body_too_large = false;  // more than body_limit bytes were sent
    std::string_view peer;        // client address, for the log
    std::string_view request_id;
    // When the worker took it (the master's request_timeout counts from
    // then); default: when handle_push starts.
    std::chrono::steady_clock::time_point arrived{};
};

struct Response {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    Outcome outcome = Outcome::stored;
    std::optional<StoreReport> stored;  // what the database took, when it did
};


class PushHandler {
public:
    using Clock = std::function<int64_t()>;  // Unix seconds

    using PhaseObserver = std::function<void(Phase)>;

    PushHandler(const Config& config, CredentialSource& credentials, PushValidator& validator, PushSink& store,
                SpoolSink& spool, RefusedSink& quarantine, const Log& log, Clock clock,
                PhaseObserver observer = nullptr);

    Response handle_push(const Request& request);

private:
    Response refuse(const Request& request, const Error& error, Outcome outcome);
    void enter(Phase p) const {
        if (observer_) observer_(p);
    }
    Response spool(const Request& request, std::string_view xml, int64_t received, const Error& why);

    const Config& config_;
    CredentialSource& credentials_;
    PushValidator& validator_;
    PushSink& store_;
    SpoolSink& spool_;
    RefusedSink& quarantine_;
    const Log& log_;
    Clock clock_;
    PhaseObserver observer_;
    std::chrono::steady_clock::time_point started_;
};

// Seconds since the epoch, from the system clock.
int64_t unix_now();

}  // namespace txtpush
