#include "chat/room_presence.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <algorithm>

namespace chiron::chat {

namespace json = boost::json;

std::optional<RoomPresence::Signal> RoomPresence::parse(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  const json::value* edge = o.if_contains("edge");
  const json::value* users = o.if_contains("users");
  if (edge == nullptr || !edge->is_string() || edge->as_string().empty() || users == nullptr || !users->is_array())
    return std::nullopt;
  Signal s;
  s.edge = edge->as_string();
  if (const json::value* hello = o.if_contains("hello"); hello != nullptr && hello->is_bool()) s.hello = hello->as_bool();
  for (const json::value& u : users->as_array()) {
    if (s.users.size() == kMaxUsersPerEdge) break;
    if (!u.is_object()) continue;
    const json::value* id = u.as_object().if_contains("user");
    const json::value* name = u.as_object().if_contains("name");
    if (id == nullptr || !id->is_string() || id->as_string().empty()) continue;
    ChatUser cu;
    cu.user = id->as_string();
    cu.name = name != nullptr && name->is_string() ? std::string(name->as_string()) : cu.user;
    s.users.push_back(std::move(cu));
  }
  return s;
}

std::string RoomPresence::body(std::string_view edge, const std::vector<ChatUser>& users, bool hello) {
  json::object o;
  o["edge"] = edge;
  json::array list;
  for (const ChatUser& u : users) {
    if (list.size() == kMaxUsersPerEdge) break;
    list.push_back(json::object{{"user", u.user}, {"name", u.name}});
  }
  o["users"] = std::move(list);
  if (hello) o["hello"] = true;
  return json::serialize(o);
}

bool RoomPresence::add_local(const ChatUser& u) {
  Local& l = local_[u.user];
  l.name = u.name;
  return ++l.sockets == 1;
}

bool RoomPresence::remove_local(const std::string& user) {
  auto it = local_.find(user);
  if (it == local_.end()) return false;
  if (--it->second.sockets > 0) return false;
  local_.erase(it);
  return true;
}

std::vector<ChatUser> RoomPresence::local_users() const {
  std::vector<ChatUser> out;
  for (const auto& [user, l] : local_) {
    if (out.size() == kMaxUsersPerEdge) break;
    out.push_back(ChatUser{user, l.name});
  }
  return out;
}

void RoomPresence::merge(const Signal& s, int64_t now_ms) {
  auto it = edges_.find(s.edge);
  if (it == edges_.end()) {
    if (s.users.empty()) return;  // an edge that left, or one we never knew
    if (edges_.size() >= kMaxEdges) return;
    it = edges_.emplace(s.edge, Edge{}).first;
  }
  if (s.users.empty()) {
    edges_.erase(it);
    return;
  }
  it->second.users = s.users;
  it->second.heard_ms = now_ms;
}

bool RoomPresence::expire(int64_t now_ms) {
  return std::erase_if(edges_, [&](const auto& kv) { return now_ms - kv.second.heard_ms > kEdgeTtlMs; }) > 0;
}

std::map<std::string, std::string> RoomPresence::merged() const {
  std::map<std::string, std::string> all;
  for (const auto& [user, l] : local_) all.emplace(user, l.name);
  for (const auto& [edge, e] : edges_)
    for (const ChatUser& u : e.users) all.emplace(u.user, u.name);
  return all;
}

size_t RoomPresence::count() const {
  if (edges_.empty()) return local_.size();
  return merged().size();
}

std::vector<ChatUser> RoomPresence::users(size_t max) const {
  std::vector<ChatUser> out;
  for (const auto& [user, name] : merged()) {
    if (out.size() == max) break;
    out.push_back(ChatUser{user, name});
  }
  return out;
}

std::optional<RoomPresence::Diff> RoomPresence::take_diff(size_t max_listed) {
  std::map<std::string, std::string> now = merged();
  Diff d;
  d.count = now.size();
  for (const auto& [user, name] : now)
    if (!announced_.contains(user) && d.joined.size() < max_listed) d.joined.push_back(ChatUser{user, name});
  for (const auto& [user, name] : announced_)
    if (!now.contains(user) && d.left.size() < max_listed) d.left.push_back(ChatUser{user, name});
  const bool changed = now != announced_;
  announced_ = std::move(now);
  if (!changed) return std::nullopt;
  return d;
}

}  // namespace chiron::chat
