// The whole name server in process: data plane over TCP, admin API, store, restart. Also the
// target of the TSan run of this module (make test), since it drives every thread at once.
#include "nameserver/name_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <atomic>
#include <thread>
#include <vector>

#include "common/ids.h"
#include "kernel/kernel.h"

namespace chiron::nameserver {
namespace {

// A blocking TCP client: sends bytes, reads until `want` bytes or the peer closes (5 s cap).
class Client {
 public:
  explicit Client(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { ::close(fd_); }
  bool connected() const { return connected_; }
  std::string roundtrip(const std::string& out, size_t want) {
    if (::write(fd_, out.data(), out.size()) != static_cast<ssize_t>(out.size())) return "<write failed>";
    std::string in;
    char buf[4096];
    while (in.size() < want) {
      const ssize_t n = ::read(fd_, buf, sizeof buf);
      if (n <= 0) break;
      in.append(buf, static_cast<size_t>(n));
    }
    return in;
  }
  // One RESP reply of a simple kind (+ - :) or a bulk string, read exactly.
  std::string reply() {
    std::string line = read_line();
    if (line.empty() || line[0] != '$') return line;
    const long n = std::stol(line.substr(1, line.size() - 3));
    if (n < 0) return line;
    return line + read_exact(static_cast<size_t>(n) + 2);
  }
  void send(const std::string& out) { (void)!::write(fd_, out.data(), out.size()); }
  // HTTP/1.0-style: one request, read to EOF.
  std::string http(const std::string& request) { return roundtrip(request, SIZE_MAX); }

 private:
  std::string read_line() {
    std::string line;
    char ch;
    while (::read(fd_, &ch, 1) == 1) {
      line += ch;
      if (line.size() >= 2 && line.ends_with("\r\n")) break;
    }
    return line;
  }
  std::string read_exact(size_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      const ssize_t k = ::read(fd_, out.data() + got, n - got);
      if (k <= 0) break;
      got += static_cast<size_t>(k);
    }
    out.resize(got);
    return out;
  }

  int fd_ = -1;
  bool connected_ = false;
};

class NameServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("chiron-ns-" + random_hex(8));
    kernel::RuntimeOptions o;
    o.cpu_threads = 1;
    o.disk_threads = 2;
    o.net_threads = 2;
    runtime_ = std::make_unique<kernel::Runtime>(o);
    ASSERT_TRUE(runtime_->start().ok());
  }
  void TearDown() override {
    server_.reset();
    runtime_->stop();
    std::filesystem::remove_all(dir_);
  }
  NameServerOptions options() const {
    NameServerOptions o;
    o.data = HostPort{"127.0.0.1", 0};
    o.admin = HostPort{"127.0.0.1", 0};
    o.store_file = dir_ / "ns.db";
    return o;
  }
  void start(NameServerOptions o) {
    auto s = NameServer::start(*runtime_, std::move(o));
    ASSERT_TRUE(s.ok()) << s.status().to_string();
    server_ = std::move(*s);
  }

  std::filesystem::path dir_;
  std::unique_ptr<kernel::Runtime> runtime_;
  std::unique_ptr<NameServer> server_;
};

TEST_F(NameServerTest, DataPlaneRegistersProvesAndAnswers) {
  start(options());
  Client c(server_->data_endpoint().port);
  ASSERT_TRUE(c.connected());
  std::string got = c.roundtrip("REG web 10.0.0.1:80 3\r\nREQ web\r\nHB web 10.0.0.1:80\r\nREQ web\r\n",
                                std::string("+OK\r\n-ERR no server available for service 'web'\r\n+OK\r\n$11\r\n10.0.0.1:80\r\n").size());
  EXPECT_EQ(got, "+OK\r\n-ERR no server available for service 'web'\r\n+OK\r\n$11\r\n10.0.0.1:80\r\n");
}

