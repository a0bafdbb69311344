// PeerSession (wire.h): the HELLO/AUTH handshake, session keys and per-direction sequence
// numbers over FrameDecoder.
//
// Keys. K is the cluster key. HELLO, AUTH (and an ERROR sent before the handshake ends) are
// MAC'd with K. AUTH proves K for this pair of nonces: HMAC(K, "chiron-cluster-auth" | role |
// own nonce | peer nonce), the role byte keeping a reflected AUTH from passing. The session
// key is S = HMAC(K, "chiron-cluster-session" | initiator nonce | responder nonce), and each
// direction MACs with its own key HMAC(S, "initiator->responder") or
// HMAC(S, "responder->initiator"), so a frame reflected back to its sender never checks out
// even where the two directions' sequence numbers meet.
//
// Sequence numbers count frames per direction from 0 (HELLO 0, AUTH 1, then 2, 3, …) and
// must be exactly the previous + 1: a replayed, dropped or reordered frame is refused (the
// MAC covers the number). Frames from another session fail the MAC (other nonces).
#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "cluster/messages.h"
#include "cluster/wire.h"
#include "cluster/wire_mac.h"
#include "common/check.h"

namespace chiron::cluster {

namespace {

constexpr size_t kNonceBytes = 32;
// Until the peer is authenticated nothing larger than a handshake frame is buffered.
constexpr size_t kHandshakeMaxPayload = 4096;
constexpr size_t kMaxNameBytes = 255;
constexpr size_t kMaxReasonBytes = 1024;

constexpr std::string_view kAuthLabel = "chiron-cluster-auth";
constexpr std::string_view kSessionLabel = "chiron-cluster-session";
constexpr std::string_view kInitiatorToResponder = "initiator->responder";
constexpr std::string_view kResponderToInitiator = "responder->initiator";

std::string encode_hello(const HelloInfo& h, std::string_view nonce) {
  ByteWriter w;
  w.u32(h.protocol);
  w.str(h.cluster);
  w.u64(h.uid);
  w.u64(h.position);
  w.str(h.endpoint);
  w.raw(nonce);
  return w.take();
}

Status decode_hello(std::string_view payload, HelloInfo& h, std::string& nonce) {
  ByteReader r(payload);
  h.protocol = r.u32();
  h.cluster = r.str(kMaxNameBytes, "cluster name");
  h.uid = r.u64();
  h.position = r.u64();
  h.endpoint = r.str(kMaxNameBytes, "endpoint");
  nonce = std::string(r.raw(kNonceBytes));
  return r.status().context("HELLO");
}

std::string_view role_name(PeerSession::Role role) {
  return role == PeerSession::Role::kInitiator ? "initiator" : "responder";
}

}  // namespace

struct PeerSession::Impl {
  enum class State : uint8_t { kWaitHello, kWaitAuth, kOpen, kFailed };
  struct Held {
    FrameType type;
    std::string payload;
    uint16_t flags;
  };

  Role role;
  std::string key;
  HelloInfo self;
  size_t max_payload;
  State state = State::kWaitHello;
  std::string own_nonce;
  std::string peer_nonce;
  HelloInfo peer;
  detail::Hmac cluster_mac;
  std::unique_ptr<detail::Hmac> send_mac;  // set when our AUTH is out
  FrameDecoder decoder;
  uint64_t send_seq = 0;  // the next one out
  uint64_t recv_seq = 0;  // the next one expected
  std::string out;
  std::vector<Held> held;
  Status error;

  Impl(Role r, std::string k, HelloInfo s, size_t mp)
      : role(r), key(std::move(k)), self(std::move(s)), max_payload(mp), cluster_mac(key),
        decoder(kHandshakeMaxPayload) {
    decoder.set_mac_key(key);
    own_nonce.resize(kNonceBytes);
    CHIRON_CHECK(RAND_bytes(reinterpret_cast<unsigned char*>(own_nonce.data()), kNonceBytes) == 1,
                 "RAND_bytes failed");
    self.protocol = kWireVersion;
    emit(FrameType::kHello, encode_hello(self, own_nonce), 0);
  }

  void emit(FrameType type, std::string_view payload, uint16_t flags) {
    detail::append_frame(out, static_cast<uint8_t>(type), flags, send_seq++, payload,
                         send_mac != nullptr ? send_mac.get() : &cluster_mac);
  }

  std::string auth_proof(Role who, std::string_view first, std::string_view second) const {
    const char r = static_cast<char>(who);
    return detail::hmac_sha256(key, {kAuthLabel, std::string_view(&r, 1), first, second});
  }

  // Both sides know both nonces: derive the direction keys.
  void derive_keys() {
    const std::string_view ni = role == Role::kInitiator ? own_nonce : peer_nonce;
    const std::string_view nr = role == Role::kInitiator ? peer_nonce : own_nonce;
    const std::string session = detail::hmac_sha256(key, {kSessionLabel, ni, nr});
    const std::string i2r = detail::hmac_sha256(session, {kInitiatorToResponder});
    const std::string r2i = detail::hmac_sha256(session, {kResponderToInitiator});
    send_mac = std::make_unique<detail::Hmac>(role == Role::kInitiator ? i2r : r2i);
    // The decoder switches after the peer's AUTH (still MAC'd with the cluster key).
    recv_key = role == Role::kInitiator ? r2i : i2r;
  }
  std::string recv_key;

