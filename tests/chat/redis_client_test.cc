// RedisPublisher / RedisSubscriber against real redis-server processes on 127.0.0.1, and
// parse_redis_url on hostile input. Every wait is bounded.

#include "chat/redis_client.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "redis_testutil.h"

namespace chiron::chat {
namespace {

using namespace std::chrono_literals;
using redis_test::Inbox;
using redis_test::kRedisServer;
using redis_test::kWait;
using redis_test::RedisServer;
using redis_test::free_port;

class RedisClientTest : public redis_test::RedisFixture {
 protected:
  void release_clients() override {
    publisher_.reset();
    subscriber_.reset();
  }

  RedisPublisher& publisher() {
    if (!publisher_) {
      publisher_ = std::make_unique<RedisPublisher>(io_, options());
      publisher_->start();
    }
    return *publisher_;
  }

  RedisSubscriber& subscriber() {
    subscriber_ = std::make_unique<RedisSubscriber>(io_, options());
    subscriber_->on_message([this](const std::string& c, const std::string& p) { messages_.push({c, p}); });
    subscriber_->on_gap([this](std::vector<std::string> channels) { gaps_.push(std::move(channels)); });
    subscriber_->on_state([this](bool up) { states_.push(up); });
    subscriber_->start();
    return *subscriber_;
  }

  Result<RedisValue> run(std::vector<std::string> args) {
    Inbox<Result<RedisValue>> box;
    publisher().command(std::move(args), [&box](Result<RedisValue> r) { box.push(std::move(r)); });
    auto r = box.pop();
    if (!r) return Status::deadline_exceeded("no reply within the test deadline");
    return std::move(*r);
  }

  Result<int64_t> publish(const std::string& channel, const std::string& payload) {
    // (Status, receivers) rather than Result<int64_t>: g++ 12 warns -Wmaybe-uninitialized
    // on a moved Result<int64_t> inside std::optional.
    Inbox<std::pair<Status, int64_t>> box;
    publisher().publish(channel, payload, [&box](Result<int64_t> r) {
      box.push({r.status(), r.ok() ? *r : -1});
    });
    auto r = box.pop();
    if (!r) return Status::deadline_exceeded("no reply within the test deadline");
    if (!r->first.ok()) return r->first;
    return r->second;
  }

  // Publishes until one subscriber received it (the SUBSCRIBE may still be in flight), so the
  // message is delivered exactly once. False after the deadline.
  bool publish_until_received(const std::string& channel, const std::string& payload) {
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      auto r = publish(channel, payload);
      if (r.ok() && *r >= 1) return true;
      std::this_thread::sleep_for(2ms);  // SUBSCRIBE not processed yet
    }
    return false;
  }

  std::unique_ptr<RedisPublisher> publisher_;
  std::unique_ptr<RedisSubscriber> subscriber_;
  Inbox<std::pair<std::string, std::string>> messages_;
  Inbox<std::vector<std::string>> gaps_;
  Inbox<bool> states_;
};

TEST_F(RedisClientTest, PublishReachesSubscriber) {
  subscriber().subscribe("room:a");
  ASSERT_TRUE(publish_until_received("room:a", "hello"));
  auto m = messages_.pop();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->first, "room:a");
  EXPECT_EQ(m->second, "hello");
}

TEST_F(RedisClientTest, PipelinedCommandsKeepOrder) {
  constexpr int kN = 1000;
  Inbox<int64_t> box;
  for (int i = 0; i < kN; ++i) {
    publisher().command({"INCR", "counter"}, [&box](Result<RedisValue> r) {
      box.push(r.ok() && r->type == RedisValue::Type::kInteger ? r->integer : -1);
    });
  }
  for (int64_t i = 1; i <= kN; ++i) {
    auto v = box.pop();
    ASSERT_TRUE(v) << "reply " << i << " missing";
    ASSERT_EQ(*v, i);
  }
}

TEST_F(RedisClientTest, UnsubscribeStopsDelivery) {
  auto& sub = subscriber();
  sub.subscribe("room:a");
  sub.subscribe("room:a");  // reference-counted: two subscribe() need two unsubscribe()
  ASSERT_TRUE(publish_until_received("room:a", "one"));
  ASSERT_TRUE(messages_.pop());
  sub.unsubscribe("room:a");
  ASSERT_TRUE(publish_until_received("room:a", "two"));  // still subscribed once
  ASSERT_TRUE(messages_.pop());
  sub.unsubscribe("room:a");
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  int64_t receivers = 1;
  while (receivers != 0 && std::chrono::steady_clock::now() < deadline) {
    auto r = publish("room:a", "three");
    ASSERT_TRUE(r.ok()) << r.status().to_string();
    receivers = *r;
  }
  EXPECT_EQ(receivers, 0);
  // Anything published while the UNSUBSCRIBE was in flight is dropped by the client too.
  EXPECT_FALSE(messages_.pop(100ms));
}

