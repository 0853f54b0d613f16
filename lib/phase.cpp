#include "phase.hpp"

namespace txtpush {

std::string_view phase_name(Phase p) {
    constexpr std::string_view names[] = {"idle",           "reading",    "decoding", "authenticating",
                                          "validating",     "storing",    "spooling"};
    return names[static_cast<int>(p)];
}

}  // namespace txtpush
