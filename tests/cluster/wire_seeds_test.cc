// Seed corpora of fuzz/cluster_frame_fuzz.cc and fuzz/cluster_messages_fuzz.cc, built from the
// real encoders so they stay valid when the format grows. The test checks the seeds decode;
// with CHIRON_WRITE_FUZZ_SEEDS=<repo>/fuzz/corpus it also (re)writes the seed files:
//   CHIRON_WRITE_FUZZ_SEEDS=$PWD/fuzz/corpus build/tests/cluster_tests --gtest_filter='WireSeeds*'
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cluster/messages.h"
#include "cluster/wire.h"

namespace chiron::cluster {
namespace {

// Must match the fuzz target.
const std::string kFuzzKey = "fuzz-cluster-key-0123456789abcdef";

void write_seeds(const std::string& corpus, const std::map<std::string, std::string>& seeds) {
  const char* root = std::getenv("CHIRON_WRITE_FUZZ_SEEDS");
  if (root == nullptr) return;
  std::filesystem::path dir = std::filesystem::path(root) / corpus;
  std::filesystem::create_directories(dir);
  for (const auto& [name, bytes] : seeds) {
    std::ofstream(dir / name, std::ios::binary) << bytes;
  }
}

std::string hello_payload(const std::string& cluster, const std::string& nonce) {
  ByteWriter w;
  w.u32(kWireVersion);
  w.str(cluster);
  w.u64(77);
  w.u64(2);
  w.str("127.0.1.2:7070");
  w.raw(nonce);
  return w.take();
}

// A structured record of the frame fuzz target: type, seq, u16 length, payload.
std::string record(FrameType type, uint8_t seq, const std::string& payload) {
  ByteWriter w;
  w.u8(static_cast<uint8_t>(type));
  w.u8(seq);
  w.u16(static_cast<uint16_t>(payload.size()));
  w.raw(payload);
  return w.take();
}

std::map<std::string, std::string> message_seeds() {
  NodeRecord r;
  r.position = 3;
  r.uid = 99;
  r.endpoint = "10.77.0.3:7070";
  r.http = "127.0.0.1:7080";
  r.hostname = "n3";
  r.superior = 1;
  r.threads = 4;
  r.memory_bytes = 1 << 30;
  r.load = 0.5;
  r.jobs = 1;
  r.version = 2;
  KernelMsg k;
  k.id = {99, 1};
  k.job = 5;
  k.origin = 3;
  k.kernel = {"checksum.part", "body"};
  k.parent_id = {99, 0};
  KernelMsg kp = k;
  kp.carries_parent = true;
  kp.parent = {"checksum.main", "state"};
  KernelReturnMsg ret;
  ret.id = {99, 1};
  ret.job = 5;
  ret.exit_code = 1;
  ret.status_code = 4;
  ret.status_message = "no";
  ret.kernel = {"checksum.part", "result"};
  return {
      {"attach", encode(AttachMsg{5, 2})},
      {"records", encode_records({r, r})},
      {"records_empty", encode_records({})},
      {"positions", encode_positions({4, 5, 6})},
      {"kernel", encode(k)},
      {"kernel_parent", encode(kp)},
      {"kernel_return", encode(ret)},
      {"cancel_job", encode(CancelJobMsg{5})},
      {"error", encode_error("cluster name mismatch")},
  };
}

TEST(WireSeedsTest, MessageSeedsDecode) {
  auto seeds = message_seeds();
  EXPECT_TRUE(decode_attach(seeds["attach"]).ok());
  EXPECT_TRUE(decode_records(seeds["records"]).ok());
  EXPECT_TRUE(decode_records(seeds["records_empty"]).ok());
  EXPECT_TRUE(decode_positions(seeds["positions"]).ok());
  EXPECT_TRUE(decode_kernel(seeds["kernel"]).ok());
  EXPECT_TRUE(decode_kernel(seeds["kernel_parent"]).ok());
  EXPECT_TRUE(decode_kernel_return(seeds["kernel_return"]).ok());
  EXPECT_TRUE(decode_cancel_job(seeds["cancel_job"]).ok());
  EXPECT_TRUE(decode_error(seeds["error"]).ok());
  write_seeds("cluster_messages", seeds);
}

TEST(WireSeedsTest, FrameSeedsHoldValidFrames) {
  // A real initiator's stream (HELLO, AUTH, a kernel) against a responder of the fuzz cluster.
  HelloInfo a_info;
  a_info.cluster = "fuzz";
  a_info.position = 2;
  a_info.endpoint = "127.0.1.2:7070";
  HelloInfo b_info = a_info;
  b_info.position = 1;
  PeerSession a(PeerSession::Role::kInitiator, kFuzzKey, a_info);
  PeerSession b(PeerSession::Role::kResponder, kFuzzKey, b_info);
  a.send(FrameType::kKernel, encode(KernelMsg{{1, 1}, 1, 2, {"x.y", "z"}, false, {}, {}}));
  std::vector<Frame> sink;
  std::string a_stream = a.take_output();
  ASSERT_TRUE(b.feed(a_stream, sink).ok());
  ASSERT_TRUE(a.feed(b.take_output(), sink).ok());
  const std::string rest = a.take_output();  // AUTH, then the held kernel
  a_stream += rest;
  ASSERT_TRUE(b.feed(rest, sink).ok());
  ASSERT_TRUE(b.authenticated());
  ASSERT_EQ(sink.size(), 1u);

  const std::string nonce(32, 'n');
  std::string hello_ok = record(FrameType::kHello, 0, hello_payload("fuzz", nonce));
  std::map<std::string, std::string> seeds = {
      {"handshake_whole", std::string(1, '\x00') + a_stream},
      {"handshake_bytewise", std::string(1, '\x01') + a_stream},
      {"handshake_chunks7", std::string(1, '\x07') + a_stream},
      {"unkeyed_frames", std::string(1, '\x00') + encode_frame(Frame{FrameType::kHeartbeat, 0, 0, ""}, "") +
                             encode_frame(Frame{FrameType::kKernel, 3, 1, "k"}, "")},
      {"http_garbage", std::string(1, '\x00') + "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
      {"s_hello_auth_kernel", std::string(1, '\x80') + hello_ok + record(FrameType::kAuth, 1, std::string(32, 'a')) +
                                  record(FrameType::kKernel, 2, "k")},
      {"s_hello_kernel", std::string(1, '\x80') + hello_ok + record(FrameType::kKernel, 1, "k")},
      {"s_hello_other_cluster", std::string(1, '\x83') + record(FrameType::kHello, 0, hello_payload("prod", nonce))},
      {"s_hello_error", std::string(1, '\x80') + hello_ok + record(FrameType::kError, 1, encode_error("bye"))},
      {"s_kernel_first", std::string(1, '\x80') + record(FrameType::kKernel, 0, "k")},
  };
  FrameDecoder d;
  d.set_mac_key(kFuzzKey);
  d.feed(a_stream);
  // HELLO and AUTH carry the cluster key's MAC; the kernel the session key's.
  for (int i = 0; i < 2; ++i) {
    auto f = d.next();
    ASSERT_TRUE(f.ok() && f->has_value()) << i;
  }
  EXPECT_EQ(d.next().status().to_string(), "unauthenticated: bad MAC on frame KERNEL seq 2 (wrong cluster key?)");
  write_seeds("cluster_frame", seeds);
}

}  // namespace
}  // namespace chiron::cluster
