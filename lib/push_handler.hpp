// handle_push(request) -> response: a push's whole journey through txtpushd,
// top to bottom. Knows nothing of FastCGI; fcgi/ adapts requests to this.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config.hpp"
#include "log.hpp"
#include "push_store.hpp"
#include "spool.hpp"
#include "xml_validator.hpp"

namespace txtpush {

struct Request {
    std::string_view method;
    std::string_view content_type;
    std::string_view body;
    bool body_too_large = false;  // more than body_limit bytes were sent
    std::string_view peer;        // client address, for the log
    std::string_view request_id;
};

struct Response {
    int status = 200;
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

class PushHandler {
public:
    using Clock = std::function<int64_t()>;  // Unix seconds

    PushHandler(const Config& config, PushValidator& validator, PushStore& store, Spool& spool,
                Quarantine& quarantine, const Log& log, Clock clock);

    Response handle_push(const Request& request);

private:
    Response refuse(const Request& request, const Error& error, std::string_view outcome);
    Response spool(const Request& request, std::string_view xml, int64_t received, const Error& why);

    const Config& config_;
    PushValidator& validator_;
    PushStore& store_;
    Spool& spool_;
    Quarantine& quarantine_;
    const Log& log_;
    Clock clock_;
};

// Seconds since the epoch, from the system clock.
int64_t unix_now();

}  // namespace txtpush
