#include "nameserver/store.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iterator>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

namespace chiron::nameserver {
namespace {

namespace fs = std::filesystem;
using kernel::Device;
using kernel::Runtime;
using kernel::RuntimeOptions;

RuntimeOptions test_options() {
  RuntimeOptions o;
  o.cpu_threads = 1;
  o.disk_threads = 2;
  o.net_threads = 1;
  return o;
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "chiron-store-XXXXXX").string();
    CHIRON_CHECK(mkdtemp(tmpl.data()) != nullptr, "mkdtemp");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

Mutation put_service(std::string name, std::string algorithm, std::string secret = "") {
  Mutation m;
  m.kind = Mutation::Kind::kPutService;
  m.service = {std::move(name), std::move(algorithm), std::move(secret)};
  return m;
}

Mutation delete_service(std::string name) {
  Mutation m;
  m.kind = Mutation::Kind::kDeleteService;
  m.service.name = std::move(name);
  return m;
}

Mutation put_server(std::string service, std::string id, uint32_t weight = 1,
                    ns::AdminState admin = ns::AdminState::kReady, std::string check = "") {
  Mutation m;
  m.kind = Mutation::Kind::kPutServer;
  m.server.service = std::move(service);
  m.server.id = std::move(id);
  m.server.weight = weight;
  m.server.admin = admin;
  m.server.check = std::move(check);
  return m;
}

Mutation delete_server(std::string service, std::string id) {
  Mutation m;
  m.kind = Mutation::Kind::kDeleteServer;
  m.server.service = std::move(service);
  m.server.id = std::move(id);
  return m;
}

// One line per row, so a mismatch shows as a readable diff.
std::string dump(const StoredState& s) {
  std::ostringstream out;
  for (const auto& v : s.services) out << "service " << v.name << " " << v.algorithm << " '" << v.secret << "'\n";
  for (const auto& v : s.servers) {
    out << "server " << v.service << " " << v.id << " w=" << v.weight << " " << ns::to_string(v.admin) << " '"
        << v.check << "'\n";
  }
  return out.str();
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream out(p, std::ios::binary);
  out << bytes;
}

// A second, independent SQLite connection: what an operator's sqlite3 shell would be.
void sql(const fs::path& db, const std::string& statements) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(raw, statements.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "");
  sqlite3_free(err);
  sqlite3_close(raw);
}

// Occupies every disk thread until open(), so the test decides when queued flushes run.
class DiskGate {
 public:
  explicit DiskGate(Runtime& rt) : threads_(static_cast<int>(rt.threads(Device::kDisk))) {
    for (int i = 0; i < threads_; ++i) {
      CHIRON_CHECK(rt.post(Device::kDisk,
                           [this] {
                             ++started_;
                             started_.notify_all();
                             open_.wait(false);
                             ++finished_;
                             finished_.notify_all();
                           }),
                   "post gate");
    }
    for (int n = started_.load(); n < threads_; n = started_.load()) started_.wait(n);
  }
  ~DiskGate() {
    open();
    for (int n = finished_.load(); n < threads_; n = finished_.load()) finished_.wait(n);
  }
  void open() {
    open_ = true;
    open_.notify_all();
  }

 private:
  const int threads_;
  std::atomic<int> started_{0};
  std::atomic<int> finished_{0};
  std::atomic<bool> open_{false};
};

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(rt_.start().ok()); }

  std::unique_ptr<Store> open_store(StoreOptions options = {}) {
    auto store = Store::open(db_, rt_, options);
    CHIRON_CHECK(store.ok(), store.status().to_string());
    return std::move(store).value();
  }
  StoredState load_fresh() {
    auto store = open_store();
    auto state = store->load();
    CHIRON_CHECK(state.ok(), state.status().to_string());
    return std::move(state).value();
  }

  Runtime rt_{test_options()};
  TempDir dir_;
  fs::path db_ = dir_.path() / "state" / "ns.db";
};

