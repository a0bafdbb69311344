#include "platform/media_hooks.h"

#include <boost/json/parse.hpp>

#include "common/log.h"
#include "kernel/kernel.h"
#include "review/review_service.h"

namespace chiron::platform {

namespace json = boost::json;

PlatformMediaHooks::PlatformMediaHooks(kernel::Runtime& runtime, std::weak_ptr<review::ReviewService> review,
                                       service::LiveHub& hub, bool edge)
    : runtime_(runtime), review_(std::move(review)), hub_(hub), edge_(edge) {}

void PlatformMediaHooks::on_disk(std::function<void()> fn, std::function<void()> refused) {
  if (!runtime_.post(kernel::Device::kDisk, std::move(fn)) && refused) refused();
}

void PlatformMediaHooks::authorize_publish(std::string stream_key, std::string remote_address,
                                           std::function<void(Result<media::PublishGrant>)> done) {
  auto shared_done = std::make_shared<std::function<void(Result<media::PublishGrant>)>>(std::move(done));
  on_disk(
      [this, key = std::move(stream_key), remote = std::move(remote_address), shared_done] {
        auto review = review_.lock();
        if (!review) return (*shared_done)(Status::unavailable("shutting down"));
        auto channel = review->channel_for_stream_key(key);
        if (!channel.ok()) {
          log::warn("media", "publish with an unknown stream key", {{"remote", remote}});
          return (*shared_done)(channel.status());
        }
        (*shared_done)(media::PublishGrant{channel->id, channel->name, false});
      },
      [shared_done] { (*shared_done)(Status::unavailable("shutting down")); });
}

void PlatformMediaHooks::authorize_view(std::string channel, std::shared_ptr<const net::Request> request,
                                        std::function<void(Result<int64_t>)> done) {
  auto shared_done = std::make_shared<std::function<void(Result<int64_t>)>>(std::move(done));
  on_disk(
      [this, name = std::move(channel), request = std::move(request), shared_done] {
        auto review = review_.lock();
        if (!review) return (*shared_done)(Status::unavailable("shutting down"));
        auto ch = review->channel(name);
        if (!ch.ok()) {
          // An edge relays channels its own database may not know; the origin decides.
          if (edge_ && ch.status().code() == StatusCode::kNotFound) return (*shared_done)(int64_t{0});
          return (*shared_done)(ch.status());
        }
        if (ch->is_private) {
          if (!request) return (*shared_done)(Status::not_found("no such stream"));
          auto caller = review->caller(*request);
          if (!caller.ok()) return (*shared_done)(caller.status());
          if (!review->can_read(*caller, *ch)) return (*shared_done)(Status::not_found("no such stream"));
        }
        (*shared_done)(ch->id);
      },
      [shared_done] { (*shared_done)(Status::unavailable("shutting down")); });
}

void PlatformMediaHooks::on_publish_start(const media::PublishGrant& grant) {
  if (grant.relayed || grant.channel_id == 0) return;
  on_disk(
      [this, grant] {
        auto review = review_.lock();
        if (!review) return;
        auto session = review->start_session(grant.channel_id, "rtmp");
        if (session.ok()) {
          std::lock_guard lock(mu_);
          started_.insert(grant.channel_id);
        } else if (session.status().code() != StatusCode::kAlreadyExists) {  // a session started by hand goes on
          log::warn("media", "could not start the live session", {{"channel", grant.channel}, {"error", session.status().to_string()}});
        }
      },
      {});
}

void PlatformMediaHooks::on_publish_end(const media::PublishGrant& grant) {
  if (grant.relayed || grant.channel_id == 0) return;
  on_disk(
      [this, grant] {
        {
          std::lock_guard lock(mu_);
          if (started_.erase(grant.channel_id) == 0) return;  // not ours to end
        }
        auto review = review_.lock();
        if (!review) return;
        if (Status st = review->end_session(grant.channel_id); !st.ok() && st.code() != StatusCode::kFailedPrecondition)
          log::warn("media", "could not end the live session", {{"channel", grant.channel}, {"error", st.to_string()}});
      },
      {});
}

void PlatformMediaHooks::on_state(const media::PublishGrant& grant, const media::StreamState& state) {
  if (grant.channel_id == 0) return;
  boost::system::error_code ec;
  json::value v = json::parse(media::stream_state_json(grant.channel, state), ec);
  if (ec || !v.is_object()) return;
  json::object event = std::move(v.as_object());
  event.erase("channel");  // the hub adds the channel itself
  event["type"] = "stream";
  hub_.publish(grant.channel_id, std::move(event));
}

}  // namespace chiron::platform
