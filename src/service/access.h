#pragma once
// Who is asking, and may they: the contract between the platform's HTTP APIs (files, live
// events, chat tokens) and the accounts module (src/review) that implements it.
//
// A request is authenticated by one of
//   - the session cookie `chiron_session` set at log-in (browsers). State-changing requests
//     (POST/PUT/PATCH/DELETE) must also carry the session's CSRF token in `X-CSRF-Token`;
//   - `Authorization: Bearer <push token>` (the push client): acts as the channel owner for
//     that channel's files only; no CSRF (not an ambient credential).
// Anything else is anonymous (user_id 0).
//
// Implementations block (they read the database): call them on the disk pipeline.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "net/http_message.h"

namespace chiron::service {

struct Caller {
  int64_t user_id = 0;           // 0 = anonymous
  std::string name;              // login name ("alice"); empty when anonymous
  std::string display_name;
  enum class Via : uint8_t { kAnonymous, kCookie, kPushToken } via = Via::kAnonymous;
  // Cookie callers: the request carried the right X-CSRF-Token (always true for safe methods
  // and for push tokens).
  bool csrf_ok = false;
  // Push-token callers: the only channel this token speaks for.
  int64_t push_channel_id = 0;
  bool anonymous() const { return user_id == 0; }
};

struct ChannelRef {
  int64_t id = 0;
  std::string name;       // public name, used in URLs and as the chat room
  int64_t owner_id = 0;
  std::string owner_name;
  bool is_private = false;
  std::string chat_room;  // the chat room of this channel (unguessable for private channels)
  int64_t live_session_id = 0;  // 0 = offline
  bool record = false;          // its video streams are recorded
};

class Access {
 public:
  virtual ~Access() = default;
  // Never fails for a bad or expired credential (that is anonymous); fails only when the
  // database does.
  virtual Result<Caller> caller(const net::Request& request) = 0;
  // kNotFound for an unknown channel.
  virtual Result<ChannelRef> channel(std::string_view name) = 0;
  // Read: public channels, or the owner / invited users of a private one.
  virtual bool can_read(const Caller& caller, const ChannelRef& channel) = 0;
  // Write files/settings: the owner by cookie (with csrf_ok), or that channel's push token.
  virtual bool can_write(const Caller& caller, const ChannelRef& channel) = 0;
};

}  // namespace chiron::service
