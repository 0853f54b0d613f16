// A worker process: accepts FastCGI requests on the shared socket, one at a
// time, and answers each through PushHandler.
#pragma once

#include "config.hpp"
#include "log.hpp"
#include "xml_validator.hpp"

namespace txtpush {

// Runs until SIGTERM/SIGQUIT/SIGINT; returns the process exit code.
int run_worker(int listen_fd, const Config& config, PushValidator& validator, const Log& log);

}  // namespace txtpush
