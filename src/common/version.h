#pragma once
#include <string_view>

#include "chiron_version.h"

namespace chiron {
inline constexpr std::string_view kVersion = CHIRON_VERSION;
}  // namespace chiron
