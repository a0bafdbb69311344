#pragma once
// LiveHubServer: the WebSocket side of service::LiveHub — `GET /api/v1/live?channel=NAME`
// (docs/platform-api.md, "Live events").
//
// A socket is authorised after the upgrade (the access check reads the database, so it runs on
// the disk pipeline): a channel the caller may not read gets close 1008 "not found", exactly
// like an unknown one. Then it receives `hello` and every event published for the channel.
// publish() serialises an event once and queues the same frame on every subscriber (each
// socket's send-queue cap protects the hub from slow readers). Logged-in viewers other than the
// owner are announced in `viewers` events and reported through on_participant while the
// channel has a live session (also for viewers already present when a session starts).
//
// Thread-safe: publish() from any thread; handlers run on net threads.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "net/net.h"
#include "service/access.h"
#include "service/live.h"

namespace chiron::kernel {
class Runtime;
}  // namespace chiron::kernel

namespace chiron::platform {

class LiveHubServer final : public service::LiveHub, public std::enable_shared_from_this<LiveHubServer> {
 public:
  struct Options {
    net::WsOptions ws;
  };
  // on_participant(session_id, user_id): blocking (database) — called on the disk pipeline.
  static std::shared_ptr<LiveHubServer> create(kernel::Runtime& runtime, service::Access& access,
                                               std::function<void(int64_t session_id, int64_t user_id)> on_participant,
                                               Options options);

  void publish(int64_t channel_id, boost::json::object event) override;
  net::WsHandlers handlers();
  const net::WsOptions& ws_options() const { return options_.ws; }
  // Closes every socket (1001). Idempotent.
  void stop();
  size_t subscribers() const;

 private:
  struct Viewer {
    net::WebSocketPtr ws;
    int64_t user_id = 0;
    std::string name;
    std::string display_name;
  };
  struct Channel {
    std::string name;
    int64_t owner_id = 0;
    int64_t live_session_id = 0;
    std::vector<Viewer> viewers;
  };
  LiveHubServer(kernel::Runtime& runtime, service::Access& access,
                std::function<void(int64_t, int64_t)> on_participant, Options options);
  void on_open(const net::WebSocketPtr& ws, const net::Request& request);
  void on_close(const net::WebSocketPtr& ws);
  void subscribe(const net::WebSocketPtr& ws, const service::Caller& caller, const service::ChannelRef& channel,
                 boost::json::object hello);
  // The `viewers` event body of a channel; call under mu_.
  boost::json::object viewers_event_locked(const Channel& c) const;
  void send_locked(const Channel& c, boost::json::object event);
  void record_participants(int64_t session_id, std::vector<int64_t> users);

  kernel::Runtime& runtime_;
  service::Access& access_;
  const std::function<void(int64_t, int64_t)> on_participant_;
  const Options options_;
  mutable std::mutex mu_;
  std::unordered_map<int64_t, Channel> channels_;        // Guarded by mu_ (only channels with viewers)
  std::unordered_map<uint64_t, int64_t> socket_channel_;  // ws id → channel id; Guarded by mu_
  bool stopped_ = false;                                  // Guarded by mu_
};

}  // namespace chiron::platform
