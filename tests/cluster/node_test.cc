// Nodes in one process on loopback addresses 127.0.2.x (all of 127/8 is local on Linux):
// the tree forms, jobs run across nodes, a node stopped mid-job does not change the
// result, a node with another key is refused, a job resumes from the journal.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

#include "cluster/node.h"
#include "jobs/jobs.h"
#include "jobs/ndbc_synth.h"

namespace chiron::cluster {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class NodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    jobs::register_all();
    dir_ = std::filesystem::temp_directory_path() / ("chiron-node-test-" + std::to_string(::getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    key_ = std::string(32, 'k');
  }
  void TearDown() override {
    for (auto& n : nodes_) {
      if (n) n->stop();
    }
    nodes_.clear();
    std::filesystem::remove_all(dir_);
  }

  NodeOptions options(int host, const std::string& key) {
    NodeOptions o;
    o.listen = "127.0.2." + std::to_string(host) + ":" + std::to_string(port_);
    o.subnet = "127.0.2.0/24";
    o.fanout = 2;
    o.key = key;
    o.http = "off";
    o.data = dir_ / ("n" + std::to_string(host));
    o.threads = 2;
    o.heartbeat_ms = 100;
    o.dead_after_ms = 600;
    o.scan_interval_ms = 400;
    o.probe_timeout_ms = 300;
    return o;
  }

  Node& start(int host, const std::string& key = "") {
    auto n = Node::create(options(host, key.empty() ? key_ : key));
    EXPECT_TRUE(n.ok()) << n.status().to_string();
    Status st = (*n)->start();
    EXPECT_TRUE(st.ok()) << st.to_string();
    if (port_ == 0) {
      const std::string addr = (*n)->cluster_address();
      port_ = static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
    }
    if (nodes_.size() <= static_cast<size_t>(host)) nodes_.resize(host + 1);
    nodes_[host] = std::move(*n);
    return *nodes_[host];
  }

  static json::object cluster(const Node& n) { return json::parse(n.cluster_json()).as_object(); }
  static uint64_t superior(const Node& n) {
    const json::object c = cluster(n);
    const json::value& s = c.at("superior");
    return s.is_null() ? 0 : s.to_number<uint64_t>();
  }
  static uint64_t counter(const Node& n, const char* name) { return cluster(n).at("counters").at(name).to_number<uint64_t>(); }

  static bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit = 10s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
      if (cond()) return true;
      std::this_thread::sleep_for(20ms);
    }
    return cond();
  }

  // Waits for the job's end; returns its JSON.
  json::object finish(Node& n, uint64_t job, std::chrono::milliseconds limit = 60s) {
    json::object j;
    eventually(
        [&] {
          j = json::parse(n.job_json(job)).as_object();
          return j.at("state").as_string() != "running";
        },
        limit);
    return j;
  }

  std::filesystem::path dir_;
  std::string key_;
  uint16_t port_ = 0;
  std::vector<std::unique_ptr<Node>> nodes_;
};

TEST_F(NodeTest, FiveNodesFormTheIdealTreeWithWeights) {
  for (int i = 1; i <= 5; ++i) start(i);
  // fanout 2: 2→1, 3→1, 4→2, 5→2
  ASSERT_TRUE(eventually([&] {
    return superior(*nodes_[2]) == 1 && superior(*nodes_[3]) == 1 && superior(*nodes_[4]) == 2 && superior(*nodes_[5]) == 2;
  }));
  // Every node learns every record; link weights are the threads behind each link.
  ASSERT_TRUE(eventually([&] {
    for (int i = 1; i <= 5; ++i) {
      if (cluster(*nodes_[i]).at("nodes").as_array().size() != 5) return false;
    }
    json::object root = cluster(*nodes_[1]);
    std::map<uint64_t, uint64_t> weight;
    for (const auto& l : root.at("links").as_array()) weight[l.at("peer").to_number<uint64_t>()] = l.at("weight").to_number<uint64_t>();
    return weight[2] == 6 && weight[3] == 2;  // 3 nodes × 2 threads behind .2, 1 behind .3
  }));
}

