#pragma once
// LiveHub: server → browser events of one channel, over the WebSocket at
// `GET /api/v1/live?channel=NAME` (docs/platform-api.md, "Live events"). Modules publish; the
// platform (src/platform/live_hub.*) fans each event out to the channel's subscribers,
// encoded once. publish() never blocks on sockets and may be called from any thread.

#include <cstdint>
#include <string>

#include <boost/json/object.hpp>

namespace chiron::service {

class LiveHub {
 public:
  virtual ~LiveHub() = default;
  // `event` must have a string "type"; the hub adds "channel" and "at" (RFC 3339 ms, UTC).
  virtual void publish(int64_t channel_id, boost::json::object event) = 0;
};

// A hub that drops everything (unit tests of modules that publish).
class NullLiveHub final : public LiveHub {
 public:
  void publish(int64_t, boost::json::object) override {}
};

}  // namespace chiron::service