TEST_F(RedisClientTest, PayloadsAreBinarySafe) {
  subscriber().subscribe(std::string("bin\0chan", 8));
  std::string small("a\0b\r\nc", 6);
  std::string big(1 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7);
  ASSERT_TRUE(publish_until_received(std::string("bin\0chan", 8), small));
  ASSERT_TRUE(publish_until_received(std::string("bin\0chan", 8), big));
  auto m1 = messages_.pop();
  auto m2 = messages_.pop();
  ASSERT_TRUE(m1 && m2);
  EXPECT_EQ(m1->first, std::string("bin\0chan", 8));
  EXPECT_EQ(m1->second, small);
  EXPECT_TRUE(m2->second == big) << "1 MB payload corrupted, size " << m2->second.size();
}

TEST_F(RedisClientTest, ErrorRepliesAreValues) {
  auto r = run({"NOSUCHCOMMAND", "x"});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->is_error());
  EXPECT_NE(r->str.find("ERR"), std::string::npos) << r->str;
  ASSERT_TRUE(run({"SET", "k", "v"}).ok());
  auto wrong = run({"INCR", "k"});
  ASSERT_TRUE(wrong.ok());
  EXPECT_TRUE(wrong->is_error());
  auto get = run({"GET", "k"});
  ASSERT_TRUE(get.ok());
  EXPECT_EQ(get->type, RedisValue::Type::kString);
  EXPECT_EQ(get->str, "v");
}