  Status on_hello(const Frame& f) {
    HelloInfo h;
    std::string nonce;
    CHIRON_RETURN_IF_ERROR(decode_hello(f.payload, h, nonce));
    // Worded so that it reads right on both ends (the reason also goes to the peer).
    const std::string_view me = role_name(role);
    const std::string_view them = role_name(role == Role::kInitiator ? Role::kResponder : Role::kInitiator);
    if (h.protocol != kWireVersion) {
      return Status::failed_precondition("cluster protocol mismatch: the " + std::string(them) + " speaks " +
                                         std::to_string(h.protocol) + ", the " + std::string(me) + " " +
                                         std::to_string(kWireVersion));
    }
    if (h.cluster != self.cluster) {
      return Status::permission_denied("cluster name mismatch: the " + std::string(them) + " is in cluster '" +
                                       h.cluster + "', the " + std::string(me) + " in '" + self.cluster + "'");
    }
    if (CRYPTO_memcmp(nonce.data(), own_nonce.data(), kNonceBytes) == 0) {
      return Status::unauthenticated("peer sent our own nonce back (reflected handshake)");
    }
    peer = std::move(h);
    peer_nonce = std::move(nonce);
    const std::string proof = auth_proof(role, own_nonce, peer_nonce);
    emit(FrameType::kAuth, proof, 0);
    derive_keys();
    state = State::kWaitAuth;
    return {};
  }

  Status on_auth(const Frame& f) {
    const Role peer_role = role == Role::kInitiator ? Role::kResponder : Role::kInitiator;
    const std::string expected = auth_proof(peer_role, peer_nonce, own_nonce);
    if (f.payload.size() != expected.size() ||
        CRYPTO_memcmp(f.payload.data(), expected.data(), expected.size()) != 0) {
      return Status::unauthenticated("bad AUTH from the " + std::string(role_name(peer_role)) +
                                     " (wrong cluster key, or a replayed handshake)");
    }
    decoder.set_mac_key(std::move(recv_key));
    recv_key.clear();
    decoder.set_max_payload(max_payload);
    state = State::kOpen;
    for (Held& h : held) emit(h.type, h.payload, h.flags);
    held.clear();
    held.shrink_to_fit();
    return {};
  }

  // One decoded frame (MAC and CRC already good).
  Status on_frame(Frame& f, std::vector<Frame>& frames) {
    const std::string label = "frame " + std::string(frame_type_name(static_cast<uint8_t>(f.type))) + " seq " +
                              std::to_string(f.seq);
    if (f.seq != recv_seq) {
      return Status::failed_precondition(label + " out of order (expected seq " + std::to_string(recv_seq) +
                                         "): replayed, dropped or reordered");
    }
    ++recv_seq;
    if (f.type == FrameType::kError && state != State::kOpen) {
      auto reason = decode_error(f.payload);
      return Status::aborted("peer closed the connection: " +
                             (reason.ok() ? *reason : "(unreadable reason: " + reason.status().message() + ")"));
    }
    switch (state) {
      case State::kWaitHello:
        if (f.type != FrameType::kHello) break;
        return on_hello(f);
      case State::kWaitAuth:
        if (f.type != FrameType::kAuth) break;
        return on_auth(f);
      case State::kOpen:
        if (f.type == FrameType::kHello || f.type == FrameType::kAuth) {
          return Status::failed_precondition(label + " after the handshake");
        }
        frames.push_back(std::move(f));
        return {};
      case State::kFailed:
        break;
    }
    return Status::unauthenticated(label + " refused: the peer is not authenticated yet");
  }

  Status fail(Status st) {
    // Tell the peer why (best effort: the driver may write take_output() before closing).
    const std::string& msg = st.message();
    emit(FrameType::kError, encode_error(std::string_view(msg).substr(0, kMaxReasonBytes)), 0);
    state = State::kFailed;
    held.clear();
    error = std::move(st);
    return error;
  }
};

PeerSession::PeerSession(Role role, std::string cluster_key, HelloInfo self, size_t max_payload) {
  CHIRON_CHECK(!cluster_key.empty(), "PeerSession needs a cluster key");
  impl_ = std::make_unique<Impl>(role, std::move(cluster_key), std::move(self), max_payload);
}

PeerSession::~PeerSession() = default;

std::string PeerSession::take_output() { return std::move(impl_->out); }

Status PeerSession::feed(std::string_view bytes, std::vector<Frame>& out) {
  Impl& s = *impl_;
  if (s.state == Impl::State::kFailed) return s.error;
  s.decoder.feed(bytes);
  for (;;) {
    auto next = s.decoder.next();
    if (!next.ok()) return s.fail(std::move(next).status());
    if (!next->has_value()) return {};
    Status st = s.on_frame(**next, out);
    if (!st.ok()) return s.fail(std::move(st));
  }
}

void PeerSession::send(FrameType type, std::string payload, uint16_t flags) {
  Impl& s = *impl_;
  CHIRON_CHECK(type != FrameType::kHello && type != FrameType::kAuth, "HELLO/AUTH are the session's own");
  switch (s.state) {
    case Impl::State::kOpen: s.emit(type, payload, flags); break;
    case Impl::State::kWaitHello:
    case Impl::State::kWaitAuth: s.held.push_back({type, std::move(payload), flags}); break;
    case Impl::State::kFailed: break;
  }
}

bool PeerSession::authenticated() const { return impl_->state == Impl::State::kOpen; }

const HelloInfo& PeerSession::peer() const {
  CHIRON_CHECK(authenticated(), "PeerSession::peer() before authentication");
  return impl_->peer;
}

}  // namespace chiron::cluster