TEST_F(NameServerTest, AcknowledgedWritesSurviveARestartAndRestoredServersAreUp) {
  start(options());
  {
    Client c(server_->data_endpoint().port);
    const std::string expected = "+OK\r\n+OK\r\n+OK\r\n+OK\r\n";
    EXPECT_EQ(c.roundtrip("REG web 10.0.0.1:80 3\r\nREG web 10.0.0.2:80\r\nALG web swrr\r\nSTATE web 10.0.0.2:80 drain\r\n",
                          expected.size()),
              expected);
  }
  server_.reset();  // stop: flushes the store
  start(options());
  auto view = server_->registry().service("web");
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->algorithm, "swrr");
  ASSERT_EQ(view->servers.size(), 2u);
  for (const ns::Server& s : view->servers) {
    EXPECT_EQ(s.health, ns::Health::kUp) << s.id;  // full-lease grace after a restart
    EXPECT_EQ(s.admin, s.id == "10.0.0.2:80" ? ns::AdminState::kDrain : ns::AdminState::kReady);
    EXPECT_EQ(s.weight, s.id == "10.0.0.1:80" ? 3u : 1u);
  }
  EXPECT_EQ(server_->registry().pick("web").value(), "10.0.0.1:80");
}

TEST_F(NameServerTest, AdminApiAndMetricsAnswerOverHttp) {
  NameServerOptions o = options();
  o.admin_token = "t0ken";
  start(o);
  ASSERT_TRUE(server_->registry().register_server("web", "10.0.0.1:80", 1).ok());
  const uint16_t admin = server_->admin_endpoint().port;
  {
    Client c(admin);
    std::string r = c.http("GET /api/v1/services HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_NE(r.find("HTTP/1.1 401"), std::string::npos) << r;
  }
  {
    Client c(admin);
    std::string r = c.http("GET /api/v1/services HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\nConnection: close\r\n\r\n");
    EXPECT_NE(r.find("HTTP/1.1 200"), std::string::npos) << r;
    EXPECT_NE(r.find("\"10.0.0.1:80\""), std::string::npos) << r;
    EXPECT_NE(r.find("\"health\":\"pending\""), std::string::npos) << r;
  }
  {
    Client c(admin);
    std::string r = c.http("GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0ken\r\nConnection: close\r\n\r\n");
    EXPECT_NE(r.find("chiron_ns_servers{service=\"web\",health=\"pending\"} 1"), std::string::npos) << r;
  }
}

TEST_F(NameServerTest, RefusesNonLoopbackWithoutAdminToken) {
  NameServerOptions o = options();
  o.data = HostPort{"0.0.0.0", 0};
  auto s = NameServer::start(*runtime_, o);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("admin token"), std::string::npos);
  EXPECT_TRUE(is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(is_loopback_host("::1"));
  EXPECT_TRUE(is_loopback_host("localhost"));
  EXPECT_FALSE(is_loopback_host("0.0.0.0"));
  EXPECT_FALSE(is_loopback_host("10.1.2.3"));
}

TEST_F(NameServerTest, OneNameServerPerStore) {
  start(options());
  auto second = NameServer::start(*runtime_, options());
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.status().message().find("another name server"), std::string::npos) << second.status().to_string();
  server_.reset();
  start(options());  // the lock goes with the first one
}

TEST_F(NameServerTest, ConcurrentClientsAndChurnStayConsistent) {
  start(options());
  const uint16_t port = server_->data_endpoint().port;
  {
    Client setup(port);
    const std::string ok2 = "+OK\r\n+OK\r\n";
    ASSERT_EQ(setup.roundtrip("REG web 10.0.0.1:80\r\nHB web 10.0.0.1:80\r\n", ok2.size()), ok2);
  }
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      Client c(port);
      for (int i = 0; i < 50; ++i) {
        if (t == 0) {
          const std::string id = "10.0.1." + std::to_string(i) + ":80";
          const std::string r = c.roundtrip("REG web " + id + "\r\nHB web " + id + "\r\nREM web " + id + "\r\n",
                                            std::string("+OK\r\n+OK\r\n:1\r\n").size());
          if (r != "+OK\r\n+OK\r\n:1\r\n") ++bad;
        } else {
          c.send("REQ web\r\n");
          const std::string r = c.reply();
          if (r.rfind("$", 0) != 0 || r.find("10.0.") == std::string::npos) ++bad;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
  server_.reset();
  start(options());
  EXPECT_EQ(server_->registry().list("web").value().size(), 1u);
}

}  // namespace
}  // namespace chiron::nameserver
