// The end of a forked child: it runs its body and leaves the process there.
#pragma once

#include <functional>

#include "log.hpp"

namespace txtpush {

// A child runs on its master's stack: nothing may unwind into it (it would
// run the master's destructors, unmapping the scoreboard, closing the socket).
// Runs `body`, logs what escapes it, flushes and _exits with its code (1 if it threw).
[[noreturn]] void run_child(const std::function<int()>& body, const Log& log);

}  // namespace txtpush
