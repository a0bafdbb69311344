// Sign-up, log-in, log-out, cookies, CSRF, push tokens, channel settings and private access.

#include <gtest/gtest.h>

#include "chat/token.h"
#include "review/password.h"
#include "review_testutil.h"

namespace chiron::review::testing {
namespace {

namespace json = boost::json;

using AccountsTest = ReviewTest;

TEST_F(AccountsTest, SignupSetsASecureSessionCookieAndMeKnowsTheUser) {
  Reply r = call("POST", "/api/v1/auth/signup", R"({"name":"alice","password":"correct horse","display_name":"Alice"})");
  ASSERT_EQ(r.status, 201) << r.raw.body;
  EXPECT_EQ(r.json.at("user").at("name").as_string(), "alice");
  EXPECT_EQ(r.json.at("user").at("display_name").as_string(), "Alice");
  EXPECT_EQ(r.json.at("channel").at("name").as_string(), "alice");
  const std::string set = r.header("Set-Cookie");
  EXPECT_EQ(set.rfind("chiron_session=", 0), 0u) << set;
  EXPECT_NE(set.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set.find("SameSite=Lax"), std::string::npos);
  EXPECT_NE(set.find("Path=/"), std::string::npos);
  EXPECT_NE(set.find("Max-Age=2592000"), std::string::npos);
  EXPECT_EQ(set.find("Secure"), std::string::npos);
  const std::string cookie = set.substr(0, set.find(';'));
  EXPECT_GE(cookie.size(), std::string("chiron_session=").size() + 43);  // 256 bits in base64url

  Reply me = call("GET", "/api/v1/me", "", {{"Cookie", cookie}});
  ASSERT_EQ(me.status, 200) << me.raw.body;
  EXPECT_EQ(me.json.at("user").at("name").as_string(), "alice");
  EXPECT_EQ(me.json.at("csrf"), r.json.at("csrf"));
  EXPECT_EQ(me.json.at("channel").at("owner").at("name").as_string(), "alice");

  // The server keeps only a hash of the cookie token.
  auto stored = db_->read_value<std::vector<service::Row>>(
      [](service::Tx& tx) { return tx.query("SELECT token_sha256 FROM login_sessions"); });
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].text(0), sha256_hex(cookie.substr(cookie.find('=') + 1)));
}

