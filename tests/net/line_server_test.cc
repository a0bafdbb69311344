// LineServer over loopback sockets: pipelining, both request forms, protocol
// errors, limits, async replies, draining stop, and real redis-cli / redis-benchmark.

#include "net/line_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "common/strings.h"

namespace chiron::net {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;

// PING → +PONG, ECHO x → $x, anything else → the args as an array of bulk strings.
std::string echo_handler(const LineConnectionInfo&, RespCommand& c) {
  const std::string verb = to_lower(c.args[0]);
  if (verb == "ping") return c.args.size() > 1 ? resp_bulk(c.args[1]) : resp_simple("PONG");
  if (verb == "echo" && c.args.size() == 2) return resp_bulk(c.args[1]);
  if (verb == "config") return resp_array(std::vector<std::string>{});  // redis-benchmark asks
  return resp_bulk_array(c.args);
}

// Polls a condition that another thread makes true; bounded.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout = 5s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

class Client {
 public:
  explicit Client(uint16_t port) { socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)); }
  void send(std::string_view bytes) { asio::write(socket_, asio::buffer(bytes.data(), bytes.size())); }
  std::string read(size_t n) {
    std::string out(n, '\0');
    boost::system::error_code ec;
    size_t got = asio::read(socket_, asio::buffer(out), ec);
    out.resize(got);
    return out;
  }
  // Everything until the server closes the connection.
  std::string read_to_eof() {
    std::string out;
    char buf[4096];
    boost::system::error_code ec;
    while (!ec) {
      size_t n = socket_.read_some(asio::buffer(buf), ec);
      out.append(buf, n);
    }
    return out;
  }
  std::string roundtrip(std::string_view request, std::string_view expected) {
    send(request);
    return read(expected.size());
  }

 private:
  asio::io_context ioc_;
  tcp::socket socket_{ioc_};
};

class LineServerTest : public ::testing::Test {
 protected:
  template <class Handler>
  void start(Handler handler, LineServerOptions options = {}) {
    for (int i = 0; i < 2; ++i) {
      contexts_.push_back(std::make_unique<asio::io_context>());
      guards_.emplace_back(contexts_.back()->get_executor());
    }
    std::vector<asio::io_context*> ptrs;
    for (auto& c : contexts_) ptrs.push_back(c.get());
    server_ = std::make_unique<LineServer>(ptrs, std::move(options), std::move(handler));
    ASSERT_TRUE(server_->start().ok());
    ASSERT_NE(server_->port(), 0);
    for (auto& c : contexts_) threads_.emplace_back([ctx = c.get()] { ctx->run(); });
  }

  void TearDown() override {
    if (server_) {
      server_->stop();
      EXPECT_TRUE(eventually([&] { return server_->connection_count() == 0; }));
    }
    guards_.clear();
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads_) t.join();
    server_.reset();
  }

  uint16_t port() const { return server_->port(); }

  std::vector<std::unique_ptr<asio::io_context>> contexts_;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards_;
  std::vector<std::thread> threads_;
  std::unique_ptr<LineServer> server_;
};

TEST_F(LineServerTest, AnswersPipelinedRespAndInlineCommandsInOrder) {
  start(LineHandler(echo_handler));
  Client c(port());
  std::string request = "PING\r\n*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\nREQ web\n*1\r\n$4\r\nPING\r\n";
  std::string expected = "+PONG\r\n$5\r\nhello\r\n*2\r\n$3\r\nREQ\r\n$3\r\nweb\r\n+PONG\r\n";
  EXPECT_EQ(c.roundtrip(request, expected), expected);
}

TEST_F(LineServerTest, AnswersRequestSplitAcrossWrites) {
  start(LineHandler(echo_handler));
  Client c(port());
  std::string request = "*2\r\n$4\r\nECHO\r\n$11\r\nhello world\r\n";
  for (char ch : request) c.send(std::string_view(&ch, 1));
  EXPECT_EQ(c.read(18), "$11\r\nhello world\r\n");
}

TEST_F(LineServerTest, ParsesQuotedInlineArgument) {
  start(LineHandler(echo_handler));
  Client c(port());
  std::string expected = "*3\r\n$3\r\nSET\r\n$11\r\nhello world\r\n$4\r\nit's\r\n";
  EXPECT_EQ(c.roundtrip("SET \"hello world\" 'it\\'s'\r\n", expected), expected);
}

