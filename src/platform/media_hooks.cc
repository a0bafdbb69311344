#include "platform/media_hooks.h"

#include <boost/json/parse.hpp>

#include "common/log.h"
#include "kernel/kernel.h"
#include "review/review_service.h"
#include "service/db.h"
#include "common/clock.h"

namespace chiron::platform {

namespace json = boost::json;

PlatformMediaHooks::PlatformMediaHooks(kernel::Runtime& runtime, std::weak_ptr<review::ReviewService> review,
                                       service::LiveHub& hub, service::Db& db, bool edge)
    : runtime_(runtime), review_(std::move(review)), hub_(hub), db_(db), edge_(edge) {}

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
        media::PublishGrant grant;
        grant.channel_id = channel->id;
        grant.channel = channel->name;
        grant.record = channel->record;
        grant.is_private = channel->is_private;
        (*shared_done)(std::move(grant));
      },
      [shared_done] { (*shared_done)(Status::unavailable("shutting down")); });
}

void PlatformMediaHooks::authorize_view(std::string channel, std::shared_ptr<const net::Request> request,
                                        std::function<void(Result<media::ViewGrant>)> done) {
  auto shared_done = std::make_shared<std::function<void(Result<media::ViewGrant>)>>(std::move(done));
  on_disk(
      [this, name = std::move(channel), request = std::move(request), shared_done] {
        auto review = review_.lock();
        if (!review) return (*shared_done)(Status::unavailable("shutting down"));
        auto ch = review->channel(name);
        if (!ch.ok()) {
          // An edge relays channels its own database may not know; the origin decides.
          if (edge_ && ch.status().code() == StatusCode::kNotFound) return (*shared_done)(media::ViewGrant{});
          return (*shared_done)(ch.status());
        }
        if (ch->is_private) {
          if (!request) return (*shared_done)(Status::not_found("no such stream"));
          auto caller = review->caller(*request);
          if (!caller.ok()) return (*shared_done)(caller.status());
          if (!review->can_read(*caller, *ch)) return (*shared_done)(Status::not_found("no such stream"));
        }
        (*shared_done)(media::ViewGrant{ch->id, ch->is_private});
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
        int64_t session_id = 0;
        if (session.ok()) {
          session_id = *session;
          std::lock_guard lock(mu_);
          started_.insert(grant.channel_id);
        } else if (session.status().code() == StatusCode::kAlreadyExists) {  // a session started by hand goes on
          if (auto ch = review->channel(grant.channel); ch.ok()) session_id = ch->live_session_id;
        } else {
          log::warn("media", "could not start the live session", {{"channel", grant.channel}, {"error", session.status().to_string()}});
        }
        std::lock_guard lock(mu_);
        sessions_[grant.publish_id] = session_id;  // a recording of this publish belongs to it
      },
      {});
}

void PlatformMediaHooks::on_publish_end(const media::PublishGrant& grant) {
  if (grant.relayed || grant.channel_id == 0) return;
  on_disk(
      [this, grant] {
        {
          std::lock_guard lock(mu_);
          if (!grant.record) sessions_.erase(grant.publish_id);  // else on_recording needs it
          if (started_.erase(grant.channel_id) == 0) return;     // not ours to end
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

namespace chiron::platform {

void PlatformMediaHooks::on_recording(const media::PublishGrant& grant, const media::Recording& recording) {
  int64_t session_id = 0;
  {
    std::lock_guard lock(mu_);
    if (auto it = sessions_.find(grant.publish_id); it != sessions_.end()) {
      session_id = it->second;
      sessions_.erase(it);
    }
  }
  if (session_id == 0) {
    log::warn("media", "a recording without a session is not listed", {{"path", recording.path}});
    return;
  }
  Status st = db_.write([&](service::Tx& tx) -> Status {
    return tx.exec("INSERT INTO recordings (session_id, channel_id, path, bytes, duration_ms, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)",
                   {session_id, grant.channel_id, recording.path, static_cast<int64_t>(recording.bytes),
                    recording.duration_ms, Clock::system().unix_ms()})
        .status();
  });
  if (!st.ok()) log::error("media", "recording not listed", {{"path", recording.path}, {"error", st.to_string()}});
  else log::info("media", "recorded", {{"channel", grant.channel}, {"session", session_id}, {"bytes", recording.bytes}});
}

}  // namespace chiron::platform
