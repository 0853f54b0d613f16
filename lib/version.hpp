// The release, from CMake's project(VERSION): --version, the start line, txtpush_build_info.
#pragma once

#include <string_view>

namespace txtpush {

inline constexpr std::string_view kVersion = TXTPUSH_VERSION;

}  // namespace txtpush
