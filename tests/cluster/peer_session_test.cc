// Authenticated peer sessions (src/cluster/wire.h PeerSession): two sessions talking through
// an in-memory pipe, and hostile peers — wrong key, wrong cluster, replayed, reordered,
// reflected and spliced frames, data before authentication, forged kernels.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cluster/messages.h"
#include "cluster/wire.h"

namespace chiron::cluster {
namespace {

using Role = PeerSession::Role;

const std::string kKey(32, 'K');

HelloInfo hello(std::string cluster, uint64_t position) {
  HelloInfo h;
  h.cluster = std::move(cluster);
  h.uid = 1000 + position;
  h.position = position;
  h.endpoint = "10.77.0." + std::to_string(position) + ":7070";
  return h;
}

// The frames of a byte stream, as byte strings (by the length field; no checks).
std::vector<std::string> split_frames(std::string_view s) {
  std::vector<std::string> out;
  while (s.size() >= kFrameHeaderBytes) {
    uint32_t len = 0;
    for (int i = 0; i < 4; ++i) len |= static_cast<uint32_t>(static_cast<uint8_t>(s[16 + i])) << (8 * i);
    const size_t total = kFrameHeaderBytes + len + kFrameTrailerBytes;
    out.emplace_back(s.substr(0, total));
    s.remove_prefix(total);
  }
  return out;
}

// The HELLO payload layout (docs/protocols.md), for forging peers.
std::string hello_payload(const HelloInfo& h, std::string nonce) {
  ByteWriter w;
  w.u32(h.protocol);
  w.str(h.cluster);
  w.u64(h.uid);
  w.u64(h.position);
  w.str(h.endpoint);
  w.raw(nonce);
  return w.take();
}

Frame frame(FrameType type, uint64_t seq, std::string payload) {
  Frame f;
  f.type = type;
  f.seq = seq;
  f.payload = std::move(payload);
  return f;
}

struct Pipe {
  PeerSession a;  // initiator
  PeerSession b;  // responder
  std::vector<Frame> at_a, at_b;
  Status a_status, b_status;

  explicit Pipe(std::string key_a = kKey, std::string key_b = kKey, std::string cluster_a = "prod",
                std::string cluster_b = "prod")
      : a(Role::kInitiator, std::move(key_a), hello(std::move(cluster_a), 2)),
        b(Role::kResponder, std::move(key_b), hello(std::move(cluster_b), 1), 1 << 20) {}

