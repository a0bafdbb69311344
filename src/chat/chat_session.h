#pragma once
// Internal to the chat server's two source files (chat_server.cc: sockets and client events;
// chat_bus_side.cc: what comes back from the bus, presence ticks): the per-socket session, the
// server's timer holder, and small helpers both use. Not part of the chat module's interface.

#include <boost/asio/steady_timer.hpp>
#include <boost/json/array.hpp>
#include <boost/json/value.hpp>
#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/chat_server.h"
#include "chat/token.h"

namespace chiron::chat {

struct ChatServer::Session {
  std::string sid;
  std::string user;
  std::string name;
  std::vector<std::string> moderates;  // rooms, "*" = all
  size_t thread = 0;
  bool connected = false;  // Socket.IO CONNECT done
  bool anonymous = true;
  bool can_post = false;
  bool awaiting_pong = false;
  std::vector<std::string> rooms;
  double tokens = 0;
  int64_t refilled_us = 0;
  std::unique_ptr<boost::asio::steady_timer> ping_timer;

  bool moderates_room(std::string_view room) const { return chat::moderates_room(moderates, room); }
};

struct ChatServer::Timer {
  explicit Timer(boost::asio::io_context& io) : timer(io) {}
  boost::asio::steady_timer timer;
};

int64_t steady_ms();
// A room name argument: a non-empty string of at most 128 bytes.
std::optional<std::string> room_arg(const boost::json::value* v);
// A non-negative integer as JSON numbers carry it (socket.io-client sends 5, never 5.0, but a
// double with an integral value is accepted).
std::optional<uint64_t> uint_arg(const boost::json::value& v);
boost::json::array users_json(const std::vector<ChatUser>& users);
// 42["gap",{room, epoch, reason}]
net::SharedFrame gap_frame(const std::string& room, const std::string& epoch, std::string_view reason);

}  // namespace chiron::chat
