#pragma once
// RoomPresence: who is in a room across every edge. Each edge announces its full local user
// list ({"edge":id,"users":[{user,name}...]}, a bus signal of kind "presence"); this merges the
// lists per edge (the latest list of an edge replaces its previous one), forgets edges not heard
// from in kEdgeTtlMs, and counts users once per user id (two tabs, or two edges, = one member).
// take_diff() gives the coalesced {count, joined, left} the members are told.
// Bounded: kMaxUsersPerEdge users per list, kMaxEdges edges.
//
// Not thread-safe (the chat server guards it with its room lock).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace chiron::chat {

struct ChatUser {
  std::string user;
  std::string name;
  bool operator==(const ChatUser&) const = default;
};

class RoomPresence {
 public:
  static constexpr size_t kMaxUsersPerEdge = 1000;
  static constexpr size_t kMaxEdges = 256;
  static constexpr int64_t kEdgeTtlMs = 30000;

  struct Signal {
    std::string edge;
    std::vector<ChatUser> users;
    bool hello = false;  // the edge just subscribed: others should announce themselves now
  };
  struct Diff {
    size_t count = 0;
    std::vector<ChatUser> joined;
    std::vector<ChatUser> left;
  };

  // Parses a presence signal body; nullopt when malformed. Lists are cut at kMaxUsersPerEdge.
  static std::optional<Signal> parse(std::string_view body);
  // The body announcing `users` of `edge`.
  static std::string body(std::string_view edge, const std::vector<ChatUser>& users, bool hello);

  // Local sockets: a user is present while one of its sockets is. True when the set changed.
  bool add_local(const ChatUser& u);
  bool remove_local(const std::string& user);
  std::vector<ChatUser> local_users() const;  // first kMaxUsersPerEdge
  bool local_empty() const { return local_.empty(); }

  // Another edge's full list (own edge's echo should not be merged: the local set is exact).
  void merge(const Signal& s, int64_t now_ms);
  void forget_edges() { edges_.clear(); }
  // Drops edges not heard from in kEdgeTtlMs; true when any was dropped.
  bool expire(int64_t now_ms);

  size_t count() const;
  std::vector<ChatUser> users(size_t max) const;
  // What changed since the last call (nullopt: nothing). Lists are cut at max_listed.
  std::optional<Diff> take_diff(size_t max_listed);

 private:
  std::map<std::string, std::string> merged() const;  // user → name

  struct Local {
    std::string name;
    size_t sockets = 0;
  };
  struct Edge {
    std::vector<ChatUser> users;
    int64_t heard_ms = 0;
  };
  std::map<std::string, Local> local_;
  std::unordered_map<std::string, Edge> edges_;
  std::map<std::string, std::string> announced_;  // the set the members were last told
};

}  // namespace chiron::chat