  // Moves bytes both ways until both are quiet (or one failed).
  void pump() {
    for (int round = 0; round < 10; ++round) {
      std::string ab = a.take_output(), ba = b.take_output();
      if (ab.empty() && ba.empty()) return;
      if (!ab.empty() && b_status.ok()) b_status = b.feed(ab, at_b);
      if (!ba.empty() && a_status.ok()) a_status = a.feed(ba, at_a);
    }
  }
};

TEST(PeerSessionTest, HandshakeAuthenticatesBothSidesAndFramesFlowBothWays) {
  Pipe p;
  EXPECT_FALSE(p.a.authenticated());
  p.pump();
  ASSERT_TRUE(p.a_status.ok()) << p.a_status.to_string();
  ASSERT_TRUE(p.b_status.ok()) << p.b_status.to_string();
  ASSERT_TRUE(p.a.authenticated());
  ASSERT_TRUE(p.b.authenticated());
  EXPECT_EQ(p.a.peer().position, 1u);
  EXPECT_EQ(p.a.peer().endpoint, "10.77.0.1:7070");
  EXPECT_EQ(p.b.peer().uid, 1002u);
  EXPECT_EQ(p.b.peer().cluster, "prod");
  EXPECT_TRUE(p.at_a.empty());  // HELLO/AUTH are never handed out
  EXPECT_TRUE(p.at_b.empty());

  p.a.send(FrameType::kKernel, "kernel-1", 5);
  p.a.send(FrameType::kHeartbeat, "");
  p.b.send(FrameType::kKernelReturn, "return-1");
  p.pump();
  ASSERT_EQ(p.at_b.size(), 2u);
  EXPECT_EQ(p.at_b[0].type, FrameType::kKernel);
  EXPECT_EQ(p.at_b[0].payload, "kernel-1");
  EXPECT_EQ(p.at_b[0].flags, 5);
  EXPECT_EQ(p.at_b[0].seq, 2u);
  EXPECT_EQ(p.at_b[1].type, FrameType::kHeartbeat);
  ASSERT_EQ(p.at_a.size(), 1u);
  EXPECT_EQ(p.at_a[0].payload, "return-1");
}

TEST(PeerSessionTest, FramesSentBeforeAuthenticationAreHeldUntilTheHandshakeEnds) {
  Pipe p;
  p.a.send(FrameType::kKernel, "early");
  const std::string first = p.a.take_output();
  ASSERT_EQ(split_frames(first).size(), 1u);  // only HELLO leaves
  EXPECT_EQ(first[5], static_cast<char>(FrameType::kHello));
  ASSERT_TRUE(p.b.feed(first, p.at_b).ok());
  p.pump();
  ASSERT_EQ(p.at_b.size(), 1u);
  EXPECT_EQ(p.at_b[0].payload, "early");
}

TEST(PeerSessionTest, EverySplitOfTheInitiatorsStreamAuthenticates) {
  // For each split point, a fresh pair: the responder's HELLO reaches the initiator first, so
  // the initiator's whole stream (HELLO, AUTH, two frames) is known; it reaches the responder
  // in two pieces.
  for (size_t split = 0;; ++split) {
    Pipe p;
    p.a.send(FrameType::kKernel, std::string(50, 'k'));
    p.a.send(FrameType::kRecords, "r");
    std::string a_hello = p.a.take_output();
    ASSERT_TRUE(p.a.feed(p.b.take_output(), p.at_a).ok());
    std::string stream = a_hello + p.a.take_output();
    // a is waiting for b's AUTH, so its data frames are still held: release them by
    // completing a's side with b's AUTH once b has seen a's HELLO.
    if (split > stream.size()) break;
    ASSERT_TRUE(p.b.feed(std::string_view(stream).substr(0, split), p.at_b).ok()) << split;
    ASSERT_TRUE(p.b.feed(std::string_view(stream).substr(split), p.at_b).ok()) << split;
    ASSERT_TRUE(p.b.authenticated()) << split;
    ASSERT_TRUE(p.a.feed(p.b.take_output(), p.at_a).ok()) << split;
    ASSERT_TRUE(p.a.authenticated());
    std::string data = p.a.take_output();
    ASSERT_EQ(split_frames(data).size(), 2u);
    for (size_t i = 0; i < data.size(); ++i) {
      ASSERT_TRUE(p.b.feed(std::string_view(data).substr(i, 1), p.at_b).ok()) << split << "/" << i;
    }
    ASSERT_EQ(p.at_b.size(), 2u) << split;
    EXPECT_EQ(p.at_b[1].payload, "r");
  }
}

TEST(PeerSessionTest, AWrongClusterKeyIsRefusedWithAClearError) {
  Pipe p(kKey, std::string(32, 'X'));
  p.pump();
  EXPECT_FALSE(p.a.authenticated());
  EXPECT_FALSE(p.b.authenticated());
  EXPECT_EQ(p.b_status.to_string(), "unauthenticated: bad MAC on frame HELLO seq 0 (wrong cluster key?)");
  EXPECT_EQ(p.a_status.to_string(), "unauthenticated: bad MAC on frame HELLO seq 0 (wrong cluster key?)");
  EXPECT_TRUE(p.at_a.empty());
  EXPECT_TRUE(p.at_b.empty());
}

TEST(PeerSessionTest, AnotherClusterNameIsRefusedAndThePeerIsToldWhy) {
  Pipe p(kKey, kKey, "prod", "staging");
  p.a.send(FrameType::kKernel, "never");
  p.pump();
  EXPECT_FALSE(p.b.authenticated());
  EXPECT_EQ(p.b_status.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(p.b_status.message(),
            "cluster name mismatch: the initiator is in cluster 'prod', the responder in 'staging'");
  // Both check: the initiator refuses the responder's HELLO the same way.
  EXPECT_EQ(p.a_status.to_string(),
            "permission_denied: cluster name mismatch: the responder is in cluster 'staging', the initiator in 'prod'");
  EXPECT_TRUE(p.at_b.empty());
}

TEST(PeerSessionTest, ARefusingSessionTellsThePeerWhyWithAnErrorFrame) {
  PeerSession b(Role::kResponder, kKey, hello("staging", 1));
  std::vector<Frame> out;
  (void)b.take_output();  // b's HELLO
  Status st = b.feed(encode_frame(frame(FrameType::kHello, 0, hello_payload(hello("prod", 9), std::string(32, 'n'))), kKey), out);
  ASSERT_EQ(st.code(), StatusCode::kPermissionDenied);
  FrameDecoder d;
  d.set_mac_key(kKey);
  d.feed(b.take_output());
  auto f = d.next();
  ASSERT_TRUE(f.ok() && f->has_value()) << f.status().to_string();
  EXPECT_EQ((*f)->type, FrameType::kError);
  EXPECT_EQ((*f)->seq, 1u);
  EXPECT_EQ(*decode_error((*f)->payload), st.message());
}

TEST(PeerSessionTest, AnErrorFrameDuringTheHandshakeEndsTheSessionWithItsReason) {
  PeerSession a(Role::kInitiator, kKey, hello("prod", 2));
  std::vector<Frame> out;
  Status st = a.feed(encode_frame(frame(FrameType::kHello, 0, hello_payload(hello("prod", 1), std::string(32, 'n'))), kKey) +
                         encode_frame(frame(FrameType::kError, 1, encode_error("go away")), kKey),
                     out);
  EXPECT_EQ(st.to_string(), "aborted: peer closed the connection: go away");
  EXPECT_FALSE(a.authenticated());
}

TEST(PeerSessionTest, AfterAnErrorEveryFeedReturnsItAndNothingMoreIsSent) {
  Pipe p(kKey, std::string(32, 'X'));
  p.pump();
  ASSERT_FALSE(p.b_status.ok());
  std::vector<Frame> out;
  EXPECT_EQ(p.b.feed("anything", out), p.b_status);
  p.b.send(FrameType::kKernel, "x");
  EXPECT_EQ(p.b.take_output(), "");
  EXPECT_TRUE(out.empty());
}

// An authenticated pair, and the byte strings of frames a → b that b has not seen yet.
struct OpenPair : Pipe {
  OpenPair() {
    pump();
    CHIRON_CHECK(a.authenticated() && b.authenticated(), "handshake failed");
  }
  std::vector<std::string> a_frames(std::vector<std::string> payloads) {
    for (auto& s : payloads) a.send(FrameType::kKernel, std::move(s));
    return split_frames(a.take_output());
  }
};

TEST(PeerSessionTest, AReplayedFrameIsRefused) {
  OpenPair p;
  auto f = p.a_frames({"k1"});
  ASSERT_TRUE(p.b.feed(f[0], p.at_b).ok());
  Status st = p.b.feed(f[0], p.at_b);
  EXPECT_EQ(st.to_string(),
            "failed_precondition: frame KERNEL seq 2 out of order (expected seq 3): replayed, dropped or reordered");
  EXPECT_EQ(p.at_b.size(), 1u);
}

TEST(PeerSessionTest, ReorderedOrDroppedFramesAreRefused) {
  OpenPair p;
  auto f = p.a_frames({"k1", "k2", "k3"});
  Status st = p.b.feed(f[1] + f[0], p.at_b);
  EXPECT_NE(st.message().find("frame KERNEL seq 3 out of order (expected seq 2)"), std::string::npos);
  EXPECT_TRUE(p.at_b.empty());

  OpenPair q;
  auto g = q.a_frames({"k1", "k2", "k3"});
  ASSERT_TRUE(q.b.feed(g[0], q.at_b).ok());
  EXPECT_FALSE(q.b.feed(g[2], q.at_b).ok());
  EXPECT_EQ(q.at_b.size(), 1u);
}

TEST(PeerSessionTest, AFrameFromAnotherSessionIsRefusedEvenWithTheSameKeyAndSeq) {
  OpenPair one, two;
  auto mine = one.a_frames({"mine"});
  auto theirs = two.a_frames({"theirs"});
  Status st = one.b.feed(theirs[0], one.at_b);
  EXPECT_EQ(st.to_string(), "unauthenticated: bad MAC on frame KERNEL seq 2 (wrong cluster key?)");
  EXPECT_TRUE(one.at_b.empty());
}

TEST(PeerSessionTest, AFrameReflectedBackToItsSenderIsRefused) {
  OpenPair p;
  p.b.send(FrameType::kKernel, "from b");
  auto from_b = split_frames(p.b.take_output());
  // b's seq 2 is what b expects from a next; only the direction key tells them apart.
  Status st = p.b.feed(from_b[0], p.at_b);
  EXPECT_NE(st.message().find("bad MAC on frame KERNEL seq 2"), std::string::npos) << st.to_string();
}

TEST(PeerSessionTest, ARecordedHandshakeCannotBeReplayedToANewSession) {
  Pipe recorded;
  std::string a_hello = recorded.a.take_output();
  ASSERT_TRUE(recorded.a.feed(recorded.b.take_output(), recorded.at_a).ok());
  std::string a_stream = a_hello + recorded.a.take_output();  // HELLO + AUTH

  PeerSession fresh(Role::kResponder, kKey, hello("prod", 1));
  std::vector<Frame> out;
  Status st = fresh.feed(a_stream, out);
  EXPECT_EQ(st.to_string(), "unauthenticated: bad AUTH from the initiator (wrong cluster key, or a replayed handshake)");
  EXPECT_FALSE(fresh.authenticated());
}

TEST(PeerSessionTest, OurOwnHelloReflectedBackIsRefused) {
  PeerSession a(Role::kInitiator, kKey, hello("prod", 2));
  std::vector<Frame> out;
  Status st = a.feed(a.take_output(), out);
  EXPECT_EQ(st.to_string(), "unauthenticated: peer sent our own nonce back (reflected handshake)");
}

TEST(PeerSessionTest, AKeyHolderSendingDataBeforeAuthIsRefused) {
  // A peer that knows the key but skips AUTH: HELLO, then a KERNEL MAC'd with the cluster key.
  PeerSession b(Role::kResponder, kKey, hello("prod", 1));
  const std::string forged = encode_frame(frame(FrameType::kHello, 0, hello_payload(hello("prod", 9), std::string(32, 'n'))), kKey) +
                             encode_frame(frame(FrameType::kKernel, 1, "run me"), kKey);
  std::vector<Frame> out;
  Status st = b.feed(forged, out);
  EXPECT_EQ(st.to_string(), "unauthenticated: frame KERNEL seq 1 refused: the peer is not authenticated yet");
  EXPECT_TRUE(out.empty());
  EXPECT_FALSE(b.authenticated());

  PeerSession c(Role::kResponder, kKey, hello("prod", 1));
  st = c.feed(encode_frame(frame(FrameType::kKernel, 0, "first thing"), kKey), out);
  EXPECT_EQ(st.to_string(), "unauthenticated: frame KERNEL seq 0 refused: the peer is not authenticated yet");
  EXPECT_TRUE(out.empty());
}

TEST(PeerSessionTest, AForgedKernelFromAnUnauthenticatedPeerIsRefusedNeverHandedOut) {
  KernelMsg m;
  m.id = {1, 1};
  m.kernel = {"checksum.part", "payload"};
  const std::string body = encode(m);
  for (const std::string& forger_key : {std::string(), std::string(32, 'G'), std::string("K")}) {
    PeerSession b(Role::kResponder, kKey, hello("prod", 1));
    std::vector<Frame> out;
    // Straight away, and after a genuine-looking HELLO of its own.
    Status st = b.feed(encode_frame(frame(FrameType::kKernel, 0, body), forger_key), out);
    EXPECT_EQ(st.to_string(), "unauthenticated: bad MAC on frame KERNEL seq 0 (wrong cluster key?)");
    EXPECT_TRUE(out.empty());
    PeerSession c(Role::kResponder, kKey, hello("prod", 1));
    st = c.feed(encode_frame(frame(FrameType::kKernel, 2, body), forger_key), out);
    EXPECT_FALSE(st.ok());
    EXPECT_TRUE(out.empty());
    EXPECT_FALSE(c.authenticated());
  }
}

TEST(PeerSessionTest, HandshakeFramesAreCappedSmallButDataMayBeLarge) {
  PeerSession b(Role::kResponder, kKey, hello("prod", 1), 1 << 20);
  std::vector<Frame> out;
  Status st = b.feed(encode_frame(frame(FrameType::kHello, 0, std::string(5000, 'h')), kKey), out);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted) << st.to_string();

  OpenPair p;  // b's cap is 1 MiB
  p.a.send(FrameType::kKernel, std::string(100000, 'x'));
  p.pump();
  ASSERT_TRUE(p.b_status.ok()) << p.b_status.to_string();
  ASSERT_EQ(p.at_b.size(), 1u);
  EXPECT_EQ(p.at_b[0].payload.size(), 100000u);
  p.a.send(FrameType::kKernel, std::string((1 << 20) + 1, 'x'));
  p.pump();
  EXPECT_EQ(p.b_status.code(), StatusCode::kResourceExhausted);
}

TEST(PeerSessionTest, AMalformedHelloIsRefused) {
  PeerSession b(Role::kResponder, kKey, hello("prod", 1));
  std::vector<Frame> out;
  std::string payload = hello_payload(hello("prod", 9), std::string(31, 'n'));  // short nonce
  Status st = b.feed(encode_frame(frame(FrameType::kHello, 0, payload), kKey), out);
  EXPECT_EQ(st.to_string(), "invalid_argument: HELLO: truncated bytes at byte 46");

  PeerSession c(Role::kResponder, kKey, hello("prod", 1));
  HelloInfo old = hello("prod", 9);
  old.protocol = 7;
  st = c.feed(encode_frame(frame(FrameType::kHello, 0, hello_payload(old, std::string(32, 'n'))), kKey), out);
  EXPECT_EQ(st.to_string(), "failed_precondition: cluster protocol mismatch: the initiator speaks 7, the responder 1");
}

TEST(PeerSessionTest, AnErrorFrameAfterTheHandshakeIsHandedToTheDriver) {
  OpenPair p;
  p.a.send(FrameType::kError, encode_error("shutting down"));
  p.pump();
  ASSERT_TRUE(p.b_status.ok());
  ASSERT_EQ(p.at_b.size(), 1u);
  EXPECT_EQ(p.at_b[0].type, FrameType::kError);
  EXPECT_EQ(*decode_error(p.at_b[0].payload), "shutting down");
}

TEST(PeerSessionTest, ManyFramesEachWayStayInOrder) {
  OpenPair p;
  for (int i = 0; i < 500; ++i) {
    p.a.send(FrameType::kKernel, std::to_string(i));
    p.b.send(FrameType::kKernelReturn, std::to_string(i));
  }
  p.pump();
  ASSERT_TRUE(p.a_status.ok() && p.b_status.ok());
  ASSERT_EQ(p.at_b.size(), 500u);
  ASSERT_EQ(p.at_a.size(), 500u);
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(p.at_b[i].payload, std::to_string(i));
    EXPECT_EQ(p.at_a[i].seq, static_cast<uint64_t>(i) + 2);
  }
}

}  // namespace
}  // namespace chiron::cluster
