// Replays spooled pushes into the database, oldest first. A push leaves the
// spool only when its transaction committed, or, if the database refuses it
// for good, whole into the spool's unstorable/ folder.
#pragma once

#include <cstddef>
#include <functional>

#include "log.hpp"
#include "push_store.hpp"
#include "spool.hpp"
#include "xml_validator.hpp"

namespace txtpush {

struct ReplayResult {
    size_t stored = 0;       // pushes committed and removed from the spool
    size_t set_aside = 0;    // pushes the database refuses for good, moved to unstorable/
    size_t kept = 0;         // pushes that could not be read or set aside now: still in the spool
    size_t remaining = 0;    // not reached in this pass
    size_t listed = 0;       // files the pass found
    bool database_down = false;
    Error waiting;           // why, when the database could not take a push now
};

// One pass over the spool as listed once at its start: stops at the first
// push the database cannot take now (unavailable, misconfigured, a bug), or
// when `stop` says so. Only a push whose own values the database refuses is
// set aside.
ReplayResult replay_spool(Spool& spool, PushValidator& validator, PushStore& store, const Log& log,
                          const std::function<bool()>& stop = [] { return false; });

}  // namespace txtpush