TEST_F(NodeTest, JobResultDoesNotDependOnANodeDyingMidJob) {
  for (int i = 1; i <= 3; ++i) start(i);
  ASSERT_TRUE(eventually([&] { return superior(*nodes_[2]) == 1 && superior(*nodes_[3]) == 1; }));
  ASSERT_TRUE(eventually([&] { return cluster(*nodes_[1]).at("nodes").as_array().size() == 3; }));
  const std::vector<std::string> args = {"--stages", "3", "--parts", "12", "--work", "3000000", "--seed", "7"};

  auto clean = nodes_[1]->submit("checksum", args);
  ASSERT_TRUE(clean.ok()) << clean.status().to_string();
  json::object a = finish(*nodes_[1], *clean);
  ASSERT_EQ(a.at("state").as_string(), "succeeded") << json::serialize(a);
  const std::string expected = std::string(a.at("summary").as_string()).substr(0, 25);  // "checksum=<16 hex>"

  auto job = nodes_[1]->submit("checksum", args);
  ASSERT_TRUE(job.ok());
  // Stop node 3 while kernels are in flight to it.
  ASSERT_TRUE(eventually([&] {
    json::object c = cluster(*nodes_[1]);
    for (const auto& l : c.at("links").as_array()) {
      if (l.at("peer").to_number<uint64_t>() == 3 && l.at("in_flight").to_number<uint64_t>() > 0) return true;
    }
    return false;
  }, 20s));
  nodes_[3]->stop();
  json::object b = finish(*nodes_[1], *job);
  ASSERT_EQ(b.at("state").as_string(), "succeeded") << json::serialize(b);
  EXPECT_EQ(std::string(b.at("summary").as_string()).substr(0, 25), expected);
  EXPECT_GT(counter(*nodes_[1], "kernels_recovered"), 0u);
}

TEST_F(NodeTest, NodeWithAnotherKeyIsRefused) {
  start(1);
  start(2, std::string(32, 'x'));
  ASSERT_TRUE(eventually([&] { return counter(*nodes_[1], "frames_refused") > 0; }));
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(superior(*nodes_[2]), 0u);
  EXPECT_EQ(cluster(*nodes_[1]).at("nodes").as_array().size(), 1u);
}

TEST_F(NodeTest, JobResumesFromTheJournalAfterARestart) {
  start(1);
  const std::vector<std::string> args = {"--stages", "6", "--parts", "4", "--work", "2000000", "--seed", "3"};
  auto clean = nodes_[1]->submit("checksum", args);
  ASSERT_TRUE(clean.ok());
  const std::string expected = std::string(finish(*nodes_[1], *clean).at("summary").as_string()).substr(0, 25);

  auto job = nodes_[1]->submit("checksum", args);
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(eventually([&] {
    json::object j = json::parse(nodes_[1]->job_json(*job)).as_object();
    return j.at("progress").at("done").to_number<uint64_t>() >= 2;
  }));
  nodes_[1]->stop();
  nodes_[1].reset();
  Node& again = start(1);
  json::object j = finish(again, *job);
  EXPECT_EQ(j.at("state").as_string(), "succeeded") << json::serialize(j);
  EXPECT_TRUE(j.at("resumed").as_bool());
  EXPECT_EQ(std::string(j.at("summary").as_string()).substr(0, 25), expected);
}

