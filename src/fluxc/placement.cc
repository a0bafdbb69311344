// Variable placement (research §6.7; paper §3.2 scope / stream / share) as a pure function of
// the fluxion tree and of one variable's uses. First match wins:
//   local     users ⊆ {owner}
//   pinned    a non-copyable persistent function used outside main → share with its owner
//   R-scope   persistent, |users| = 1 or no writer
//   R-stream  persistent, one writer X, every other user strictly downstream of X
//   R-share   any other persistent case
//   stream    per-request: carried from the owner to each user; a writer other than the owner
//             tags the owner and itself grp_<name>; a user that calls it or passes it as an
//             argument does too, unless it already shares a tag with the owner (assemble)
#include <algorithm>
#include <set>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "fluxc/compile_internal.h"

namespace chiron::fluxc::detail {
namespace {

void sort_unique(std::vector<int>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}

// Adds the edges from `from` down to `to` (a strict descendant): the incoming edge of every
// node on the path below `from`, and the outgoing side of every node above `to`.
void add_path(const std::vector<int>& parent, int from, int to, Placement& p) {
  for (int n = to; n != from && n > 0; n = parent[static_cast<size_t>(n)]) {
    p.edges.push_back(n);
    p.path.push_back(parent[static_cast<size_t>(n)]);
  }
}

}  // namespace

bool is_descendant(const std::vector<int>& parent, int node, int ancestor) {
  if (node < 0 || static_cast<size_t>(node) >= parent.size()) return false;
  for (int n = parent[static_cast<size_t>(node)]; n >= 0; n = parent[static_cast<size_t>(n)]) {
    if (n == ancestor) return true;
  }
  return false;
}

Placement place(const std::vector<int>& parent, const PlaceVar& v) {
  Placement p;
  for (const PlaceUse& u : v.uses) {
    p.users.push_back(u.fluxion);
    if (u.writes) p.writers.push_back(u.fluxion);
  }
  sort_unique(p.users);
  sort_unique(p.writers);
  const int owner = v.owner < 0 ? 0 : v.owner;
  const bool only_owner = std::all_of(p.users.begin(), p.users.end(), [&](int u) { return u == owner; });
  if (only_owner) {
    p.cls = VarClass::kLocal;
    return p;
  }
  const std::string tag = "grp_" + v.name;
  auto share = [&](std::vector<int> tagged) {
    p.cls = VarClass::kShare;
    p.tag = tag;
    p.ctx = p.users;
    sort_unique(tagged);
    p.tagged = std::move(tagged);
  };
  if (v.persistent) {
    if (v.pinned_function && std::any_of(p.users.begin(), p.users.end(), [](int u) { return u != 0; })) {
      std::vector<int> tagged = p.users;
      tagged.push_back(owner);
      share(std::move(tagged));
      return p;
    }
    if (p.users.size() == 1 || p.writers.empty()) {
      p.cls = VarClass::kScope;
      p.ctx = p.users;
      return p;
    }
    if (p.writers.size() == 1) {
      const int x = p.writers[0];
      bool downstream = true;
      for (int u : p.users) {
        if (u != x && !is_descendant(parent, u, x)) downstream = false;
      }
      if (downstream) {
        p.cls = VarClass::kStream;
        p.ctx = {x};
        for (int u : p.users) {
          if (u != x) add_path(parent, x, u, p);
        }
        sort_unique(p.edges);
        sort_unique(p.path);
        return p;
      }
    }
    share(p.users);
    return p;
  }
  // Per-request: the owner's value travels to each user; mutation elsewhere pins the owner.
  for (int u : p.users) {
    if (u != owner && !is_descendant(parent, u, owner)) {
      // Not reachable by messages (cannot happen for lexical scopes): keep them together.
      std::vector<int> tagged = p.users;
      tagged.push_back(owner);
      share(std::move(tagged));
      return p;
    }
  }
  p.cls = VarClass::kStream;
  for (int u : p.users) {
    if (u != owner) add_path(parent, owner, u, p);
  }
  sort_unique(p.edges);
  sort_unique(p.path);
  std::vector<int> tagged;
  for (int w : p.writers) {
    if (w != owner) tagged.push_back(w);
  }
  p.owner = owner;
  for (const PlaceUse& u : v.uses) {
    if (u.escapes && u.fluxion != owner) p.escapers.push_back(u.fluxion);
  }
  sort_unique(p.escapers);
  if (!tagged.empty()) {
    tagged.push_back(owner);
    sort_unique(tagged);
    p.tag = tag;
    p.tagged = std::move(tagged);
  }
  return p;
}

std::vector<PlacedFluxion> assemble(const std::vector<int>& parent, const std::vector<PlaceVar>& vars,
                                    const std::vector<Placement>& placements) {
  const size_t n = parent.size();
  std::vector<std::set<std::string>> tags(n);
  // (first reference, name) keeps the order of first use and breaks ties deterministically.
  std::vector<std::vector<std::pair<uint32_t, std::string>>> ctx(n), in(n);
  for (size_t i = 0; i < vars.size() && i < placements.size(); ++i) {
    const PlaceVar& v = vars[i];
    const Placement& p = placements[i];
    for (int f : p.tagged) tags[static_cast<size_t>(f)].insert(p.tag);
    std::unordered_map<int, uint32_t> first;  // fluxion → its first reference
    for (const PlaceUse& u : v.uses) {
      auto [it, fresh] = first.try_emplace(u.fluxion, u.first_ref);
      if (!fresh) it->second = std::min(it->second, u.first_ref);
    }
    for (int f : p.ctx) {
      auto it = first.find(f);
      ctx[static_cast<size_t>(f)].emplace_back(it == first.end() ? UINT32_MAX : it->second, v.name);
    }
    if (p.edges.empty()) continue;
    // An edge's order key is the first reference in its destination's subtree: walk up from
    // each use (O(uses × depth), not O(edges × uses)).
    std::unordered_map<int, uint32_t> edge_first;
    for (int c : p.edges) edge_first.emplace(c, UINT32_MAX);
    for (const auto& [f, at] : first) {
      for (int node = f; node > 0; node = parent[static_cast<size_t>(node)]) {
        auto it = edge_first.find(node);
        if (it != edge_first.end()) it->second = std::min(it->second, at);
      }
    }
    for (int c : p.edges) in[static_cast<size_t>(c)].emplace_back(edge_first[c], v.name);
  }
  // A called or passed per-request value (`next()`, `cb(..)`, `helper(res)`) counts like a
  // mutation, but only where its user would not otherwise share a group with its owner: Listing
  // 3's `next()` runs in anonymous_1000, already grouped with main by grp_req, so no grp_next.
  for (size_t i = 0; i < vars.size() && i < placements.size(); ++i) {
    const Placement& p = placements[i];
    if (p.escapers.empty()) continue;
    const std::string tag = "grp_" + vars[i].name;
    const auto& owner_tags = tags[static_cast<size_t>(p.owner)];
    for (int e : p.escapers) {
      auto& user_tags = tags[static_cast<size_t>(e)];
      bool shared = std::any_of(user_tags.begin(), user_tags.end(),
                                [&](const std::string& t) { return owner_tags.count(t) > 0; });
      if (shared) continue;
      user_tags.insert(tag);
      tags[static_cast<size_t>(p.owner)].insert(tag);
    }
  }
  std::vector<PlacedFluxion> out(n);
  for (size_t f = 0; f < n; ++f) {
    out[f].tags.assign(tags[f].begin(), tags[f].end());
    std::sort(ctx[f].begin(), ctx[f].end());
    std::sort(in[f].begin(), in[f].end());
    // Hash sets, not a linear find: a fluxion with many variables stays linear.
    std::unordered_set<std::string_view> seen;
    for (auto& [at, name] : ctx[f]) {
      if (seen.insert(name).second) out[f].ctx.push_back(name);
    }
    seen.clear();
    for (auto& [at, name] : in[f]) {
      if (seen.insert(name).second) out[f].in_vars.push_back(name);
    }
  }
  return out;
}

}  // namespace chiron::fluxc::detail
