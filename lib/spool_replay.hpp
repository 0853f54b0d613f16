// Replays spooled pushes into the database, oldest first, each deleted only
// after its transaction committed.
#pragma once

#include <cstddef>

#include "log.hpp"
#include "push_store.hpp"
#include "spool.hpp"
#include "xml_validator.hpp"

namespace txtpush {

struct ReplayResult {
    size_t stored = 0;       // pushes committed and removed from the spool
    size_t quarantined = 0;  // pushes that can never be stored (moved to the quarantine)
    size_t remaining = 0;    // still in the spool
    bool database_down = false;
};

// Replays up to `max_pushes`; stops at the first push the database cannot take.
ReplayResult replay_spool(Spool& spool, Quarantine& quarantine, PushValidator& validator, PushStore& store,
                          const Log& log, size_t max_pushes);

}  // namespace txtpush