TEST_F(NodeTest, CarriedParentContinuesWhenThePrincipalsNodeDies) {
  start(1);
  start(2);
  ASSERT_TRUE(eventually([&] { return superior(*nodes_[2]) == 1 && cluster(*nodes_[1]).at("nodes").as_array().size() == 2; }));
  const std::vector<std::string> args = {"--stages", "3", "--parts", "6", "--work", "4000000", "--seed", "11"};
  auto clean = nodes_[2]->submit("checksum", args);
  ASSERT_TRUE(clean.ok());
  const std::string expected = std::string(finish(*nodes_[2], *clean).at("summary").as_string()).substr(0, 25);

  // The main kernel runs on node 2; each stage carries it and prefers another node (1).
  const uint64_t received_before = counter(*nodes_[1], "kernels_received");
  auto job = nodes_[2]->submit("checksum", args);
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(eventually([&] { return counter(*nodes_[1], "kernels_received") > received_before; }));
  nodes_[2]->stop();  // the principal's node goes away while its stage runs on node 1
  std::string found;
  ASSERT_TRUE(eventually([&] {
    found = nodes_[1]->job_json(*job);
    return !found.empty() && json::parse(found).at("state").as_string() != "running";
  }, 60s)) << found;
  json::object j = json::parse(found).as_object();
  EXPECT_EQ(j.at("state").as_string(), "succeeded") << found;
  EXPECT_TRUE(j.at("resumed").as_bool());
  EXPECT_EQ(std::string(j.at("summary").as_string()).substr(0, 25), expected);
  EXPECT_EQ(counter(*nodes_[1], "parents_resumed"), 1u);
}

// The shipped apps give the same result on one node and spread over three (their kernels
// cross the wire both ways).
TEST_F(NodeTest, ShippedAppsGiveTheSameResultOnOneAndThreeNodes) {
  jobs::ndbc::SynthOptions so;
  so.stations = 3;
  so.years = 1;
  so.hours_step = 24;
  so.seed = 9;
  ASSERT_TRUE(jobs::ndbc::write_synthetic_dataset(dir_ / "ndbc", so).ok());
  auto run_all = [&](Node& n, const std::string& tag) {
    std::vector<std::string> out;
    const std::vector<std::vector<std::string>> jobs_args = {
        {"ndbc-spectra", "--input", (dir_ / "ndbc").string(), "--out", (dir_ / ("ndbc-" + tag + ".csv")).string()},
        {"ar-waves", "--size", "96,24,24", "--part", "16,8,8", "--out", (dir_ / ("ar-" + tag + ".f32")).string()},
    };
    for (const auto& a : jobs_args) {
      auto job = n.submit(a[0], std::vector<std::string>(a.begin() + 1, a.end()));
      EXPECT_TRUE(job.ok()) << job.status().to_string();
      if (!job.ok()) return out;
      json::object j = finish(n, *job);
      EXPECT_EQ(j.at("state").as_string(), "succeeded") << json::serialize(j);
      out.push_back(std::string(j.at("summary").as_string()));
    }
    return out;
  };
  start(1);
  const auto alone = run_all(*nodes_[1], "alone");
  start(2);
  start(3);
  ASSERT_TRUE(eventually([&] { return cluster(*nodes_[1]).at("nodes").as_array().size() == 3; }));
  const uint64_t sent_before = counter(*nodes_[1], "kernels_sent");
  const auto spread = run_all(*nodes_[1], "spread");
  EXPECT_GT(counter(*nodes_[1], "kernels_sent"), sent_before);
  ASSERT_EQ(alone.size(), 2u);
  ASSERT_EQ(spread.size(), 2u);
  // Summaries may name where parts ran; the results must agree.
  auto result_of = [](const std::string& summary) {
    std::string kept;
    for (const char* key : {"spectra=", "checksum=", "sha256="}) {
      auto at = summary.find(key);
      if (at != std::string::npos) kept += summary.substr(at, summary.find(' ', at) - at) + " ";
    }
    return kept;
  };
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_FALSE(result_of(alone[i]).empty()) << alone[i];
    EXPECT_EQ(result_of(alone[i]), result_of(spread[i])) << alone[i] << " vs " << spread[i];
  }
}

}  // namespace
}  // namespace chiron::cluster
