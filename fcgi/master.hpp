// The master process: holds the listening socket, forks the worker pool,
// replaces workers that die, stops them on SIGTERM/SIGQUIT/SIGINT.
#pragma once

#include <string>

#include "config.hpp"
#include "log.hpp"
#include "xml_validator.hpp"

namespace txtpush {

// Runs the pool until asked to stop; returns the exit code (0 on a clean stop).
// The workers the pool runs: [server] workers, or one per core.
int pool_size(const Config& config);

int run_master(const std::string& config_path, const Config& config, PushValidator& validator, Log& log);

}  // namespace txtpush