TEST_F(LineServerTest, ProtocolErrorRepliesThenClosesConnection) {
  start(LineHandler(echo_handler));
  Client c(port());
  c.send("PING\r\n*1\r\n$x\r\nPING\r\n");
  EXPECT_EQ(c.read_to_eof(), "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n");
}

TEST_F(LineServerTest, MalformedClientDoesNotAffectOthers) {
  start(LineHandler(echo_handler));
  Client good(port());
  Client bad(port());
  EXPECT_EQ(good.roundtrip("PING\r\n", "+PONG\r\n"), "+PONG\r\n");
  bad.send("*1\r\n$99999999999\r\n");
  EXPECT_EQ(bad.read_to_eof(), "-ERR Protocol error: invalid bulk length\r\n");
  bad.send("garbage \"unbalanced\r\n");  // may fail silently: the server has closed
  EXPECT_EQ(good.roundtrip("PING\r\n", "+PONG\r\n"), "+PONG\r\n");
}

TEST_F(LineServerTest, ServesManyConcurrentClients) {
  start(LineHandler(echo_handler));
  constexpr int kThreads = 4;
  constexpr int kClientsPerThread = 16;
  constexpr int kCommands = 50;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::unique_ptr<Client>> clients;
      for (int i = 0; i < kClientsPerThread; ++i) clients.push_back(std::make_unique<Client>(port()));
      for (int i = 0; i < kClientsPerThread; ++i) {
        std::string req, expected;
        for (int k = 0; k < kCommands; ++k) {
          std::string v = std::to_string(t) + "-" + std::to_string(i) + "-" + std::to_string(k);
          req += "ECHO " + v + "\r\n";
          expected += resp_bulk(v);
        }
        clients[i]->send(req);
        if (clients[i]->read(expected.size()) == expected) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), kThreads * kClientsPerThread);
}

// Async handler that parks each reply until the test releases it.
struct ParkedReplies {
  std::mutex mu;
  std::vector<std::pair<std::string, LineReply>> replies;  // Guarded by mu

  LineAsyncHandler handler() {
    return [this](const LineConnectionInfo&, RespCommand&& c, LineReply reply) {
      std::lock_guard<std::mutex> lock(mu);
      replies.emplace_back(c.args.back(), std::move(reply));
    };
  }
  size_t count() {
    std::lock_guard<std::mutex> lock(mu);
    return replies.size();
  }
  void answer(size_t i) {
    std::lock_guard<std::mutex> lock(mu);
    auto& [arg, reply] = replies.at(i);
    reply(resp_bulk(arg));
    reply(resp_bulk("a second reply is ignored"));
  }
};

TEST_F(LineServerTest, AsyncRepliesKeepCommandOrder) {
  ParkedReplies parked;
  start(parked.handler());
  Client c(port());
  c.send("WAIT a\r\nWAIT b\r\nWAIT c\r\n");
  ASSERT_TRUE(eventually([&] { return parked.count() == 3; }));
  // Answered last-to-first from this (non-server) thread; the client must still see a, b, c.
  parked.answer(2);
  parked.answer(1);
  parked.answer(0);
  std::string expected = resp_bulk("a") + resp_bulk("b") + resp_bulk("c");
  EXPECT_EQ(c.read(expected.size()), expected);
}

TEST_F(LineServerTest, SyncHandlerMayDeferSomeRepliesAndOrderIsKept) {
  std::mutex mu;
  std::vector<LineReply> deferred;
  start(LineHandler([&](const LineConnectionInfo& conn, RespCommand& cmd) -> std::string {
    if (cmd.args[0] != "LATER") return resp_bulk(cmd.args[1]);
    std::lock_guard lock(mu);
    deferred.push_back(conn.defer());
    return "ignored: the deferred reply answers this command";
  }));
  Client c(port());
  c.send("NOW a\r\nLATER b\r\nNOW c\r\nLATER d\r\nNOW e\r\n");
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mu);
    return deferred.size() == 2;
  }));
  std::lock_guard lock(mu);
  deferred[1](resp_bulk("d"));
  deferred[0](resp_bulk("b"));
  deferred[0](resp_bulk("again"));  // a second call is ignored
  std::string expected = resp_bulk("a") + resp_bulk("b") + resp_bulk("c") + resp_bulk("d") + resp_bulk("e");
  EXPECT_EQ(c.read(expected.size()), expected);
}

