// Counters, rates, and the process description: the Registry's Program, text and JSON.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "flux/runtime.h"
#include "runtime_testutil.h"

namespace chiron::flux {
namespace {

using kernel::Device;
using testing::Countdown;

struct Msg {
  int64_t n = 0;
};

// Three fluxions, the shape of a small upload service.
Status build(Graph<Msg>& g, Countdown* done, Countdown* also = nullptr) {
  CHIRON_RETURN_IF_ERROR(g.add({.id = "upload",
                                .device = Device::kNet,
                                .tags = {"network"},
                                .streams = {{StreamType::kStart, {"hash"}, {"req", "res"}}},
                                .body = "on request:\n  >> hash"},
                               [](Msg& m, Emitter<Msg>& out) { return out.emit("hash", std::move(m)); }));
  CHIRON_RETURN_IF_ERROR(g.add({.id = "hash",
                                .device = Device::kCpu,
                                .streams = {{StreamType::kPost, {"store"}, {"res", "sha"}}},
                                .body = "sha = sha256(req.body)"},
                               [](Msg& m, Emitter<Msg>& out) { return out.emit("store", std::move(m)); }));
  CHIRON_RETURN_IF_ERROR(g.add({.id = "store", .device = Device::kDisk, .tags = {"network"}, .ctx = {"count"}},
                               [done, also](Msg&, Emitter<Msg>&) {
                                 if (done) done->hit();
                                 if (also) also->hit();
                                 return Status();
                               }));
  return g.start();
}

TEST(FluxRuntimeRegistryTest, CountsMessagesPerStreamAndRatesOverTheLastTenSeconds) {
  ManualClock clock;
  auto rt = testing::start_runtime(2, 1, 1);
  ASSERT_NE(rt, nullptr);
  Countdown first(20), done(30);
  Graph<Msg> g("counted", *rt, {.clock = &clock});
  ASSERT_TRUE(build(g, &done, &first).ok());
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(g.inject("upload", Msg{i}).ok());
  ASSERT_TRUE(first.wait());  // counted at second 1
  clock.advance(std::chrono::seconds(3));
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(g.inject("upload", Msg{i}).ok());
  ASSERT_TRUE(done.wait());  // 10 more at second 4
  g.stop();
  auto s = g.stats();
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].handled, 30u);
  EXPECT_EQ(s[1].handled, 30u);
  EXPECT_EQ(s[2].handled, 30u);
  EXPECT_EQ(s[0].failed, 0u);
  EXPECT_EQ(s[0].queued, 0);
  ASSERT_EQ(s[0].streams.size(), 1u);
  EXPECT_EQ(s[0].streams[0].messages, 30u);
  EXPECT_EQ(s[1].streams[0].messages, 30u);
  EXPECT_TRUE(s[2].streams.empty());
  EXPECT_DOUBLE_EQ(s[0].streams[0].rate, 3.0);  // 30 messages in the window of 10 s
  clock.advance(std::chrono::seconds(8));       // the first 20 fell out of the window
  EXPECT_DOUBLE_EQ(g.stats()[0].streams[0].rate, 1.0);
  clock.advance(std::chrono::seconds(5));
  EXPECT_DOUBLE_EQ(g.stats()[0].streams[0].rate, 0.0);
  EXPECT_EQ(g.stats()[0].streams[0].messages, 30u);  // the total stays
  clock.advance(std::chrono::seconds(16));           // a ring slot reused for a later second
  EXPECT_DOUBLE_EQ(g.stats()[1].streams[0].rate, 0.0);
}

TEST(FluxRuntimeRegistryTest, BusyTimeIsMeasuredOnTheGraphClock) {
  ManualClock clock;
  auto rt = testing::start_runtime(1, 1, 1);
  ASSERT_NE(rt, nullptr);
  Countdown done(3);
  Graph<Msg> g("busy", *rt, {.clock = &clock});
  ASSERT_TRUE(g.add({.id = "sleepy", .ctx = {"n"}}, [&](Msg&, Emitter<Msg>&) {
                clock.advance(std::chrono::microseconds(250));
                done.hit();
                return Status();
              }).ok());
  ASSERT_TRUE(g.start().ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(g.inject("sleepy", Msg{i}).ok());
  ASSERT_TRUE(done.wait());
  g.stop();
  EXPECT_EQ(g.stats()[0].busy_us, 750u);
}

TEST(FluxRuntimeRegistryTest, TheProcessIsOneProgramInFluxionalText) {
  auto rt = testing::start_runtime(2, 1, 1);
  ASSERT_NE(rt, nullptr);
  Registry registry;
  Graph<Msg> g("upload", *rt, {.registry = &registry});
  ASSERT_TRUE(build(g, nullptr).ok());
  Graph<Msg> other("tick", *rt, {.registry = &registry});
  ASSERT_TRUE(other.add({.id = "tick", .device = Device::kTimer, .ctx = {"last"}, .body = "last = now"},
                        [](Msg&, Emitter<Msg>&) { return Status(); }).ok());
  ASSERT_TRUE(other.start().ok());
  EXPECT_EQ(registry.size(), 2u);
  const std::string expected =
      "flx upload & network\n"
      ">> hash [req, res]\n"
      "  on request:\n"
      "    >> hash\n"
      "\n"
      "flx hash\n"
      "-> store [res, sha]\n"
      "  sha = sha256(req.body)\n"
      "\n"
      "flx store & network {count}\n"
      "-> null\n"
      "\n"
      "flx tick {last}\n"
      "-> null\n"
      "  last = now\n";
  EXPECT_EQ(write_text(registry.program()), expected);
  auto back = read_text(expected);
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, registry.program());
}

