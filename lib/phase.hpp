// Where a request is in its journey: the worker publishes it in its
// scoreboard slot, the master names it in the slow-log.
#pragma once

#include <string_view>

namespace txtpush {

// Where a request is, for the slow-log of a request that overruns its time.
enum class Phase : int { idle, reading, decoding, authenticating, validating, storing, spooling };
std::string_view phase_name(Phase p);

}  // namespace txtpush