TEST_F(LineServerTest, ThrowingHandlerCostsOneErrorReplyOnly) {
  start(LineHandler([](const LineConnectionInfo&, RespCommand& cmd) -> std::string {
    if (cmd.args[0] == "BOOM") throw std::runtime_error("kaboom");
    return resp_simple("OK");
  }));
  Client c(port());
  const std::string expected = resp_simple("OK") + resp_error("internal error") + resp_simple("OK");
  EXPECT_EQ(c.roundtrip("A\r\nBOOM\r\nB\r\n", expected), expected);
}

TEST_F(LineServerTest, RefusesConnectionsBeyondMax) {
  LineServerOptions o;
  o.max_connections = 1;
  start(LineHandler(echo_handler), o);
  Client first(port());
  EXPECT_EQ(first.roundtrip("PING\r\n", "+PONG\r\n"), "+PONG\r\n");
  Client second(port());
  EXPECT_EQ(second.read_to_eof(), "-ERR max number of clients reached\r\n");
}

TEST_F(LineServerTest, ClosesIdleConnections) {
  LineServerOptions o;
  o.idle_timeout_ms = 100;
  start(LineHandler(echo_handler), o);
  Client c(port());
  EXPECT_EQ(c.roundtrip("PING\r\n", "+PONG\r\n"), "+PONG\r\n");
  EXPECT_EQ(c.read_to_eof(), "");
  EXPECT_TRUE(eventually([&] { return server_->connection_count() == 0; }));
}

TEST_F(LineServerTest, StopAnswersOutstandingRequestsThenCloses) {
  ParkedReplies parked;
  start(parked.handler());
  Client c(port());
  Client idle(port());
  ASSERT_TRUE(eventually([&] { return server_->connection_count() == 2; }));
  c.send("SLOW x\r\n");
  ASSERT_TRUE(eventually([&] { return parked.count() == 1; }));
  server_->stop();
  EXPECT_EQ(idle.read_to_eof(), "");  // nothing owed: closed at once
  parked.answer(0);
  EXPECT_EQ(c.read_to_eof(), resp_bulk("x"));  // the owed reply is written before the close
  EXPECT_TRUE(eventually([&] { return server_->connection_count() == 0; }));
}

TEST_F(LineServerTest, DroppedAsyncReplyReleasesConnection) {
  LineAsyncHandler drop = [](const LineConnectionInfo&, RespCommand&&, LineReply) {};
  start(drop);
  Client c(port());
  c.send("LOST\r\n");
  EXPECT_EQ(c.read_to_eof(), "");
  EXPECT_TRUE(eventually([&] { return server_->connection_count() == 0; }));
}

TEST_F(LineServerTest, StartFailsWithClearErrorOnBadAddress) {
  asio::io_context ioc;
  LineServerOptions o;
  o.address = "not an address";
  LineServer s({&ioc}, o, LineHandler(echo_handler));
  Status st = s.start();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("not an address"), std::string::npos);
}

// Runs a shell command, returns its stdout (bounded by `timeout` via coreutils timeout).
std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(("timeout 20 " + cmd + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

bool have(const char* tool) { return run(std::string("sh -c 'command -v ") + tool + "'").find(tool) != std::string::npos; }

TEST_F(LineServerTest, RedisCliTalksToTheServerUnchanged) {
  if (!have("redis-cli")) GTEST_SKIP() << "redis-cli not installed (apt-get install redis-tools)";
  start(LineHandler(echo_handler));
  const std::string cli = "redis-cli -h 127.0.0.1 -p " + std::to_string(port()) + " ";
  EXPECT_EQ(run(cli + "PING"), "PONG\n");
  EXPECT_EQ(run(cli + "ECHO 'hello world'"), "hello world\n");
  EXPECT_EQ(run(cli + "REQ web"), "REQ\nweb\n");
}

TEST_F(LineServerTest, RedisBenchmarkRunsAgainstTheServer) {
  if (!have("redis-benchmark")) GTEST_SKIP() << "redis-benchmark not installed (apt-get install redis-tools)";
  start(LineHandler(echo_handler));
  std::string out = run("redis-benchmark -h 127.0.0.1 -p " + std::to_string(port()) +
                        " -t ping -n 2000 -c 4 -P 8 -q");
  EXPECT_NE(out.find("PING_MBULK: "), std::string::npos) << out;
  EXPECT_EQ(out.find("rror"), std::string::npos) << out;
}

}  // namespace
}  // namespace chiron::net