TEST(FluxRuntimeRegistryTest, IdsAreUniqueAcrossTheGraphsOfAProcess) {
  auto rt = testing::start_runtime(1, 1, 1);
  ASSERT_NE(rt, nullptr);
  Registry registry;
  Graph<Msg> a("first", *rt, {.registry = &registry});
  ASSERT_TRUE(a.add({.id = "same", .ctx = {"x"}}, [](Msg&, Emitter<Msg>&) { return Status(); }).ok());
  ASSERT_TRUE(a.start().ok());
  Graph<Msg> b("second", *rt, {.registry = &registry});
  ASSERT_TRUE(b.add({.id = "same", .ctx = {"x"}}, [](Msg&, Emitter<Msg>&) { return Status(); }).ok());
  Status st = b.start();
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(st.message().find("'same'"), std::string::npos) << st.to_string();
  EXPECT_EQ(registry.size(), 1u);
}

TEST(FluxRuntimeRegistryTest, AGraphLeavesTheRegistryWhenDestroyed) {
  auto rt = testing::start_runtime(1, 1, 1);
  ASSERT_NE(rt, nullptr);
  Registry registry;
  {
    Graph<Msg> g("short_lived", *rt, {.registry = &registry});
    ASSERT_TRUE(g.add({.id = "gone", .ctx = {"x"}}, [](Msg&, Emitter<Msg>&) { return Status(); }).ok());
    ASSERT_TRUE(g.start().ok());
    EXPECT_EQ(registry.program().fluxions.size(), 1u);
  }
  EXPECT_EQ(registry.size(), 0u);
  EXPECT_TRUE(registry.program().fluxions.empty());
}

TEST(FluxRuntimeRegistryTest, JsonDocumentCarriesTheModelAndTheCounters) {
  ManualClock clock;
  auto rt = testing::start_runtime(2, 1, 1);
  ASSERT_NE(rt, nullptr);
  Registry registry(clock);
  Countdown done(4);
  Graph<Msg> g("upload", *rt, {.clock = &clock, .registry = &registry});
  ASSERT_TRUE(build(g, &done).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(g.inject("upload", Msg{i}).ok());
  ASSERT_TRUE(done.wait());
  g.stop();
  boost::json::object doc = registry.to_json();
  EXPECT_EQ(doc.at("version").as_int64(), 1);
  EXPECT_EQ(doc.at("now_ms").as_int64(), clock.unix_ms());
  EXPECT_EQ(doc.at("window_s").as_int64(), 10);
  const auto& fl = doc.at("fluxions").as_array();
  ASSERT_EQ(fl.size(), 3u);
  const auto& upload = fl[0].as_object();
  EXPECT_EQ(upload.at("id").as_string(), "upload");
  EXPECT_EQ(upload.at("graph").as_string(), "upload");
  EXPECT_EQ(upload.at("device").as_string(), "net");
  EXPECT_EQ(upload.at("tags").as_array(), boost::json::array({"network"}));
  EXPECT_EQ(upload.at("replicas").as_int64(), 1);
  EXPECT_EQ(upload.at("handled").as_uint64(), 4u);
  EXPECT_EQ(upload.at("failed").as_uint64(), 0u);
  EXPECT_EQ(upload.at("queued").as_int64(), 0);
  EXPECT_TRUE(upload.contains("busy_us"));
  EXPECT_EQ(upload.at("body").as_string(), "on request:\n  >> hash");
  const auto& stream = upload.at("streams").as_array()[0].as_object();
  EXPECT_EQ(stream.at("type").as_string(), "start");
  EXPECT_EQ(stream.at("dest").as_array(), boost::json::array({"hash"}));
  EXPECT_EQ(stream.at("vars").as_array(), boost::json::array({"req", "res"}));
  EXPECT_EQ(stream.at("messages").as_uint64(), 4u);
  EXPECT_DOUBLE_EQ(stream.at("rate").as_double(), 0.4);
  const auto& hash = fl[1].as_object();
  EXPECT_EQ(hash.at("device").as_string(), "cpu");
  EXPECT_EQ(hash.at("replicas").as_int64(), 2);  // stateless: the cpu pool's threads
  // The document reads back as the same model (extra keys are ignored).
  auto back = from_json(boost::json::value(doc));
  ASSERT_TRUE(back.ok()) << back.status().to_string();
  EXPECT_EQ(*back, registry.program());
}

}  // namespace
}  // namespace chiron::flux
