// A worker process: accepts FastCGI requests on the shared socket, one at a
// time, and answers each through PushHandler. Also serves /txtpush-ping and
// /txtpush-status.
#pragma once

#include "config.hpp"
#include "log.hpp"
#include "scoreboard.hpp"
#include "xml_validator.hpp"

namespace txtpush {

// Exit code of a worker that retired after max_requests (not a crash).
inline constexpr int kExitRecycled = 3;

// Runs until SIGTERM/SIGQUIT/SIGINT or max_requests; returns the exit code.
int run_worker(int listen_fd, const Config& config, PushValidator& validator, Scoreboard& board, WorkerSlot& slot,
               const Log& log);

}  // namespace txtpush