TEST_F(StoreTest, FreshStoreIsEmptyAndCreatesParentDirectories) {
  auto store = open_store();
  EXPECT_TRUE(fs::exists(db_));
  auto state = store->load();
  ASSERT_TRUE(state.ok()) << state.status().to_string();
  EXPECT_TRUE(state->services.empty());
  EXPECT_TRUE(state->servers.empty());
  EXPECT_EQ(store->submitted(), 0u);
  EXPECT_EQ(store->path(), db_);
}

TEST_F(StoreTest, EveryMutationKindSurvivesReopenSorted) {
  {
    auto store = open_store();
    store->submit(put_service("web", "maglev", "s3cret"));
    store->submit(put_service("api", "rr"));
    store->submit(put_server("web", "10.0.0.2:80", 5, ns::AdminState::kDrain, R"({"type":"tcp"})"));
    store->submit(put_server("web", "10.0.0.1:80", 3, ns::AdminState::kMaint));
    store->submit(put_server("api", "10.0.1.1:81"));
    store->submit(put_server("api", "10.0.1.2:81"));
    store->submit(delete_server("api", "10.0.1.2:81"));
    store->submit(put_service("web", "least_load", "s3cret"));  // ALG on an existing service
    EXPECT_EQ(store->submitted(), 8u);
    EXPECT_TRUE(store->flush().ok());
  }
  EXPECT_EQ(dump(load_fresh()),
            "service api rr ''\n"
            "service web least_load 's3cret'\n"
            "server api 10.0.1.1:81 w=1 ready ''\n"
            "server web 10.0.0.1:80 w=3 maint ''\n"
            "server web 10.0.0.2:80 w=5 drain '{\"type\":\"tcp\"}'\n");
}

TEST_F(StoreTest, PutServerCreatesItsServiceWithRoundRobin) {
  {
    auto store = open_store();
    store->submit(put_server("cache", "10.0.0.9:6379", 2));
  }  // the destructor flushes
  EXPECT_EQ(dump(load_fresh()),
            "service cache rr ''\n"
            "server cache 10.0.0.9:6379 w=2 ready ''\n");
}

TEST_F(StoreTest, PutServerKeepsAnExistingServicesAlgorithm) {
  {
    auto store = open_store();
    store->submit(put_service("cache", "maglev", "k"));
    store->submit(put_server("cache", "10.0.0.9:6379"));
  }
  EXPECT_EQ(load_fresh().services.at(0).algorithm, "maglev");
}

TEST_F(StoreTest, DeleteServiceDeletesItsServers) {
  {
    auto store = open_store();
    store->submit(put_server("a", "10.0.0.1:1"));
    store->submit(put_server("a", "10.0.0.1:2"));
    store->submit(put_server("b", "10.0.0.1:1"));
    store->submit(delete_service("a"));
  }
  EXPECT_EQ(dump(load_fresh()),
            "service b rr ''\n"
            "server b 10.0.0.1:1 w=1 ready ''\n");
}

TEST_F(StoreTest, ReplayingMutationsTwiceGivesTheSameState) {
  const std::vector<Mutation> ms = {
      put_service("a", "p2c", "x"), put_server("a", "1.1.1.1:1", 7),
      put_server("b", "2.2.2.2:2"), delete_server("a", "9.9.9.9:9"),  // absent: a no-op
      delete_service("b"),          delete_service("zzz"),
  };
  {
    auto store = open_store();
    for (const auto& m : ms) store->submit(m);
    ASSERT_TRUE(store->flush().ok());
  }
  const std::string once = dump(load_fresh());
  {
    auto store = open_store();
    for (const auto& m : ms) store->submit(m);
    ASSERT_TRUE(store->flush().ok());
  }
  EXPECT_EQ(dump(load_fresh()), once);
  EXPECT_EQ(once, "service a p2c 'x'\nserver a 1.1.1.1:1 w=7 ready ''\n");
}

