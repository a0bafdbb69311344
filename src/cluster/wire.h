#pragma once
// CONTRACT (owner: wire) — the cluster wire format and authenticated peer sessions
// (docs/protocols.md "Cluster wire format"). Sans I/O: bytes in, frames out; the node feeds sockets.
//
// Frame (all integers little-endian):
//   magic "CHRK" | version u8 (=1) | type u8 | flags u16 | seq u64 | length u32
//   | payload (length bytes, ≤ max_payload) | crc32c u32 (header + payload)
//   | mac 16 bytes (HMAC-SHA256 truncated; see PeerSession)
// The header is 20 bytes. Unknown magic/version/type, a length over the cap, a bad CRC or MAC,
// or a sequence number that is not exactly the previous + 1 is an error: the session is
// closed and the error logged by the driver; the frame is never handed out.
//
// Sequence numbers count each direction's frames from 0 (HELLO 0, AUTH 1, data 2, …).
// Until the peer is authenticated payloads are capped at 4 KiB.
//
// Handshake (PeerSession): both sides send HELLO {protocol version, cluster name, node uid,
// position, endpoint, nonce (32 random bytes)} MAC'd with the cluster key; then AUTH
// {HMAC(cluster key, "chiron-cluster-auth" | role | own nonce | peer nonce)} proving the key
// for this pair of nonces (a recorded handshake cannot be replayed). Every later frame is
// MAC'd with a key derived from the session key S = HMAC(cluster key, "chiron-cluster-session"
// | initiator nonce | responder nonce), one per direction (HMAC(S, "initiator->responder"),
// HMAC(S, "responder->initiator"): a frame reflected to its sender fails), and carries a
// per-direction sequence number (no replay, no reordering, no splicing frames between
// sessions). Frames are authenticated, not encrypted. Until both AUTHs check out only
// HELLO/AUTH (and an ERROR, which ends the session) are accepted, and nothing queued with
// send() leaves.
//
// Payload codecs for each message type (records, kernels, …) are in messages.h.
// Not thread-safe: one owner per session (the connection's strand).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/status.h"