TEST_F(AccountsTest, MeWithoutACookieIs401) {
  EXPECT_EQ(call("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(call("GET", "/api/v1/me", "", {{"Cookie", "chiron_session=forged"}}).status, 401);
}

TEST_F(AccountsTest, LoginChecksThePasswordAndAnswersTheSameForUnknownNames) {
  signup("alice", "correct horse");
  Reply ok = call("POST", "/api/v1/auth/login", R"({"name":"alice","password":"correct horse"})");
  ASSERT_EQ(ok.status, 200) << ok.raw.body;
  EXPECT_FALSE(ok.header("Set-Cookie").empty());
  Reply wrong = call("POST", "/api/v1/auth/login", R"({"name":"alice","password":"wrong horse"})");
  Reply unknown = call("POST", "/api/v1/auth/login", R"({"name":"nobody","password":"wrong horse"})");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.raw.body, unknown.raw.body);
  EXPECT_TRUE(wrong.header("Set-Cookie").empty());
}

TEST_F(AccountsTest, StoredPasswordIsAnArgon2idHash) {
  signup("alice", "correct horse");
  auto h = db_->read_value<std::optional<service::Row>>(
      [](service::Tx& tx) { return tx.query_one("SELECT password_hash FROM users WHERE name = 'alice'"); });
  ASSERT_TRUE(h.ok() && h->has_value());
  EXPECT_EQ((*h)->text(0).rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(verify_password((*h)->text(0), "correct horse"));
}

TEST_F(AccountsTest, LogoutNeedsTheCsrfTokenThenEndsTheSession) {
  Browser a = signup("alice");
  Reply none = call("POST", "/api/v1/auth/logout", "", {{"Cookie", a.cookie}});
  EXPECT_EQ(none.status, 403);
  EXPECT_EQ(none.code(), "csrf");
  Reply wrong = call("POST", "/api/v1/auth/logout", "", {{"Cookie", a.cookie}, {"X-CSRF-Token", a.csrf + "x"}});
  EXPECT_EQ(wrong.status, 403);
  EXPECT_EQ(wrong.code(), "csrf");
  Reply cross = call("POST", "/api/v1/auth/logout", "",
                     {{"Cookie", a.cookie}, {"X-CSRF-Token", a.csrf}, {"Origin", "https://evil.example"}});
  EXPECT_EQ(cross.status, 403);
  EXPECT_EQ(call("GET", "/api/v1/me", "", {{"Cookie", a.cookie}}).status, 200);

  Reply out = call("POST", "/api/v1/auth/logout", "",
                   {{"Cookie", a.cookie}, {"X-CSRF-Token", a.csrf}, {"Origin", "http://chiron.test"}});
  EXPECT_EQ(out.status, 204);
  EXPECT_NE(out.header("Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(call("GET", "/api/v1/me", "", {{"Cookie", a.cookie}}).status, 401);
}

TEST_F(AccountsTest, JsonEndpointsRefuseOtherContentTypes) {
  Reply r = call("POST", "/api/v1/auth/signup", R"({"name":"alice","password":"correct horse"})",
                 {{"Content-Type", "application/x-www-form-urlencoded"}}, false);
  EXPECT_EQ(r.status, 415);
  EXPECT_EQ(r.code(), "unsupported_media_type");
  Reply login = call("POST", "/api/v1/auth/login", "name=alice&password=x", {{"Content-Type", "text/plain"}}, false);
  EXPECT_EQ(login.status, 415);
  Browser a = signup("alice");
  Reply patch = call("PATCH", "/api/v1/channels/alice", R"({"title":"x"})",
                     {{"Cookie", a.cookie}, {"X-CSRF-Token", a.csrf}, {"Content-Type", "text/plain"}}, false);
  EXPECT_EQ(patch.status, 415);
  EXPECT_EQ(call("POST", "/api/v1/auth/signup", "{nope").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/auth/signup", "[1]").status, 400);
}

TEST_F(AccountsTest, SignupRefusesBadNamesPasswordsAndDuplicates) {
  for (const char* name : {"A", "Alice", "_x", "x", "a b", "../etc", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}) {
    Reply r = call("POST", "/api/v1/auth/signup",
                   json::serialize(json::object{{"name", name}, {"password", "correct horse"}}));
    EXPECT_EQ(r.status, 400) << name;
    EXPECT_EQ(r.code(), "invalid_name") << name;
  }
  EXPECT_EQ(call("POST", "/api/v1/auth/signup", R"({"name":"bob","password":"short"})").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/auth/signup", R"({"name":"bob"})").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/auth/signup", R"({"name":"bob","password":12345678})").status, 400);
  EXPECT_EQ(call("POST", "/api/v1/auth/signup", R"({"name":"bob","password":"correct horse","display_name":"a\nb"})")
                .status,
            400);
  signup("bob");
  Reply dup = call("POST", "/api/v1/auth/signup", R"({"name":"bob","password":"another one"})");
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(dup.code(), "already_exists");
  // The chat's own identities cannot be taken: "system" posts line comments, anon-* are anonymous.
  for (const char* name : {"system", "anon-1234", "admin"}) {
    Reply r = call("POST", "/api/v1/auth/signup",
                   json::serialize(json::object{{"name", name}, {"password", "correct horse"}}));
    EXPECT_EQ(r.status, 409) << name;
    EXPECT_NE(r.raw.body.find("reserved"), std::string::npos) << r.raw.body;
  }
}

TEST_F(AccountsTest, SessionsRenewAfterADayAndExpireAfterThirtyDays) {
  Browser a = signup("alice");
  Reply fresh = call("GET", "/api/v1/me", "", {{"Cookie", a.cookie}});
  EXPECT_TRUE(fresh.header("Set-Cookie").empty());
  clock_.advance(std::chrono::hours(25));
  Reply renewed = call("GET", "/api/v1/me", "", {{"Cookie", a.cookie}});
  EXPECT_EQ(renewed.status, 200);
  EXPECT_NE(renewed.header("Set-Cookie").find(a.cookie), std::string::npos);
  clock_.advance(std::chrono::hours(24 * 29));  // 30 days after the renewal minus 1 h
  EXPECT_EQ(call("GET", "/api/v1/me", "", {{"Cookie", a.cookie}}).status, 200);
  clock_.advance(std::chrono::hours(24 * 31));
  EXPECT_EQ(call("GET", "/api/v1/me", "", {{"Cookie", a.cookie}}).status, 401);
}

TEST_F(AccountsTest, AddUserGeneratesAPasswordAndSecrets) {
  auto u = svc_->add_user("carol", std::nullopt, "Carol C");
  ASSERT_TRUE(u.ok()) << u.status().to_string();
  EXPECT_GE(u->password.size(), 16u);
  EXPECT_EQ(u->stream_key.rfind("sk_", 0), 0u);
  EXPECT_EQ(u->push_token.rfind("pt_", 0), 0u);
  Reply login = call("POST", "/api/v1/auth/login",
                     json::serialize(json::object{{"name", "carol"}, {"password", u->password}}));
  EXPECT_EQ(login.status, 200);
  EXPECT_EQ(login.json.at("user").at("display_name").as_string(), "Carol C");
  auto given = svc_->add_user("dave", std::string("dave's password"), "");
  ASSERT_TRUE(given.ok());
  EXPECT_TRUE(given->password.empty());
  EXPECT_EQ(svc_->add_user("carol", std::nullopt, "").status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(svc_->add_user("Bad Name", std::nullopt, "").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(svc_->add_user("erin", std::string("short"), "").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(AccountsTest, PushTokenActsAsTheOwnerOfItsChannelOnly) {
  auto alice = svc_->add_user("alice", std::string("correct horse"), "");
  auto bob = svc_->add_user("bob", std::string("correct horse"), "");
  ASSERT_TRUE(alice.ok() && bob.ok());
  net::Request req;
  req.method = "PUT";
  req.headers.add("Authorization", "Bearer " + alice->push_token);
  auto c = svc_->caller(req);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->via, service::Caller::Via::kPushToken);
  EXPECT_EQ(c->user_id, alice->user_id);
  EXPECT_TRUE(c->csrf_ok);
  EXPECT_TRUE(svc_->can_write(*c, *svc_->channel("alice")));
  EXPECT_FALSE(svc_->can_write(*c, *svc_->channel("bob")));
  // Not a session for the accounts API.
  Reply me = call("GET", "/api/v1/me", "", {{"Authorization", "Bearer " + alice->push_token}});
  EXPECT_EQ(me.status, 401);
  net::Request bad;
  bad.method = "PUT";
  bad.headers.add("Authorization", "Bearer pt_nope");
  EXPECT_TRUE(svc_->caller(bad)->anonymous());
}

TEST_F(AccountsTest, CookieCallersWriteOnlyWithTheCsrfToken) {
  Browser a = signup("alice");
  net::Request req;
  req.method = "PUT";
  req.headers.add("Cookie", a.cookie);
  auto no_csrf = svc_->caller(req);
  ASSERT_TRUE(no_csrf.ok());
  EXPECT_EQ(no_csrf->user_id, a.user_id);
  EXPECT_FALSE(no_csrf->csrf_ok);
  EXPECT_FALSE(svc_->can_write(*no_csrf, *svc_->channel("alice")));
  req.headers.add("X-CSRF-Token", a.csrf);
  auto with = svc_->caller(req);
  EXPECT_TRUE(with->csrf_ok);
  EXPECT_TRUE(svc_->can_write(*with, *svc_->channel("alice")));
  req.method = "GET";
  req.headers.remove("X-CSRF-Token");
  EXPECT_TRUE(svc_->caller(req)->csrf_ok);  // safe methods need no token
}

TEST_F(AccountsTest, SecretsAreOwnerOnlyAndRotate) {
  Browser a = signup("alice");
  Browser b = signup("bob");
  Reply s = as(a, "GET", "/api/v1/channels/alice/secrets");
  ASSERT_EQ(s.status, 200);
  const std::string key = std::string(s.json.at("stream_key").as_string());
  const std::string token = std::string(s.json.at("push_token").as_string());
  EXPECT_EQ(as(b, "GET", "/api/v1/channels/alice/secrets").status, 403);
  EXPECT_EQ(call("GET", "/api/v1/channels/alice/secrets").status, 401);
  EXPECT_TRUE(svc_->channel_for_stream_key(key).ok());

  Reply bad = as(a, "POST", "/api/v1/channels/alice/secrets/rotate", R"({"which":"password"})");
  EXPECT_EQ(bad.status, 400);
  Reply rot = as(a, "POST", "/api/v1/channels/alice/secrets/rotate", R"({"which":"push_token"})");
  ASSERT_EQ(rot.status, 200) << rot.raw.body;
  EXPECT_EQ(rot.json.at("stream_key").as_string(), key);
  EXPECT_NE(rot.json.at("push_token").as_string(), token);
  net::Request old_req;
  old_req.method = "PUT";
  old_req.headers.add("Authorization", "Bearer " + token);
  EXPECT_TRUE(svc_->caller(old_req)->anonymous());
  net::Request new_req;
  new_req.method = "PUT";
  new_req.headers.add("Authorization", "Bearer " + std::string(rot.json.at("push_token").as_string()));
  EXPECT_EQ(svc_->caller(new_req)->user_id, a.user_id);

  Reply rot2 = as(a, "POST", "/api/v1/channels/alice/secrets/rotate", R"({"which":"stream_key"})");
  ASSERT_EQ(rot2.status, 200);
  EXPECT_NE(rot2.json.at("stream_key").as_string(), key);
  EXPECT_EQ(svc_->channel_for_stream_key(key).status().code(), StatusCode::kNotFound);
  auto ch = svc_->channel_for_stream_key(std::string(rot2.json.at("stream_key").as_string()));
  ASSERT_TRUE(ch.ok());
  EXPECT_EQ(ch->name, "alice");
  // Without the CSRF token nothing rotates.
  Reply no_csrf = call("POST", "/api/v1/channels/alice/secrets/rotate", R"({"which":"stream_key"})",
                       {{"Cookie", a.cookie}});
  EXPECT_EQ(no_csrf.status, 403);
}

TEST_F(AccountsTest, PatchChannelValidatesAndSaves) {
  Browser a = signup("alice");
  Browser b = signup("bob");
  Reply r = as(a, "PATCH", "/api/v1/channels/alice",
               R"({"title":"Learning Rust","description":"line 1\nline 2","tags":["Rust","wasm"]})");
  ASSERT_EQ(r.status, 200) << r.raw.body;
  EXPECT_EQ(r.json.at("title").as_string(), "Learning Rust");
  EXPECT_EQ(r.json.at("tags"), (json::array{"rust", "wasm"}));
  EXPECT_EQ(as(b, "PATCH", "/api/v1/channels/alice", R"({"title":"mine"})").status, 403);
  EXPECT_EQ(as(a, "PATCH", "/api/v1/channels/alice", R"({"tags":"rust"})").status, 400);
  EXPECT_EQ(as(a, "PATCH", "/api/v1/channels/alice", R"({"title":""})").status, 400);
  EXPECT_EQ(as(a, "PATCH", "/api/v1/channels/alice", R"({"private":"yes"})").status, 400);
  Reply got = call("GET", "/api/v1/channels/alice");
  EXPECT_EQ(got.json.at("title").as_string(), "Learning Rust");
  EXPECT_EQ(got.json.at("chat_room").as_string(), "alice");
  EXPECT_EQ(got.json.at("live").as_bool(), false);
  EXPECT_TRUE(got.json.at("session").is_null());
}

TEST_F(AccountsTest, PrivateChannelsAreVisibleToOwnerAndInvitedOnly) {
  Browser a = signup("alice");
  Browser b = signup("bob");
  Browser c = signup("carol");
  Reply priv = as(a, "PATCH", "/api/v1/channels/alice", R"({"private":true})");
  ASSERT_EQ(priv.status, 200);
  const std::string room = std::string(priv.json.at("chat_room").as_string());
  EXPECT_NE(room, "alice");  // unguessable
  EXPECT_GT(room.size(), 12u);
  Reply inv = as(a, "POST", "/api/v1/channels/alice/invites", R"({"user":"bob"})");
  ASSERT_EQ(inv.status, 201) << inv.raw.body;
  EXPECT_EQ(inv.json.at("invites").as_array().size(), 1u);
  EXPECT_EQ(as(a, "POST", "/api/v1/channels/alice/invites", R"({"user":"nobody"})").status, 404);
  EXPECT_EQ(as(b, "POST", "/api/v1/channels/alice/invites", R"({"user":"carol"})").status, 403);

  EXPECT_EQ(as(a, "GET", "/api/v1/channels/alice").status, 200);
  EXPECT_EQ(as(b, "GET", "/api/v1/channels/alice").status, 200);
  EXPECT_EQ(as(c, "GET", "/api/v1/channels/alice").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/channels/alice").status, 404);
  EXPECT_EQ(call("GET", "/api/v1/channels/alice/sessions").status, 404);

  auto names = [](const Reply& r) {
    std::vector<std::string> out;
    for (const auto& ch : r.json.at("channels").as_array()) out.emplace_back(ch.at("name").as_string());
    return out;
  };
  EXPECT_EQ(names(as(b, "GET", "/api/v1/channels")), (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(names(as(c, "GET", "/api/v1/channels")), (std::vector<std::string>{"bob", "carol"}));
  EXPECT_EQ(names(call("GET", "/api/v1/channels")), (std::vector<std::string>{"bob", "carol"}));

  auto ref = svc_->channel("alice");
  ASSERT_TRUE(ref.ok());
  service::Caller anon;
  service::Caller owner{a.user_id, "alice", "alice", service::Caller::Via::kCookie, true, 0};
  service::Caller invited{b.user_id, "bob", "bob", service::Caller::Via::kCookie, true, 0};
  service::Caller other{c.user_id, "carol", "carol", service::Caller::Via::kCookie, true, 0};
  EXPECT_TRUE(svc_->can_read(owner, *ref));
  EXPECT_TRUE(svc_->can_read(invited, *ref));
  EXPECT_FALSE(svc_->can_read(other, *ref));
  EXPECT_FALSE(svc_->can_read(anon, *ref));
  EXPECT_FALSE(svc_->can_write(invited, *ref));

  Reply del = as(a, "DELETE", "/api/v1/channels/alice/invites/bob");
  ASSERT_EQ(del.status, 200);
  EXPECT_TRUE(del.json.at("invites").as_array().empty());
  EXPECT_EQ(as(b, "GET", "/api/v1/channels/alice").status, 404);
  EXPECT_FALSE(svc_->can_read(invited, *ref));
  // Public again: the room is the name again.
  Reply pub = as(a, "PATCH", "/api/v1/channels/alice", R"({"private":false})");
  EXPECT_EQ(pub.json.at("chat_room").as_string(), "alice");
  EXPECT_EQ(call("GET", "/api/v1/channels/alice").status, 200);
}

TEST_F(AccountsTest, ChatTokenNamesTheUserAndMakesTheOwnerModerator) {
  Browser a = signup("alice");
  Browser b = signup("bob");
  EXPECT_EQ(call("GET", "/api/v1/chat/token?channel=alice").status, 401);
  Reply own = as(a, "GET", "/api/v1/chat/token?channel=alice");
  ASSERT_EQ(own.status, 200) << own.raw.body;
  EXPECT_EQ(own.json.at("room").as_string(), "alice");
  const int64_t now_s = clock_.unix_ms() / 1000;
  auto claims = chat::verify_chat_token("test-chat-secret", own.json.at("token").as_string(), now_s);
  ASSERT_TRUE(claims.ok()) << claims.status().to_string();
  EXPECT_EQ(claims->user, "alice");
  EXPECT_TRUE(claims->moderates_room("alice"));
  Reply viewer = as(b, "GET", "/api/v1/chat/token?channel=alice");
  auto vc = chat::verify_chat_token("test-chat-secret", viewer.json.at("token").as_string(), now_s);
  ASSERT_TRUE(vc.ok());
  EXPECT_EQ(vc->user, "bob");
  EXPECT_FALSE(vc->moderates_room("alice"));
  EXPECT_EQ(as(b, "GET", "/api/v1/chat/token?channel=nobody").status, 404);
}

}  // namespace
}  // namespace chiron::review::testing