TEST_F(StoreTest, ConcurrentSubmitsAreGroupCommitted) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2500;
  auto store = open_store();
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < kPerThread; ++i) {
        store->submit(put_server("svc" + std::to_string(t), "10.0." + std::to_string(t) + "." + std::to_string(i)));
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(store->flush().ok());
  const auto elapsed_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  const StoreStats st = store->stats();
  EXPECT_EQ(st.submitted, 10'000u);
  EXPECT_EQ(st.durable, 10'000u);
  EXPECT_EQ(st.failures, 0u);
  EXPECT_LT(st.commits, 1'000u);  // ≥ 10 mutations per fsync on average
  EXPECT_GT(st.max_commit_us, 0u);
  EXPECT_GE(st.max_commit_us, st.last_commit_us);
  std::printf(
      "[ figures  ] 10000 mutations from 4 threads: %llu commits, %.0f mutations/s, "
      "last commit %llu us, max commit %llu us\n",
      static_cast<unsigned long long>(st.commits), 1e10 / static_cast<double>(std::max<int64_t>(1, elapsed_us)),
      static_cast<unsigned long long>(st.last_commit_us), static_cast<unsigned long long>(st.max_commit_us));
  auto state = store->load();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->servers.size(), 10'000u);
  EXPECT_EQ(state->services.size(), 4u);
}

TEST_F(StoreTest, EachFlushAfterOneSubmitIsOneCommit) {
  auto store = open_store();
  uint64_t total_us = 0;
  for (int i = 0; i < 20; ++i) {
    store->submit(put_server("s", std::to_string(i)));
    ASSERT_TRUE(store->flush().ok());
    total_us += store->stats().last_commit_us;
  }
  EXPECT_EQ(store->stats().commits, 20u);
  std::printf("[ figures  ] single-mutation commit (fsync included): %llu us on average\n",
              static_cast<unsigned long long>(total_us / 20));
}

TEST_F(StoreTest, MaxBatchBoundsEachTransaction) {
  auto store = open_store(StoreOptions{.max_batch = 16});
  {
    DiskGate gate(rt_);
    for (int i = 0; i < 100; ++i) store->submit(put_server("s", std::to_string(i)));
  }
  ASSERT_TRUE(store->flush().ok());
  EXPECT_EQ(store->stats().commits, 7u);  // ⌈100 / 16⌉
}

TEST_F(StoreTest, WhenDurableRunsInlineOnceDurable) {
  auto store = open_store();
  const uint64_t seq = store->submit(put_service("a", "rr"));
  ASSERT_TRUE(store->flush().ok());
  bool ran = false;
  std::thread::id on;
  store->when_durable(seq, [&](Status st) {
    EXPECT_TRUE(st.ok());
    ran = true;
    on = std::this_thread::get_id();
  });
  EXPECT_TRUE(ran);
  EXPECT_EQ(on, std::this_thread::get_id());
}

TEST_F(StoreTest, WhenDurableWaitsForTheCommitAndRunsInSequenceOrder) {
  auto store = open_store();
  std::mutex mu;
  std::vector<uint64_t> order;
  {
    DiskGate gate(rt_);
    std::vector<uint64_t> seqs;
    for (int i = 0; i < 50; ++i) seqs.push_back(store->submit(put_server("s", std::to_string(i))));
    for (auto it = seqs.rbegin(); it != seqs.rend(); ++it) {  // registered newest first
      store->when_durable(*it, [&mu, &order, seq = *it](Status st) {
        EXPECT_TRUE(st.ok());
        std::lock_guard lock(mu);
        order.push_back(seq);
      });
    }
    std::lock_guard lock(mu);
    EXPECT_TRUE(order.empty());  // nothing is durable while the disk pipeline is held
  }
  ASSERT_TRUE(store->flush().ok());
  std::lock_guard lock(mu);
  ASSERT_EQ(order.size(), 50u);
  EXPECT_TRUE(std::is_sorted(order.begin(), order.end()));
}

TEST_F(StoreTest, FailedCommitFailsWaitersKeepsTheBatchAndALaterSubmitRetries) {
  auto store = open_store();
  store->submit(put_service("ok", "rr"));
  ASSERT_TRUE(store->flush().ok());
  // Deterministic failure, root or not: a trigger aborts any write of the "poison" service.
  sql(db_,
      "CREATE TRIGGER poison BEFORE INSERT ON servers WHEN NEW.service = 'poison' "
      "BEGIN SELECT RAISE(ABORT, 'injected failure'); END;");

  const uint64_t bad = store->submit(put_server("poison", "10.0.0.1:1"));
  std::promise<Status> failed;
  store->when_durable(bad, [&failed](Status st) { failed.set_value(std::move(st)); });
  auto f = failed.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  const Status st = f.get();
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("store commit"), std::string::npos) << st.to_string();
  EXPECT_NE(st.message().find("injected failure"), std::string::npos) << st.to_string();
  EXPECT_FALSE(store->flush().ok());  // flush retries once and fails the same way
  EXPECT_GE(store->stats().failures, 1u);
  EXPECT_LT(store->stats().durable, bad);

  sql(db_, "DROP TRIGGER poison;");
  const uint64_t next = store->submit(put_server("poison", "10.0.0.1:2"));
  std::promise<Status> done;
  store->when_durable(next, [&done](Status s) { done.set_value(std::move(s)); });
  auto g = done.get_future();
  ASSERT_EQ(g.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  EXPECT_TRUE(g.get().ok());
  auto state = store->load();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(dump(*state),
            "service ok rr ''\n"
            "service poison rr ''\n"
            "server poison 10.0.0.1:1 w=1 ready ''\n"
            "server poison 10.0.0.1:2 w=1 ready ''\n");
}

TEST_F(StoreTest, WriterLockHeldElsewhereFailsTheCommitUntilReleased) {
  auto store = open_store();
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  const uint64_t seq = store->submit(put_service("blocked", "rr"));
  std::promise<Status> failed;
  store->when_durable(seq, [&failed](Status st) { failed.set_value(std::move(st)); });
  auto f = failed.get_future();
  ASSERT_EQ(f.wait_for(std::chrono::seconds(10)), std::future_status::ready);  // after the busy timeout
  const Status st = f.get();
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.to_string();
  EXPECT_NE(st.message().find("store commit"), std::string::npos) << st.to_string();

  ASSERT_EQ(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
  store->submit(put_service("after", "rr"));
  ASSERT_TRUE(store->flush().ok());
  auto state = store->load();
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(dump(*state), "service after rr ''\nservice blocked rr ''\n");
}

TEST_F(StoreTest, SubmitAfterTheRuntimeStoppedCommitsInline) {
  auto store = open_store();
  rt_.stop();
  const uint64_t seq = store->submit(put_service("late", "rr"));
  bool ok = false;
  store->when_durable(seq, [&ok](Status st) { ok = st.ok(); });
  EXPECT_TRUE(ok);
}

TEST_F(StoreTest, ForeignSqliteFileIsRefusedAndUnchanged) {
  fs::create_directories(db_.parent_path());
  sql(db_, "CREATE TABLE notes(body TEXT); INSERT INTO notes VALUES('keep me');");
  const std::string before = read_bytes(db_);
  auto store = Store::open(db_, rt_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("not a chiron name-server store"), std::string::npos)
      << store.status().to_string();
  EXPECT_EQ(read_bytes(db_), before);
}

TEST_F(StoreTest, GarbageFilesAreRefusedAndUnchanged) {
  fs::create_directories(db_.parent_path());
  const std::string short_garbage = "hello";
  const std::string long_garbage(8192, '\x5a');
  // The SQLite magic followed by nonsense: SQLite itself must refuse it.
  const std::string fake_header = std::string("SQLite format 3\0", 16) + std::string(4080, '\xff');
  for (const std::string& bytes : {short_garbage, long_garbage, fake_header}) {
    write_bytes(db_, bytes);
    auto store = Store::open(db_, rt_);
    ASSERT_FALSE(store.ok());
    EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition) << store.status().to_string();
    EXPECT_EQ(read_bytes(db_), bytes);
  }
}

TEST_F(StoreTest, NewerSchemaVersionIsRefused) {
  open_store().reset();
  sql(db_, "UPDATE meta SET value = '2' WHERE key = 'schema_version';");
  auto store = Store::open(db_, rt_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("schema version 2"), std::string::npos) << store.status().to_string();
}

TEST_F(StoreTest, BadAdminValueIsAnErrorNamingTheRow) {
  {
    auto store = open_store();
    store->submit(put_server("web", "10.0.0.1:80"));
  }
  sql(db_, "UPDATE servers SET admin = 'sleeping';");
  auto store = open_store();
  auto state = store->load();
  ASSERT_FALSE(state.ok());
  EXPECT_NE(state.status().message().find("(web, 10.0.0.1:80)"), std::string::npos) << state.status().to_string();
  EXPECT_NE(state.status().message().find("sleeping"), std::string::npos);
}

TEST_F(StoreTest, ZeroMaxBatchIsRejected) {
  auto store = Store::open(db_, rt_, StoreOptions{.max_batch = 0});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), StatusCode::kInvalidArgument);
}

// The child: submit many mutations and report each one that became durable on `fd`.
[[noreturn]] void crash_child(const fs::path& db, int fd) {
  Runtime rt(test_options());
  if (!rt.start().ok()) _exit(2);
  auto store = Store::open(db, rt, StoreOptions{.max_batch = 64});  // many commits: the kill lands mid-stream
  if (!store.ok()) _exit(3);
  for (uint64_t i = 1; i <= 20'000; ++i) {
    const uint64_t seq = (*store)->submit(put_server("svc", "10.0.0.1:" + std::to_string(i)));
    (*store)->when_durable(seq, [fd, seq](Status st) {
      if (st.ok() && write(fd, &seq, sizeof seq) != sizeof seq) _exit(4);
    });
  }
  static_cast<void>((*store)->flush());
  for (;;) pause();  // wait for SIGKILL
}

TEST(StoreCrashTest, EveryAcknowledgedMutationSurvivesKill9) {
  TempDir dir;
  const fs::path db = dir.path() / "ns.db";
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    crash_child(db, fds[1]);
  }
  close(fds[1]);
  std::set<uint64_t> acked;
  auto read_acks = [&](int timeout_ms) {
    pollfd p{fds[0], POLLIN, 0};
    if (poll(&p, 1, timeout_ms) <= 0) return false;
    uint64_t buf[512];
    const ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) return false;
    for (ssize_t i = 0; i < n / static_cast<ssize_t>(sizeof(uint64_t)); ++i) acked.insert(buf[i]);
    return true;
  };
  while (acked.size() < 300 && read_acks(10'000)) {
  }
  kill(pid, SIGKILL);
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  while (read_acks(0)) {  // acks already in the pipe were sent before the kill
  }
  close(fds[0]);
  ASSERT_TRUE(WIFSIGNALED(wstatus)) << "child exited early with " << WEXITSTATUS(wstatus);
  ASSERT_GE(acked.size(), 300u);

  Runtime rt(test_options());
  ASSERT_TRUE(rt.start().ok());
  auto store = Store::open(db, rt);
  ASSERT_TRUE(store.ok()) << store.status().to_string();
  auto state = (*store)->load();
  ASSERT_TRUE(state.ok()) << state.status().to_string();
  std::set<std::string> present;
  for (const auto& s : state->servers) present.insert(s.id);
  size_t missing = 0;
  for (uint64_t seq : acked) missing += present.count("10.0.0.1:" + std::to_string(seq)) == 0 ? 1 : 0;
  EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged";
  EXPECT_GE(present.size(), acked.size());
  std::printf("[ figures  ] kill -9 after %zu acks: %zu rows present after reopen\n", acked.size(), present.size());
}

}  // namespace
}  // namespace chiron::nameserver
