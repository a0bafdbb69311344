// Channels: listing, settings, secrets (stream key, push token), invites, the home page data.

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include "common/ids.h"
#include "review/review_impl.h"
#include "review/validate.h"
#include "service/http.h"

namespace chiron::review {

namespace json = boost::json;
using service::api_status;

namespace {

constexpr size_t kMaxTitleBytes = 100;
constexpr size_t kMaxDescriptionBytes = 2000;
constexpr size_t kMaxListedChannels = 500;

std::string private_room(const std::string& name) { return name + "~" + random_token(12); }

Status no_channel(std::string_view name) { return Status::not_found("no channel " + std::string(name)); }

}  // namespace

Result<ChannelRow> ReviewServiceImpl::readable_channel(Ctx& ctx, service::Tx& tx) {
  const service::Caller& caller = ctx.cached()->caller;  // the route authenticated first
  std::string_view name = ctx.req.param("name");
  if (!valid_name(name)) return no_channel(name);
  CHIRON_ASSIGN_OR_RETURN(auto c, load_channel(tx, "c.name = ?", {std::string(name)}));
  if (!c) return no_channel(name);
  bool invited = false;
  if (c->is_private && caller.via == service::Caller::Via::kCookie && caller.user_id != c->owner.id) {
    CHIRON_ASSIGN_OR_RETURN(invited, is_invited(tx, c->id, caller.user_id));
  }
  if (!readable(caller, *c, invited)) return no_channel(name);
  return std::move(*c);
}

Result<ChannelRow> ReviewServiceImpl::owned_channel(Ctx& ctx, service::Tx& tx) {
  CHIRON_ASSIGN_OR_RETURN(ChannelRow c, readable_channel(ctx, tx));
  const service::Caller& caller = ctx.cached()->caller;
  if (caller.via != service::Caller::Via::kCookie || caller.user_id != c.owner.id)
    return Status::permission_denied("only the channel's owner may do that");
  return c;
}

Result<Reply> ReviewServiceImpl::home(Ctx& ctx) {
  CHIRON_ASSIGN_OR_RETURN(const Auth* a, ctx.auth());
  const int64_t uid = a->caller.via == service::Caller::Via::kCookie ? a->caller.user_id : 0;
  json::object body;
  CHIRON_RETURN_IF_ERROR(db_.read([&](service::Tx& tx) -> Status {
    std::string where = std::string(kReadableSql) +
                        " AND EXISTS (SELECT 1 FROM live_sessions s2 WHERE s2.channel_id = c.id AND s2.ended_at IS "
                        "NULL) ORDER BY c.name LIMIT 100";
    CHIRON_ASSIGN_OR_RETURN(auto live, load_channels(tx, where, {uid, uid}));
    json::array live_json;
    for (const auto& c : live) {
      CHIRON_ASSIGN_OR_RETURN(auto cj, channel_json(tx, c));
      live_json.push_back(std::move(cj));
    }
    body["live"] = std::move(live_json);
    CHIRON_ASSIGN_OR_RETURN(
        auto recent, load_sessions(tx, "s.ended_at IS NOT NULL AND " + std::string(kReadableSql) +
                                           " ORDER BY s.started_at DESC, s.id DESC LIMIT 10",
                                   {uid, uid}));
    json::array recent_json;
    for (const auto& s : recent) {
      CHIRON_ASSIGN_OR_RETURN(auto sj, session_json(tx, s));
      recent_json.push_back(std::move(sj));
    }
    body["recent_sessions"] = std::move(recent_json);
    CHIRON_ASSIGN_OR_RETURN(auto top, top_reviewers(tx, 5));
    json::array top_json;
    for (auto& t : top) top_json.push_back(std::move(t));
    body["top_reviewers"] = std::move(top_json);
    return {};
  }));
  return Reply{200, std::move(body), {}};
}

Result<Reply> ReviewServiceImpl::list_channels(Ctx& ctx) {
  CHIRON_ASSIGN_OR_RETURN(const Auth* a, ctx.auth());
  const int64_t uid = a->caller.via == service::Caller::Via::kCookie ? a->caller.user_id : 0;
  const bool live_only = ctx.req.query_param("live").value_or("") == "1";
  std::string where(kReadableSql);
  if (live_only) where += " AND EXISTS (SELECT 1 FROM live_sessions s2 WHERE s2.channel_id = c.id AND s2.ended_at IS NULL)";
  where += " ORDER BY c.name LIMIT " + std::to_string(kMaxListedChannels);
  json::array out;
  CHIRON_RETURN_IF_ERROR(db_.read([&](service::Tx& tx) -> Status {
    CHIRON_ASSIGN_OR_RETURN(auto rows, load_channels(tx, where, {uid, uid}));
    for (const auto& c : rows) {
      CHIRON_ASSIGN_OR_RETURN(auto cj, channel_json(tx, c));
      out.push_back(std::move(cj));
    }
    return {};
  }));
  json::object body;
  body["channels"] = std::move(out);
  return Reply{200, std::move(body), {}};
}

Result<Reply> ReviewServiceImpl::get_channel(Ctx& ctx) {
  CHIRON_RETURN_IF_ERROR(ctx.auth());
  CHIRON_ASSIGN_OR_RETURN(auto body, db_.read_value<json::object>([&](service::Tx& tx) -> Result<json::object> {
    CHIRON_ASSIGN_OR_RETURN(ChannelRow c, readable_channel(ctx, tx));
    return channel_json(tx, c);
  }));
  return Reply{200, std::move(body), {}};
}

Result<Reply> ReviewServiceImpl::patch_channel(Ctx& ctx) {
  CHIRON_RETURN_IF_ERROR(ctx.user());
  CHIRON_ASSIGN_OR_RETURN(auto body, service::json_body(ctx.req));
  CHIRON_ASSIGN_OR_RETURN(auto title, service::opt_string_field(body, "title", kMaxTitleBytes));
  CHIRON_ASSIGN_OR_RETURN(auto description, service::opt_string_field(body, "description", kMaxDescriptionBytes));
  CHIRON_ASSIGN_OR_RETURN(auto is_private, service::opt_bool_field(body, "private"));
  CHIRON_ASSIGN_OR_RETURN(auto record, service::opt_bool_field(body, "record"));
  if (title) {
    CHIRON_ASSIGN_OR_RETURN(*title, clean_display_name(*title).context("title"));
  }
  if (description && !valid_text(*description))
    return api_status(StatusCode::kInvalidArgument, "invalid_field", "field 'description' must be printable UTF-8");
  std::optional<std::string> tags_json;
  if (auto it = body.find("tags"); it != body.end() && !it->value().is_null()) {
    CHIRON_ASSIGN_OR_RETURN(auto tags, parse_tags_json(json::serialize(it->value())));
    tags_json = tags_to_json(tags);
  }
  CHIRON_ASSIGN_OR_RETURN(auto out, db_.write_value<json::object>([&](service::Tx& tx) -> Result<json::object> {
    CHIRON_ASSIGN_OR_RETURN(ChannelRow c, owned_channel(ctx, tx));
    if (title) CHIRON_RETURN_IF_ERROR(tx.exec("UPDATE channels SET title = ? WHERE id = ?", {*title, c.id}));
    if (description)
      CHIRON_RETURN_IF_ERROR(tx.exec("UPDATE channels SET description = ? WHERE id = ?", {*description, c.id}));
    if (tags_json) CHIRON_RETURN_IF_ERROR(tx.exec("UPDATE channels SET tags = ? WHERE id = ?", {*tags_json, c.id}));
    if (record) CHIRON_RETURN_IF_ERROR(tx.exec("UPDATE channels SET record = ? WHERE id = ?", {int64_t{*record ? 1 : 0}, c.id}));
    if (is_private && *is_private != c.is_private) {
      // A private channel's chat room is unguessable; a public one's is its name.
      std::string room = *is_private ? private_room(c.name) : c.name;
      CHIRON_RETURN_IF_ERROR(tx.exec("UPDATE channels SET private = ?, chat_room = ? WHERE id = ?",
                                     {int64_t{*is_private ? 1 : 0}, room, c.id}));
    }
    CHIRON_ASSIGN_OR_RETURN(auto updated, load_channel(tx, "c.id = ?", {c.id}));
    return channel_json(tx, *updated);
  }));
  return Reply{200, std::move(out), {}};
}

Result<Reply> ReviewServiceImpl::get_secrets(Ctx& ctx) {
  CHIRON_RETURN_IF_ERROR(ctx.user());
  CHIRON_ASSIGN_OR_RETURN(auto out, db_.read_value<json::object>([&](service::Tx& tx) -> Result<json::object> {
    CHIRON_ASSIGN_OR_RETURN(ChannelRow c, owned_channel(ctx, tx));
    CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT stream_key, push_token FROM channels WHERE id = ?", {c.id}));
    json::object o;
    o["stream_key"] = row->text(0);
    o["push_token"] = row->text(1);
    return o;
  }));
  return Reply{200, std::move(out), {}};
}

Result<Reply> ReviewServiceImpl::rotate_secrets(Ctx& ctx) {
  CHIRON_RETURN_IF_ERROR(ctx.user());
  CHIRON_ASSIGN_OR_RETURN(auto body, service::json_body(ctx.req));
  CHIRON_ASSIGN_OR_RETURN(std::string which, service::string_field(body, "which", true, 32));
  if (which != "stream_key" && which != "push_token")
    return api_status(StatusCode::kInvalidArgument, "invalid_field", "field 'which' must be stream_key or push_token");
  CHIRON_ASSIGN_OR_RETURN(auto out, db_.write_value<json::object>([&](service::Tx& tx) -> Result<json::object> {
    CHIRON_ASSIGN_OR_RETURN(ChannelRow c, owned_channel(ctx, tx));
    if (which == "stream_key") {
      CHIRON_RETURN_IF_ERROR(
          tx.exec("UPDATE channels SET stream_key = ? WHERE id = ?", {"sk_" + random_token(24), c.id}));
    } else {
      const std::string token = "pt_" + random_token(32);
      CHIRON_RETURN_IF_ERROR(tx.exec("UPDATE channels SET push_token = ?, push_token_sha256 = ? WHERE id = ?",
                                     {token, sha256_hex(token), c.id}));
    }
    CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT stream_key, push_token FROM channels WHERE id = ?", {c.id}));
    json::object o;
    o["stream_key"] = row->text(0);
    o["push_token"] = row->text(1);
    return o;
  }));
  return Reply{200, std::move(out), {}};
}

Result<json::array> ReviewServiceImpl::invites_json(service::Tx& tx, int64_t channel_id) {
  CHIRON_ASSIGN_OR_RETURN(auto rows, tx.query("SELECT u.id, u.name, u.display_name FROM channel_invites i JOIN users "
                                              "u ON u.id = i.user_id WHERE i.channel_id = ? ORDER BY u.name",
                                              {channel_id}));
  json::array a;
  for (const auto& r : rows) a.push_back(user_json(UserRow{r.integer(0), r.text(1), r.text(2)}));
  return a;
}

Result<Reply> ReviewServiceImpl::list_invites(Ctx& ctx) {
  CHIRON_RETURN_IF_ERROR(ctx.user());
  CHIRON_ASSIGN_OR_RETURN(auto out, db_.read_value<json::array>([&](service::Tx& tx) -> Result<json::array> {
    CHIRON_ASSIGN_OR_RETURN(ChannelRow c, owned_channel(ctx, tx));
    return invites_json(tx, c.id);
  }));
  json::object body;
  body["invites"] = std::move(out);
  return Reply{200, std::move(body), {}};
}

Result<Reply> ReviewServiceImpl::add_invite(Ctx& ctx) {
  CHIRON_RETURN_IF_ERROR(ctx.user());
  CHIRON_ASSIGN_OR_RETURN(auto body, service::json_body(ctx.req));
  CHIRON_ASSIGN_OR_RETURN(std::string name, service::string_field(body, "user", true, 64));
  CHIRON_ASSIGN_OR_RETURN(auto out, db_.write_value<json::array>([&](service::Tx& tx) -> Result<json::array> {
    CHIRON_ASSIGN_OR_RETURN(ChannelRow c, owned_channel(ctx, tx));
    CHIRON_ASSIGN_OR_RETURN(auto user, load_user(tx, name));
    if (!user) return Status::not_found("no user " + name);
    if (user->id == c.owner.id) return Status::invalid_argument("the owner needs no invite");
    CHIRON_RETURN_IF_ERROR(tx.exec("INSERT INTO channel_invites (channel_id, user_id, created_at) VALUES (?, ?, ?) "
                                   "ON CONFLICT (channel_id, user_id) DO NOTHING",
                                   {c.id, user->id, now_ms()}));
    return invites_json(tx, c.id);
  }));
  json::object o;
  o["invites"] = std::move(out);
  return Reply{201, std::move(o), {}};
}

Result<Reply> ReviewServiceImpl::remove_invite(Ctx& ctx) {
  CHIRON_RETURN_IF_ERROR(ctx.user());
  const std::string name(ctx.req.param("user"));
  CHIRON_ASSIGN_OR_RETURN(auto out, db_.write_value<json::array>([&](service::Tx& tx) -> Result<json::array> {
    CHIRON_ASSIGN_OR_RETURN(ChannelRow c, owned_channel(ctx, tx));
    CHIRON_ASSIGN_OR_RETURN(auto user, load_user(tx, name));
    if (!user) return Status::not_found("no user " + name);
    CHIRON_RETURN_IF_ERROR(
        tx.exec("DELETE FROM channel_invites WHERE channel_id = ? AND user_id = ?", {c.id, user->id}));
    return invites_json(tx, c.id);
  }));
  json::object o;
  o["invites"] = std::move(out);
  return Reply{200, std::move(o), {}};
}

Result<service::ChannelRef> ReviewServiceImpl::channel_for_stream_key(std::string_view stream_key) {
  if (stream_key.empty() || stream_key.size() > 256) return Status::not_found("unknown stream key");
  CHIRON_ASSIGN_OR_RETURN(auto row, db_.read_value<std::optional<service::Row>>([&](service::Tx& tx) {
    return tx.query_one("SELECT name FROM channels WHERE stream_key = ?", {std::string(stream_key)});
  }));
  if (!row) return Status::not_found("unknown stream key");
  return channel(row->text(0));
}

}  // namespace chiron::review
