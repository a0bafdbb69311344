#include "ns/server.h"

#include "common/strings.h"

namespace chiron::ns {

std::string_view to_string(AdminState s) {
  switch (s) {
    case AdminState::kReady: return "ready";
    case AdminState::kDrain: return "drain";
    case AdminState::kMaint: return "maint";
  }
  return "?";
}

std::string_view to_string(Health h) {
  switch (h) {
    case Health::kPending: return "pending";
    case Health::kUp: return "up";
    case Health::kDown: return "down";
  }
  return "?";
}

Result<AdminState> parse_admin_state(std::string_view s) {
  if (iequals(s, "ready")) return AdminState::kReady;
  if (iequals(s, "drain")) return AdminState::kDrain;
  if (iequals(s, "maint") || iequals(s, "maintenance")) return AdminState::kMaint;
  return Status::invalid_argument("admin state must be ready, drain or maint, not '" + std::string(s) + "'");
}

Result<Health> parse_health(std::string_view s) {
  if (iequals(s, "pending")) return Health::kPending;
  if (iequals(s, "up")) return Health::kUp;
  if (iequals(s, "down")) return Health::kDown;
  return Status::invalid_argument("health must be pending, up or down, not '" + std::string(s) + "'");
}

}  // namespace chiron::ns