namespace chiron::cluster {

namespace detail {
class Hmac;  // wire_mac.h
}  // namespace detail

inline constexpr uint8_t kWireVersion = 1;
inline constexpr size_t kFrameHeaderBytes = 20;
inline constexpr size_t kFrameTrailerBytes = 4 + 16;
inline constexpr size_t kDefaultMaxPayload = size_t{64} << 20;

// Stable numbers: never renumber, only add.
enum class FrameType : uint8_t {
  kHello = 1,
  kAuth = 2,
  kAttach = 3,          // "be my superior" (messages.h AttachMsg)
  kAttachOk = 4,
  kAttachRefused = 5,
  kDetach = 6,          // "I left you"
  kRecords = 7,         // node records (changed ones)
  kRecordsGone = 8,     // positions that left
  kHeartbeat = 9,
  kKernel = 10,         // an upstream kernel (KernelMsg)
  kKernelReturn = 11,   // its result (KernelReturnMsg)
  kCancelJob = 12,      // drop pending kernels of a job
  kError = 13,          // a refusal with a reason, before closing
};
// "HELLO", "KERNEL", … ; "UNKNOWN(n)" for others.
std::string_view frame_type_name(uint8_t type);
bool known_frame_type(uint8_t type);

struct Frame {
  FrameType type = FrameType::kHeartbeat;
  uint16_t flags = 0;
  uint64_t seq = 0;
  std::string payload;
};

// CRC32C (Castagnoli), as in iSCSI/ext4; crc32c("123456789") == 0xE3069283.
// `seed` is a previous result to continue from. Uses the SSE 4.2 instruction where the CPU
// has it; crc32c_portable (Boost.CRC) is the reference it is tested against.
uint32_t crc32c(std::string_view data, uint32_t seed = 0);
uint32_t crc32c_portable(std::string_view data, uint32_t seed = 0);

// Little-endian encoder.
class ByteWriter {
 public:
  void u8(uint8_t v);
  void u16(uint16_t v);
  void u32(uint32_t v);
  void u64(uint64_t v);
  void i64(int64_t v);
  void f64(double v);
  void boolean(bool v);
  void str(std::string_view s);    // u32 length + bytes
  void raw(std::string_view s);    // bytes only
  std::string& buffer() { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Little-endian decoder over untrusted bytes. The first failure sticks: later reads return
// zero values and status() tells what went wrong ("truncated u64 at byte 12").
class ByteReader {
 public:
  explicit ByteReader(std::string_view in, size_t max_string = kDefaultMaxPayload) : in_(in), max_string_(max_string) {}
  uint8_t u8();
  uint16_t u16();
  uint32_t u32();
  uint64_t u64();
  int64_t i64();
  double f64();
  bool boolean();
  std::string str();
  // A string of at most `max_bytes` (fails "<what> of N bytes at byte B exceeds M").
  std::string str(size_t max_bytes, const char* what);
  std::string_view raw(size_t n);
  // A u32 element count, failing unless count × min_element_bytes fit in what is left (so a
  // hostile count never makes the caller reserve memory).
  uint32_t count(size_t min_element_bytes, const char* what);
  size_t remaining() const { return in_.size() - pos_; }
  bool ok() const { return error_.empty(); }
  // OK, or invalid_argument with the first error; also fails if bytes are left over when
  // `expect_end`.
  Status status(bool expect_end = true) const;
  void fail(std::string message);

 private:
  bool need(size_t n, const char* what);
  std::string_view in_;
  size_t pos_ = 0;
  size_t max_string_;
  std::string error_;
};

// Who a peer says it is (HELLO).
struct HelloInfo {
  uint32_t protocol = kWireVersion;
  std::string cluster;   // cluster name; must match
  uint64_t uid = 0;      // random per process start
  uint64_t position = 0;
  std::string endpoint;  // its cluster listen address
};

// Encodes one frame (MAC over header + payload with `mac_key`, empty key = 16 zero bytes).
std::string encode_frame(const Frame& frame, std::string_view mac_key);

// Incremental decoder: feed() bytes, next() complete frames. Checks magic, version, type,
// length cap, CRC and MAC (with the key set at the time the frame is decoded).
// Any split of the stream gives the same frames; a bad magic is refused from its first bytes
// and a length over the cap as soon as the header is in (nothing that large is buffered).
// Not thread-safe.
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_payload = kDefaultMaxPayload);
  ~FrameDecoder();
  FrameDecoder(FrameDecoder&&) noexcept;
  FrameDecoder& operator=(FrameDecoder&&) noexcept;
  void set_mac_key(std::string key);
  // Applies from the next frame on (PeerSession: small until authenticated).
  void set_max_payload(size_t max_payload) { max_payload_ = max_payload; }
  void feed(std::string_view bytes);
  // A frame, nullopt when more bytes are needed, or an error (then the stream is dead and
  // every later call returns the same error).
  Result<std::optional<Frame>> next();
  size_t buffered() const;

 private:
  size_t max_payload_;
  std::unique_ptr<detail::Hmac> mac_;  // null: the MAC must be 16 zero bytes
  std::string buf_;
  size_t off_ = 0;
  Status error_;  // set once the stream is dead
};

// One authenticated connection between two nodes (either direction).
class PeerSession {
 public:
  enum class Role : uint8_t { kInitiator = 1, kResponder = 2 };
  PeerSession(Role role, std::string cluster_key, HelloInfo self, size_t max_payload = kDefaultMaxPayload);
  ~PeerSession();
  PeerSession(const PeerSession&) = delete;
  PeerSession& operator=(const PeerSession&) = delete;

  // Bytes to write to the socket now (the handshake first, then sent frames).
  std::string take_output();
  // Received bytes. Authenticated frames (never HELLO/AUTH; ERROR included, the driver
  // closes) are appended to `out`. An error (bad frame, wrong key, wrong cluster, protocol
  // violation; an ERROR from the peer during the handshake is returned as kAborted "peer
  // closed the connection: <reason>") means: log it, close the socket. Frames appended
  // before the error are good. After an error take_output() holds an ERROR frame telling
  // the peer why: write it best effort before closing. Later calls return the same error.
  // Handshake timeouts are the driver's (a peer that never authenticates).
  Status feed(std::string_view bytes, std::vector<Frame>& out);
  // Queues a frame; before authentication it is held and sent once the handshake is done.
  void send(FrameType type, std::string payload, uint16_t flags = 0);

  bool authenticated() const;
  // Valid once authenticated.
  const HelloInfo& peer() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chiron::cluster
