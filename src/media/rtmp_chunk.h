#pragma once
// RTMP chunk stream (RTMP 1.0 §5.3): splitting messages into chunks and reassembling them.
//
// DESIGN: ChunkReader is a resumable state machine over arbitrary byte splits. The chunk header
// (basic + message header + extended timestamp, at most 18 bytes) is gathered in a fixed buffer;
// payload bytes are copied once, from the input straight into the message being reassembled,
// which is moved out whole. State is kept per chunk stream id (messages on different csids
// interleave chunk by chunk), capped at max_chunk_streams. A declared message length above
// max_message_bytes is an error; storage for a declared length is reserved up front only while
// the reader's outstanding reservations stay under max_message_bytes (otherwise the message
// grows as its bytes arrive), so a peer declaring many large messages cannot make it allocate
// more than it sends.
//
// Timestamps (§5.3.1.2): fmt 0 carries the absolute 32-bit timestamp, fmt 1/2 a delta, fmt 3
// none — a fmt-3 chunk that starts a new message reuses the previous header's timestamp field
// as its delta (what the spec's "take values from the preceding chunk" says and what ffmpeg's
// writer relies on). When that field was extended (0xFFFFFF), Adobe repeats the 4-byte extended
// field on fmt-3 chunks and other encoders do not: the reader peeks and consumes the 4 bytes
// only when they equal the stored value (SRS's heuristic). Each message's 32-bit timestamp is
// unwrapped to a monotonic int64.
//
// Internal to the media module. Not thread-safe.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/result.h"
#include "common/status.h"
#include "media/flv.h"

namespace chiron::media::rtmp {

// Message type ids (§5.4, §7.1).
enum MessageType : uint8_t {
  kSetChunkSize = 1,
  kAbort = 2,
  kAcknowledgement = 3,
  kUserControl = 4,
  kWindowAckSize = 5,
  kSetPeerBandwidth = 6,
  kAudio = 8,
  kVideo = 9,
  kDataAmf3 = 15,
  kCommandAmf3 = 17,
  kDataAmf0 = 18,
  kCommandAmf0 = 20,
};

// User control event types (§7.1.7).
enum UserControlEvent : uint16_t {
  kStreamBegin = 0,
  kStreamEof = 1,
  kStreamDry = 2,
  kSetBufferLength = 3,
  kStreamIsRecorded = 4,
  kPingRequest = 6,
  kPingResponse = 7,
};

inline constexpr uint32_t kDefaultChunkSize = 128;
inline constexpr uint32_t kProtocolCsid = 2;   // protocol control messages
inline constexpr uint32_t kCommandCsid = 3;    // connection-level commands
inline constexpr uint32_t kAudioCsid = 4;
inline constexpr uint32_t kDataCsid = 5;       // stream-level commands and data
inline constexpr uint32_t kVideoCsid = 6;
inline constexpr uint32_t kMaxCsid = 65599;

struct Message {
  uint8_t type = 0;
  uint32_t stream_id = 0;
  uint32_t csid = 0;
  uint32_t timestamp = 0;  // the 32-bit wire value
  int64_t dts_ms = 0;      // unwrapped
  std::string payload;
};

struct ChunkReaderLimits {
  size_t max_message_bytes = 8u << 20;
  size_t max_chunk_streams = 64;
  // Payload bytes of incomplete messages held across all chunk streams: without it a peer could
  // keep a near-maximal message open on every csid (64 × 16 MiB).
  size_t max_held_bytes = 16u << 20;
};

// Reassembles messages from a chunk stream. Not thread-safe.
class ChunkReader {
 public:
  explicit ChunkReader(ChunkReaderLimits limits = {});
  ~ChunkReader();
  // Consumes all of `in`. on_message runs for each complete message, synchronously, so that a
  // Set Chunk Size it handles applies to the very next chunk; an error it returns stops the
  // reader. Errors stick: later calls return the same error.
  Status feed(std::string_view in, const std::function<Status(Message&&)>& on_message);
  // The peer's chunk size (Set Chunk Size received).
  void set_chunk_size(uint32_t size) { chunk_size_ = size; }
  uint32_t chunk_size() const { return chunk_size_; }
  // Abort Message (§5.4.2): drops the partial message on csid.
  void abort(uint32_t csid);
  // New limits (e.g. larger once a publisher is accepted); they apply to the next header.
  void set_limits(const ChunkReaderLimits& limits) { limits_ = limits; }
  // Payload bytes of incomplete messages held now.
  size_t held_bytes() const { return held_; }

 private:
  struct Stream;
  // Parses a chunk header from buf; returns bytes used, 0 if more bytes are needed.
  Result<size_t> parse_header(std::string_view buf);
  Status fail(Status s);
  Status consume(std::string_view in, const std::function<Status(Message&&)>& on_message);
  Status complete(Stream& s, const std::function<Status(Message&&)>& on_message);

  ChunkReaderLimits limits_;
  uint32_t chunk_size_ = kDefaultChunkSize;
  std::unordered_map<uint32_t, std::unique_ptr<Stream>> streams_;
  Stream* current_ = nullptr;  // the stream whose chunk payload is being read
  size_t chunk_left_ = 0;      // payload bytes of the current chunk still to come
  char head_[18] = {};
  size_t head_have_ = 0;
  size_t reserved_ = 0;        // bytes reserved for messages still incomplete
  size_t held_ = 0;            // payload bytes received for messages still incomplete
  int64_t last_dts_ = 0;       // the latest message's dts (reference for a new csid)
  bool started_ = false;       // a message has been completed
  Status error_;
};

// Appends one message as chunks: a fmt-0 header, fmt-3 continuations every chunk_size bytes,
// the extended timestamp (timestamp ≥ 0xFFFFFF) repeated on each continuation (§5.3.1.3).
// One pass: the output is reserved once and each payload byte is copied once.
void append_message(std::string& out, uint32_t csid, uint8_t type, uint32_t stream_id, uint32_t timestamp,
                    std::string_view payload, uint32_t chunk_size);
// Exact size append_message will add.
size_t message_bytes(uint32_t csid, uint32_t timestamp, size_t payload_size, uint32_t chunk_size);

// Protocol control messages (§5.4), on csid 2, message stream 0.
void append_set_chunk_size(std::string& out, uint32_t size, uint32_t chunk_size);
void append_acknowledgement(std::string& out, uint32_t sequence, uint32_t chunk_size);
void append_window_ack_size(std::string& out, uint32_t size, uint32_t chunk_size);
void append_set_peer_bandwidth(std::string& out, uint32_t size, uint8_t limit_type, uint32_t chunk_size);
void append_user_control(std::string& out, uint16_t event, uint32_t value, uint32_t chunk_size);
void append_user_control(std::string& out, uint16_t event, uint32_t value, uint32_t extra, uint32_t chunk_size);

uint32_t read_be32(std::string_view s, size_t at);

}  // namespace chiron::media::rtmp
