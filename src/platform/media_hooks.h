#pragma once
// The platform's side of the media server (media::MediaHooks): stream keys are checked against
// the accounts database, a publish starts the channel's live session (source "rtmp") and ending
// it ends the session it started, recordings are listed under their session, private channels' streams are shown only to those who may
// read the channel, and the stream's state goes out as the `stream` live event. Blocking work
// (the database) runs on the disk pipeline; answers come back through the hooks' callbacks.

#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "media/media.h"
#include "service/live.h"

namespace chiron::kernel {
class Runtime;
}  // namespace chiron::kernel
namespace chiron::review {
class ReviewService;
}  // namespace chiron::review
namespace chiron::service {
class Db;
}  // namespace chiron::service

namespace chiron::platform {

class PlatformMediaHooks final : public media::MediaHooks {
 public:
  // `edge`: this server relays channels from an origin; channels unknown to its database are
  // viewable (the origin serves only public ones to an edge).
  PlatformMediaHooks(kernel::Runtime& runtime, std::weak_ptr<review::ReviewService> review, service::LiveHub& hub,
                     service::Db& db, bool edge);

  void authorize_publish(std::string stream_key, std::string remote_address,
                         std::function<void(Result<media::PublishGrant>)> done) override;
  void authorize_view(std::string channel, std::shared_ptr<const net::Request> request,
                      std::function<void(Result<media::ViewGrant>)> done) override;
  void on_publish_start(const media::PublishGrant& grant) override;
  void on_publish_end(const media::PublishGrant& grant) override;
  void on_state(const media::PublishGrant& grant, const media::StreamState& state) override;
  // Lists the recording under the session that was live while it was made (table recordings).
  void on_recording(const media::PublishGrant& grant, const media::Recording& recording) override;

 private:
  // Runs fn on the disk pipeline; if the runtime is stopping, runs `refused` instead.
  void on_disk(std::function<void()> fn, std::function<void()> refused);

  kernel::Runtime& runtime_;
  std::weak_ptr<review::ReviewService> review_;
  service::LiveHub& hub_;
  service::Db& db_;
  const bool edge_;
  std::mutex mu_;
  std::unordered_set<int64_t> started_;  // channels whose live session a publish started; guarded by mu_
  std::unordered_map<uint64_t, int64_t> sessions_;  // publish → the live session it ran in; guarded by mu_
};

}  // namespace chiron::platform
