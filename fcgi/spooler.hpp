// The spooler process: drains the spool into the database, backing off
// while the database is down.
#pragma once

#include "config.hpp"
#include "log.hpp"
#include "scoreboard.hpp"
#include "xml_validator.hpp"

namespace txtpush {

int run_spooler(const Config& config, PushValidator& validator, Scoreboard& board, WorkerSlot& slot, const Log& log);

}  // namespace txtpush