TEST_F(RedisClientTest, PublisherRefusesSubscribeModeCommands) {
  auto r = run({"subscribe", "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(run({"PING"}).ok());
}

TEST_F(RedisClientTest, RepliesConvertAllTypes) {
  ASSERT_TRUE(run({"RPUSH", "list", "x", "y"}).ok());
  auto nil = run({"GET", "missing"});
  ASSERT_TRUE(nil.ok());
  EXPECT_EQ(nil->type, RedisValue::Type::kNil);
  auto status = run({"PING"});
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->type, RedisValue::Type::kStatus);
  EXPECT_EQ(status->str, "PONG");
  auto arr = run({"LRANGE", "list", "0", "-1"});
  ASSERT_TRUE(arr.ok());
  ASSERT_EQ(arr->type, RedisValue::Type::kArray);
  ASSERT_EQ(arr->elements.size(), 2u);
  EXPECT_EQ(arr->elements[1].str, "y");
}

TEST_F(RedisClientTest, SubscriberResubscribesAfterRedisRestart) {
  auto& sub = subscriber();
  sub.subscribe("room:a");
  sub.subscribe("room:b");
  sub.subscribe("room:gone");
  sub.unsubscribe("room:gone");  // no longer wanted: neither resubscribed nor reported
  ASSERT_EQ(states_.pop(), std::optional<bool>(true));
  ASSERT_TRUE(publish_until_received("room:a", "before"));
  ASSERT_TRUE(messages_.pop());
  server_->kill();
  ASSERT_EQ(states_.pop(), std::optional<bool>(false));
  ASSERT_TRUE(server_->start());
  ASSERT_EQ(states_.pop(), std::optional<bool>(true));
  auto gap = gaps_.pop();
  ASSERT_TRUE(gap) << "on_gap not called after the restart";
  std::sort(gap->begin(), gap->end());
  EXPECT_EQ(*gap, (std::vector<std::string>{"room:a", "room:b"}));
  // Resubscribed before on_gap: the first PUBLISH after it already reaches us (the
  // publisher itself may need a few attempts to reconnect).
  ASSERT_TRUE(publish_until_received("room:b", "after"));
  auto m = messages_.pop();
  ASSERT_TRUE(m);
  EXPECT_EQ(m->first, "room:b");
  EXPECT_EQ(m->second, "after");
}

TEST_F(RedisClientTest, PublisherFailsPendingThenRecovers) {
  ASSERT_TRUE(run({"PING"}).ok());
  Inbox<Result<RedisValue>> box;
  publisher().command({"BLPOP", "never", "0"}, [&box](Result<RedisValue> r) { box.push(std::move(r)); });
  publisher().command({"PING"}, [&box](Result<RedisValue> r) { box.push(std::move(r)); });
  ASSERT_FALSE(box.pop(50ms));  // both in flight behind the blocking BLPOP
  server_->kill();
  for (int i = 0; i < 2; ++i) {
    auto r = box.pop();
    ASSERT_TRUE(r);
    ASSERT_FALSE(r->ok());
    EXPECT_EQ(r->status().code(), StatusCode::kUnavailable) << r->status().to_string();
  }
  ASSERT_TRUE(server_->start());
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  bool recovered = false;
  while (!recovered && std::chrono::steady_clock::now() < deadline) {
    auto r = run({"PING"});
    recovered = r.ok() && r->str == "PONG";
    if (!recovered) std::this_thread::sleep_for(5ms);  // reconnect backoff in progress
  }
  EXPECT_TRUE(recovered);
}

TEST_F(RedisClientTest, DeadPortIsUnavailableAndRetried) {
  server_->kill();
  Inbox<bool> states;
  publisher_ = std::make_unique<RedisPublisher>(io_, options());
  publisher_->on_state([&states](bool up) { states.push(up); });
  publisher_->start();
  auto r = run({"PING"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().to_string();
  ASSERT_TRUE(server_->start());
  EXPECT_EQ(states.pop(), std::optional<bool>(true)) << "did not reconnect after redis came up";
  auto ok = run({"PING"});
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  publisher_.reset();  // before `states` goes away
}

TEST_F(RedisClientTest, TooManyPendingFailsFast) {
  RedisOptions o = options();
  o.max_pending = 2;
  publisher_ = std::make_unique<RedisPublisher>(io_, o);
  publisher_->start();
  Inbox<Result<RedisValue>> box;
  for (int i = 0; i < 2; ++i) {
    publisher_->command({"BLPOP", "never", "0"}, [&box](Result<RedisValue> r) { box.push(std::move(r)); });
  }
  publisher_->command({"PING"}, [&box](Result<RedisValue> r) { box.push(std::move(r)); });
  auto r = box.pop();
  ASSERT_TRUE(r);
  ASSERT_FALSE(r->ok());
  EXPECT_EQ(r->status().code(), StatusCode::kResourceExhausted);
  publisher_.reset();  // fails the two BLPOPs with kCancelled before `box` goes away
  EXPECT_EQ(box.size(), 2u);
}

TEST_F(RedisClientTest, SelectsDatabaseFromOptions) {
  RedisOptions o = options();
  o.db = 3;
  publisher_ = std::make_unique<RedisPublisher>(io_, o);
  publisher_->start();
  ASSERT_TRUE(run({"SET", "k", "in3"}).ok());
  auto client = run({"CLIENT", "INFO"});
  ASSERT_TRUE(client.ok());
  EXPECT_NE(client->str.find("db=3"), std::string::npos) << client->str;
}

// ---------------------------------------------------------------- parse_redis_url

TEST(RedisUrlTest, ParsesHostPortAndDb) {
  auto o = parse_redis_url("redis://127.0.0.1:6380/2");
  ASSERT_TRUE(o.ok()) << o.status().to_string();
  EXPECT_EQ(o->host, "127.0.0.1");
  EXPECT_EQ(o->port, 6380);
  EXPECT_EQ(o->db, 2);
  auto d = parse_redis_url("REDIS://cache.internal");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->host, "cache.internal");
  EXPECT_EQ(d->port, 6379);
  EXPECT_EQ(d->db, 0);
  auto v6 = parse_redis_url("redis://[::1]:7000/");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 7000);
}

TEST(RedisUrlTest, RefusesAuthWithClearError) {
  auto r = parse_redis_url("redis://user:secret@127.0.0.1:6379");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("AUTH"), std::string::npos);
  EXPECT_EQ(r.status().message().find("secret"), std::string::npos) << "password echoed in the error";
}

TEST(RedisUrlTest, RejectsHostileInput) {
  for (std::string_view bad : {
           "", "redis:", "redis://", "http://127.0.0.1:6379", "rediss://127.0.0.1:6379",
           "redis://127.0.0.1:", "redis://127.0.0.1:0", "redis://127.0.0.1:65536",
           "redis://127.0.0.1:99999999999999999999", "redis://127.0.0.1:-1", "redis://127.0.0.1:+80",
           "redis://127.0.0.1:6379/x", "redis://127.0.0.1:6379/-1", "redis://127.0.0.1:6379/1/2",
           "redis://127.0.0.1:6379/99999999", "redis://127.0.0.1:6379?db=1", "redis://127.0.0.1#x",
           "redis://:6379", "redis://[::1", "redis://[]:1", "redis://[::1]x", "redis://[::1]:",
           "redis://ho st:1", "redis://host\n:1", "redis://a:1:2", " redis://a:1",
       }) {
    EXPECT_FALSE(parse_redis_url(bad).ok()) << "accepted: " << bad;
  }
  EXPECT_FALSE(parse_redis_url(std::string("redis://a\0b:1", 13)).ok());
  EXPECT_FALSE(parse_redis_url("redis://" + std::string(300, 'a')).ok());
  EXPECT_FALSE(parse_redis_url("redis://" + std::string(5000, 'a')).ok());
}

}  // namespace
}  // namespace chiron::chat
