#include "push/planner.h"

#include <algorithm>
#include <cmath>

namespace chiron::push {

const char* action_name(ActionKind kind) {
  switch (kind) {
    case ActionKind::kNone: return "none";
    case ActionKind::kPut: return "upload";
    case ActionKind::kUpload: return "upload";
    case ActionKind::kCopy: return "copy";
    case ActionKind::kDelete: return "delete";
  }
  return "?";
}

Action plan_file(const std::string& path, const std::optional<FileState>& local,
                 const std::optional<FileState>& remote, const std::set<std::string>& known_blobs,
                 uint64_t max_put_bytes) {
  Action a;
  a.path = path;
  if (!local) {
    if (remote) a.kind = ActionKind::kDelete;
    return a;
  }
  a.size = local->size;
  a.sha256 = local->sha256;
  if (remote && remote->sha256 == local->sha256) return a;  // kNone
  if (known_blobs.contains(local->sha256)) {
    a.kind = ActionKind::kCopy;
  } else {
    a.kind = local->size > max_put_bytes ? ActionKind::kUpload : ActionKind::kPut;
  }
  return a;
}

std::vector<Action> plan_reconcile(const std::map<std::string, FileState>& local,
                                   const std::map<std::string, FileState>& remote,
                                   const std::set<std::string>& known_blobs, uint64_t max_put_bytes) {
  std::vector<Action> out;
  auto l = local.begin();
  auto r = remote.begin();
  // Merge walk over the two sorted maps.
  while (l != local.end() || r != remote.end()) {
    Action a;
    if (r == remote.end() || (l != local.end() && l->first < r->first)) {
      a = plan_file(l->first, l->second, std::nullopt, known_blobs, max_put_bytes);
      ++l;
    } else if (l == local.end() || r->first < l->first) {
      a = plan_file(r->first, std::nullopt, r->second, known_blobs, max_put_bytes);
      ++r;
    } else {
      a = plan_file(l->first, l->second, r->second, known_blobs, max_put_bytes);
      ++l;
      ++r;
    }
    if (a.kind != ActionKind::kNone) out.push_back(std::move(a));
  }
  return out;
}

int64_t backoff_delay_ms(int attempt, double random01, int64_t initial_ms, int64_t max_ms) {
  const int capped = std::clamp(attempt, 0, 40);
  const double d = std::min(static_cast<double>(max_ms), static_cast<double>(initial_ms) * std::ldexp(1.0, capped));
  const double r = std::clamp(random01, 0.0, 1.0);
  return static_cast<int64_t>(d / 2 + r * d / 2);
}

}  // namespace chiron::push
