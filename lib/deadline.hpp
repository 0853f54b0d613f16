// When the request in hand must have its answer (nothing: no request's).
#pragma once

#include <chrono>
#include <optional>

namespace txtpush {

using Deadline = std::optional<std::chrono::steady_clock::time_point>;

}  // namespace txtpush
