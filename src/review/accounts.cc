// Accounts: sign-up, log-in, cookie sessions, CSRF, push tokens (service::Access), the route
// table, and the service's lifecycle.

#include <openssl/crypto.h>

#include <boost/json/serialize.hpp>

#include "chat/token.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/strings.h"
#include "review/review_impl.h"
#include "review/schema.h"
#include "review/validate.h"
#include "service/http.h"

namespace chiron::review {

namespace json = boost::json;
using service::api_status;

namespace {

constexpr std::string_view kCookieName = "chiron_session";
constexpr int64_t kRenewAfterMs = 24 * 3600 * 1000;

bool same_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Status wrong_login() { return Status::unauthenticated("wrong name or password"); }

}  // namespace

std::string utc_month(int64_t unix_ms) {
  return format_utc_ms(unix_ms).substr(0, 7);  // "2026-11-22T..." → "2026-11"
}

Result<std::unique_ptr<ReviewService>> ReviewService::open(service::Db& db, service::LiveHub& hub,
                                                           ReviewOptions options) {
  auto svc = std::make_unique<ReviewServiceImpl>(db, hub, std::move(options));
  CHIRON_RETURN_IF_ERROR(svc->init());
  return std::unique_ptr<ReviewService>(std::move(svc));
}

ReviewServiceImpl::ReviewServiceImpl(service::Db& db, service::LiveHub& hub, ReviewOptions options)
    : db_(db), hub_(hub), options_(std::move(options)), clock_(options_.clock ? options_.clock : &Clock::system()) {}

ReviewServiceImpl::~ReviewServiceImpl() {
  {
    std::lock_guard lock(chat_mu_);
    stopping_ = true;
  }
  chat_cv_.notify_all();
  if (flusher_.joinable()) flusher_.join();
  flush_chat_counts();
}

Status ReviewServiceImpl::init() {
  CHIRON_RETURN_IF_ERROR(db_.migrate("review", review_migrations()).context("review schema"));
  if (!options_.serving) return {};
  // Sessions a crash left open end at their last sign of life.
  auto ended = db_.write_value<int64_t>([](service::Tx& tx) -> Result<int64_t> {
    return tx.exec("UPDATE live_sessions SET ended_at = last_activity WHERE ended_at IS NULL");
  });
  if (!ended.ok()) return ended.status().context("ending sessions left open");
  if (*ended > 0) log::info("review", "ended sessions left open by the last run", {{"count", *ended}});
  flusher_ = std::thread([this] { flusher_loop(); });
  return {};
}

const std::string& ReviewServiceImpl::dummy_hash() {
  std::call_once(dummy_once_, [this] {
    PasswordParams p{options_.argon2_iterations, options_.argon2_memory_kib, 1};
    auto h = hash_password(random_token(24), p);
    dummy_hash_ = h.ok() ? *h : std::string();
  });
  return dummy_hash_;
}

// ---- authentication ----

Result<Auth> ReviewServiceImpl::authenticate(const net::Request& request, bool renew) {
  Auth a;
  const bool safe = service::is_safe_method(request.method);
  if (auto authz = request.headers.get("Authorization"); authz && authz->size() > 7 &&
                                                          iequals(authz->substr(0, 7), "Bearer ")) {
    std::string_view token = authz->substr(7);
    if (token.empty() || token.size() > 256) return a;
    const std::string digest = sha256_hex(token);
    CHIRON_ASSIGN_OR_RETURN(auto row, db_.read_value<std::optional<service::Row>>([&](service::Tx& tx) {
      return tx.query_one(
          "SELECT c.id, u.id, u.name, u.display_name FROM channels c JOIN users u ON u.id = c.owner_id "
          "WHERE c.push_token_sha256 = ?",
          {digest});
    }));
    if (!row) return a;
    a.caller.via = service::Caller::Via::kPushToken;
    a.caller.push_channel_id = row->integer(0);
    a.caller.user_id = row->integer(1);
    a.caller.name = row->text(2);
    a.caller.display_name = row->text(3);
    a.caller.csrf_ok = true;
    return a;
  }
  auto cookie = request.cookie(kCookieName);
  if (!cookie || cookie->empty() || cookie->size() > 128) return a;
  const std::string digest = sha256_hex(*cookie);
  const int64_t now = now_ms();
  CHIRON_ASSIGN_OR_RETURN(auto row, db_.read_value<std::optional<service::Row>>([&](service::Tx& tx) {
    return tx.query_one(
        "SELECT u.id, u.name, u.display_name, s.csrf, s.renewed_at FROM login_sessions s "
        "JOIN users u ON u.id = s.user_id WHERE s.token_sha256 = ? AND s.expires_at > ?",
        {digest, now});
  }));
  if (!row) return a;
  a.caller.via = service::Caller::Via::kCookie;
  a.caller.user_id = row->integer(0);
  a.caller.name = row->text(1);
  a.caller.display_name = row->text(2);
  a.csrf = row->text(3);
  bool csrf_ok = safe;
  if (!safe) {
    auto header = request.headers.get("X-CSRF-Token");
    csrf_ok = header && same_secret(*header, a.csrf);
    if (auto origin = request.headers.get("Origin")) {
      auto host = request.headers.get("Host");
      csrf_ok = csrf_ok && host && origin_matches_host(*origin, *host);
    }
  }
  a.caller.csrf_ok = csrf_ok;
  if (renew && now - row->integer(4) > kRenewAfterMs) {
    Status st = db_.write([&](service::Tx& tx) -> Status {
      return tx.exec("UPDATE login_sessions SET renewed_at = ?, expires_at = ? WHERE token_sha256 = ?",
                     {now, now + options_.login_ttl_s * 1000, digest})
          .status();
    });
    if (st.ok()) {
      a.renewed = true;
      a.token = *cookie;
    }
  }
  return a;
}

Result<service::Caller> ReviewServiceImpl::caller(const net::Request& request) {
  // Other modules' routes send no Set-Cookie: renewing here would move the server's expiry
  // away from the browser's, so only the accounts routes (which answer with the cookie) renew.
  CHIRON_ASSIGN_OR_RETURN(Auth a, authenticate(request, /*renew=*/false));
  return std::move(a.caller);
}

Result<const Auth*> Ctx::auth() {
  if (!auth_) {
    CHIRON_ASSIGN_OR_RETURN(Auth a, svc_.authenticate(req));
    auth_ = std::move(a);
  }
  return &*auth_;
}

Result<const Auth*> Ctx::user() {
  CHIRON_ASSIGN_OR_RETURN(const Auth* a, auth());
  if (a->caller.via != service::Caller::Via::kCookie) return Status::unauthenticated("log in first");
  if (!a->caller.csrf_ok)
    return api_status(StatusCode::kPermissionDenied, "csrf",
                      "missing or wrong X-CSRF-Token (or a cross-site Origin)");
  return a;
}

Result<service::ChannelRef> ReviewServiceImpl::channel(std::string_view name) {
  if (!valid_name(name)) return Status::not_found("no channel " + std::string(name));
  CHIRON_ASSIGN_OR_RETURN(auto c, db_.read_value<std::optional<ChannelRow>>([&](service::Tx& tx) {
    return load_channel(tx, "c.name = ?", {std::string(name)});
  }));
  if (!c) return Status::not_found("no channel " + std::string(name));
  service::ChannelRef ref;
  ref.id = c->id;
  ref.name = c->name;
  ref.owner_id = c->owner.id;
  ref.owner_name = c->owner.name;
  ref.is_private = c->is_private;
  ref.chat_room = c->chat_room;
  ref.live_session_id = c->live_session_id;
  ref.record = c->record;
  return ref;
}

bool ReviewServiceImpl::can_read(const service::Caller& caller, const service::ChannelRef& channel) {
  if (!channel.is_private) return true;
  if (caller.anonymous()) return false;
  if (caller.via == service::Caller::Via::kPushToken) return caller.push_channel_id == channel.id;
  if (caller.user_id == channel.owner_id) return true;
  auto invited = db_.read_value<bool>([&](service::Tx& tx) { return is_invited(tx, channel.id, caller.user_id); });
  return invited.ok() && *invited;
}

bool ReviewServiceImpl::can_write(const service::Caller& caller, const service::ChannelRef& channel) {
  switch (caller.via) {
    case service::Caller::Via::kCookie: return caller.csrf_ok && caller.user_id == channel.owner_id;
    case service::Caller::Via::kPushToken: return caller.push_channel_id == channel.id;
    case service::Caller::Via::kAnonymous: return false;
  }
  return false;
}

Result<bool> ReviewServiceImpl::is_invited(service::Tx& tx, int64_t channel_id, int64_t user_id) {
  CHIRON_ASSIGN_OR_RETURN(auto row, tx.query_one("SELECT 1 FROM channel_invites WHERE channel_id = ? AND user_id = ?",
                                                 {channel_id, user_id}));
  return row.has_value();
}

// ---- users ----

Result<NewUser> ReviewServiceImpl::create_user(std::string_view name, std::string_view password,
                                               std::string_view display_name) {
  if (!valid_name(name))
    return api_status(StatusCode::kInvalidArgument, "invalid_name",
                      "a name is 2..32 characters: a-z, 0-9, '_' or '-', starting with a letter or digit");
  if (reserved_name(name))
    return api_status(StatusCode::kAlreadyExists, "already_exists", "the name '" + std::string(name) + "' is reserved");
  std::string display(display_name.empty() ? name : display_name);
  CHIRON_ASSIGN_OR_RETURN(display, clean_display_name(display));
  PasswordParams params{options_.argon2_iterations, options_.argon2_memory_kib, 1};
  CHIRON_ASSIGN_OR_RETURN(std::string hash, hash_password(password, params));  // outside the write lock
  NewUser out;
  out.name = std::string(name);
  out.stream_key = "sk_" + random_token(24);
  out.push_token = "pt_" + random_token(32);
  const int64_t now = now_ms();
  Status st = db_.write([&](service::Tx& tx) -> Status {
    auto exists = tx.query_one("SELECT id FROM users WHERE name = ?", {out.name});
    if (!exists.ok()) return exists.status();
    if (*exists) return Status::already_exists("user " + out.name + " already exists");
    CHIRON_ASSIGN_OR_RETURN(out.user_id,
                            tx.insert("INSERT INTO users (name, display_name, password_hash, created_at) "
                                      "VALUES (?, ?, ?, ?) RETURNING id",
                                      {out.name, display, hash, now}));
    return tx.insert("INSERT INTO channels (name, owner_id, title, description, tags, private, stream_key, "
                     "push_token, push_token_sha256, chat_room, created_at) VALUES (?, ?, ?, '', '[]', 0, ?, ?, "
                     "?, ?, ?) RETURNING id",
                     {out.name, out.user_id, display, out.stream_key, out.push_token, sha256_hex(out.push_token),
                      out.name, now})
        .status();
  });
  if (st.code() == StatusCode::kAlreadyExists) return Status::already_exists("user " + out.name + " already exists");
  CHIRON_RETURN_IF_ERROR(st);
  return out;
}

Result<NewUser> ReviewServiceImpl::add_user(std::string_view name, std::optional<std::string> password,
                                            std::string_view display_name) {
  std::string generated;
  if (!password) generated = random_token(18);
  CHIRON_ASSIGN_OR_RETURN(NewUser u, create_user(name, password ? *password : generated, display_name));
  u.password = generated;
  return u;
}

// ---- routes ----

std::string ReviewServiceImpl::session_cookie(const std::string& token, int64_t max_age_s) const {
  std::string c = std::string(kCookieName) + "=" + token + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                  std::to_string(max_age_s);
  if (options_.secure_cookies) c += "; Secure";
  return c;
}

Result<Reply> ReviewServiceImpl::logged_in_reply(int status, const UserRow& user, bool with_channel) {
  const std::string token = random_token(32);  // 256 bits
  const std::string csrf = random_token(24);
  const int64_t now = now_ms();
  json::object body;
  Status st = db_.write([&](service::Tx& tx) -> Status {
    CHIRON_RETURN_IF_ERROR(tx.exec("DELETE FROM login_sessions WHERE expires_at <= ?", {now}));
    CHIRON_RETURN_IF_ERROR(tx.exec("INSERT INTO login_sessions (token_sha256, user_id, csrf, created_at, renewed_at, "
                                   "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                                   {sha256_hex(token), user.id, csrf, now, now, now + options_.login_ttl_s * 1000}));
    if (with_channel) {
      CHIRON_ASSIGN_OR_RETURN(auto c, load_channel(tx, "c.owner_id = ?", {user.id}));
      if (c) {
        CHIRON_ASSIGN_OR_RETURN(auto cj, channel_json(tx, *c));
        body["channel"] = std::move(cj);
      }
    }
    return {};
  });
  CHIRON_RETURN_IF_ERROR(st);
  body["user"] = user_json(user);
  body["csrf"] = csrf;
  Reply r{status, std::move(body), {}};
  r.headers.emplace_back("Set-Cookie", session_cookie(token, options_.login_ttl_s));
  return r;
}

Result<Reply> ReviewServiceImpl::signup(Ctx& ctx) {
  CHIRON_ASSIGN_OR_RETURN(auto body, service::json_body(ctx.req));
  CHIRON_ASSIGN_OR_RETURN(std::string name, service::string_field(body, "name", true, 64));
  CHIRON_ASSIGN_OR_RETURN(std::string password, service::string_field(body, "password", true, kMaxPasswordBytes));
  CHIRON_ASSIGN_OR_RETURN(std::string display, service::string_field(body, "display_name", false, 256));
  CHIRON_ASSIGN_OR_RETURN(NewUser u, create_user(name, password, display));
  CHIRON_ASSIGN_OR_RETURN(auto user, db_.read_value<std::optional<UserRow>>(
                                         [&](service::Tx& tx) { return load_user(tx, u.name); }));
  if (!user) return Status::internal("the new user vanished");
  return logged_in_reply(201, *user, true);
}

Result<Reply> ReviewServiceImpl::login(Ctx& ctx) {
  CHIRON_ASSIGN_OR_RETURN(auto body, service::json_body(ctx.req));
  CHIRON_ASSIGN_OR_RETURN(std::string name, service::string_field(body, "name", true, 64));
  CHIRON_ASSIGN_OR_RETURN(std::string password, service::string_field(body, "password", true, kMaxPasswordBytes));
  std::optional<service::Row> row;
  if (valid_name(name)) {
    CHIRON_ASSIGN_OR_RETURN(row, db_.read_value<std::optional<service::Row>>([&](service::Tx& tx) {
      return tx.query_one("SELECT id, name, display_name, password_hash FROM users WHERE name = ?", {name});
    }));
  }
  if (!row) {
    // The same argon2 work as for a real user: the answer time does not reveal the name.
    (void)verify_password(dummy_hash(), password);
    return wrong_login();
  }
  if (!verify_password(row->text(3), password)) return wrong_login();
  return logged_in_reply(200, UserRow{row->integer(0), row->text(1), row->text(2)}, true);
}

Result<Reply> ReviewServiceImpl::logout(Ctx& ctx) {
  CHIRON_RETURN_IF_ERROR(ctx.user());
  auto cookie = ctx.req.cookie(kCookieName);
  const std::string digest = sha256_hex(cookie.value_or(""));
  CHIRON_RETURN_IF_ERROR(db_.write([&](service::Tx& tx) -> Status {
    return tx.exec("DELETE FROM login_sessions WHERE token_sha256 = ?", {digest}).status();
  }));
  Reply r{204, nullptr, {}};
  r.headers.emplace_back("Set-Cookie", session_cookie("", 0));
  return r;
}

Result<Reply> ReviewServiceImpl::me(Ctx& ctx) {
  CHIRON_ASSIGN_OR_RETURN(const Auth* a, ctx.auth());
  if (a->caller.via != service::Caller::Via::kCookie) return Status::unauthenticated("not logged in");
  const UserRow user{a->caller.user_id, a->caller.name, a->caller.display_name};
  json::object body;
  body["user"] = user_json(user);
  body["csrf"] = a->csrf;
  CHIRON_RETURN_IF_ERROR(db_.read([&](service::Tx& tx) -> Status {
    CHIRON_ASSIGN_OR_RETURN(auto c, load_channel(tx, "c.owner_id = ?", {user.id}));
    if (c) {
      CHIRON_ASSIGN_OR_RETURN(auto cj, channel_json(tx, *c));
      body["channel"] = std::move(cj);
    } else {
      body["channel"] = nullptr;
    }
    return {};
  }));
  return Reply{200, std::move(body), {}};
}

// The push client's "who am I": the channel its token writes to (so `chiron push` needs only
// --server and --token).
Result<Reply> ReviewServiceImpl::push_channel(Ctx& ctx) {
  CHIRON_ASSIGN_OR_RETURN(const Auth* a, ctx.auth());
  if (a->caller.via != service::Caller::Via::kPushToken)
    return Status::unauthenticated("send the channel's push token (Authorization: Bearer pt_...)");
  json::object body;
  CHIRON_RETURN_IF_ERROR(db_.read([&](service::Tx& tx) -> Status {
    CHIRON_ASSIGN_OR_RETURN(auto c, load_channel(tx, "c.id = ?", {a->caller.push_channel_id}));
    if (!c) return Status::not_found("the token's channel is gone");
    CHIRON_ASSIGN_OR_RETURN(auto cj, channel_json(tx, *c));
    body["channel"] = std::move(cj);
    return {};
  }));
  return Reply{200, std::move(body), {}};
}

Result<Reply> ReviewServiceImpl::chat_token(Ctx& ctx) {
  if (options_.chat_secret.empty()) return Status::unavailable("the chat is not configured (no --chat-secret)");
  CHIRON_ASSIGN_OR_RETURN(const Auth* a, ctx.auth());
  if (a->caller.via != service::Caller::Via::kCookie) return Status::unauthenticated("log in to chat");
  auto name = ctx.req.query_param("channel");
  if (!name) return Status::invalid_argument("missing query parameter 'channel'");
  auto ref = channel(*name);
  if (!ref.ok()) return ref.status();
  if (!can_read(a->caller, *ref)) return Status::not_found("no channel " + *name);
  const int64_t now_s = now_ms() / 1000;
  chat::ChatClaims claims;
  claims.user = a->caller.name;
  claims.name = a->caller.display_name;
  if (a->caller.user_id == ref->owner_id) claims.moderates.push_back(ref->chat_room);
  claims.expires_unix_s = now_s + options_.chat_token_ttl_s;
  json::object body;
  body["token"] = chat::sign_chat_token(options_.chat_secret, claims, now_s);
  body["room"] = ref->chat_room;
  body["expires_at"] = format_utc_ms(claims.expires_unix_s * 1000);
  return Reply{200, std::move(body), {}};
}

net::Response ReviewServiceImpl::run(Route route, const net::Request& req) {
  Ctx ctx(*this, req);
  Result<Reply> r = (this->*route)(ctx);
  net::Response resp;
  if (!r.ok()) {
    resp = service::error_response(r.status());
  } else if (r->status == 204) {
    resp.status = 204;
  } else {
    resp = service::json_response(r->status, r->body);
  }
  if (r.ok())
    for (auto& [k, v] : r->headers) resp.headers.add(k, v);
  // A renewed session goes back to the browser whatever the answer (the database already moved
  // its expiry), unless the route set its own cookie (login, logout).
  const auto& a = ctx.cached();
  if (a && a->renewed && !(r.ok() && !r->headers.empty()))
    resp.headers.add("Set-Cookie", session_cookie(a->token, options_.login_ttl_s));
  return resp;
}

void ReviewServiceImpl::register_routes(net::Router& router, kernel::Runtime& runtime) {
  auto h = [this, &runtime](Route route) {
    return service::on_disk(runtime, [this, route](const net::Request& req) { return run(route, req); });
  };
  router.post("/api/v1/auth/signup", h(&ReviewServiceImpl::signup));
  router.post("/api/v1/auth/login", h(&ReviewServiceImpl::login));
  router.post("/api/v1/auth/logout", h(&ReviewServiceImpl::logout));
  router.get("/api/v1/me", h(&ReviewServiceImpl::me));
  router.get("/api/v1/push/channel", h(&ReviewServiceImpl::push_channel));
  router.get("/api/v1/chat/token", h(&ReviewServiceImpl::chat_token));
  router.get("/api/v1/home", h(&ReviewServiceImpl::home));
  router.get("/api/v1/channels", h(&ReviewServiceImpl::list_channels));
  router.get("/api/v1/channels/:name", h(&ReviewServiceImpl::get_channel));
  router.patch("/api/v1/channels/:name", h(&ReviewServiceImpl::patch_channel));
  router.get("/api/v1/channels/:name/secrets", h(&ReviewServiceImpl::get_secrets));
  router.post("/api/v1/channels/:name/secrets/rotate", h(&ReviewServiceImpl::rotate_secrets));
  router.get("/api/v1/channels/:name/invites", h(&ReviewServiceImpl::list_invites));
  router.post("/api/v1/channels/:name/invites", h(&ReviewServiceImpl::add_invite));
  router.del("/api/v1/channels/:name/invites/:user", h(&ReviewServiceImpl::remove_invite));
  router.post("/api/v1/channels/:name/sessions", h(&ReviewServiceImpl::start_session_route));
  router.post("/api/v1/channels/:name/sessions/current/end", h(&ReviewServiceImpl::end_session_route));
  router.get("/api/v1/channels/:name/sessions", h(&ReviewServiceImpl::list_sessions));
  router.get("/api/v1/sessions/:id", h(&ReviewServiceImpl::get_session));
  router.get("/api/v1/sessions/:id/ratings", h(&ReviewServiceImpl::list_ratings));
  router.put("/api/v1/sessions/:id/ratings/:reviewer", h(&ReviewServiceImpl::put_rating));
  router.get("/api/v1/reviewers", h(&ReviewServiceImpl::list_reviewers));
  router.get("/api/v1/reviewers/:name", h(&ReviewServiceImpl::reviewer_profile));
}

}  // namespace chiron::review
