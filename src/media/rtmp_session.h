#pragma once
// RTMP 1.0 (Adobe "Real-Time Messaging Protocol Specification", 2012), sans I/O: bytes in,
// bytes out, events to the owner. The socket layer (media_server.cc, the lead's) reads from a
// TCP socket, calls feed(), writes whatever was appended to `out`, and acts on the events. No
// sockets here, so every path is unit-tested on byte buffers and fuzzed (fuzz/media_rtmp_fuzz.cc).
//
// Server side (RtmpServerSession), in order:
//   - handshake: reads C0+C1 (version 3; anything else → error), answers S0+S1+S2 in one go:
//     the simple handshake (S1 bytes 4-7 zero, S2 = echo of C1) unless C1 carries a valid
//     HMAC-SHA256 digest (schema 0 at 772 or schema 1 at 8, Genuine Adobe Flash Player key), in
//     which case S1/S2 carry digests (FMS key) as Flash expects. C2 is read and not checked.
//   - chunk stream: fmt 0-3 headers, 1-3 byte basic headers (csid up to 65599), per-csid
//     reassembly, extended timestamps (also when repeated on fmt-3 chunks, detected as SRS does),
//     Set Chunk Size (≥ 1, ≤ 2^31-1; larger than max_chunk_size → error), Abort, Window Ack Size,
//     Acknowledgement sent each time the received bytes since the last one reach half the
//     peer's window, User Control (Ping Request → Ping Response; SetBufferLength noted).
//   - commands (AMF0 only; an AMF3 command message type 17 with a leading 0 byte is read as AMF0):
//     connect → Window Ack Size, Set Peer Bandwidth (dynamic), Set Chunk Size (out_chunk_size)
//     FIRST, then _result NetConnection.Connect.Success (+ onBWDone); releaseStream, FCPublish
//     → _result (+ onFCPublish); createStream → _result(stream id 1); publish → on_publish
//     event, answered by accept_publish()/refuse_publish(); play → on_play, answered by
//     accept_play()/refuse_play(); FCUnpublish / deleteStream / closeStream → on_unpublish;
//     _checkbw, getStreamLength and unknown calls with a transaction id → _result null.
//   - media: audio (8), video (9) and data (18) messages on the publishing stream become
//     MediaPackets (timestamps unwrapped to 64 bits; "@setDataFrame" stripped, keeping the
//     "onMetaData" + properties; other data messages dropped). Media before accept_publish()
//     is dropped.
//   - limits: a message longer than max_message_bytes (max_message_bytes_before_publish until a
//     publish is accepted), incomplete messages holding more than twice that in total, more
//     than max_chunk_streams open csids,
//     or a malformed AMF0 command → error Status (the owner closes the connection).
//
// Thread-compatible: one owner thread at a time. Every method that can emit bytes appends them
// to a caller-provided `out` (the owner writes them to the socket in order).
//
// CONTRACT (owner: rtmp helper; used by the lead's media server and by the benchmark).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "media/packet.h"

namespace chiron::media {

struct RtmpSessionOptions {
  uint32_t out_chunk_size = 4096;         // announced before the connect _result
  uint32_t window_ack_size = 2'500'000;   // our Window Ack Size / Set Peer Bandwidth
  size_t max_message_bytes = 8u << 20;    // a larger declared message → error (keyframes can be MBs)
  // Until a publish is accepted (commands only; players stay here): smaller limits, so a peer
  // that has not even connected cannot make the server hold megabytes.
  size_t max_message_bytes_before_publish = 256u << 10;
  uint32_t max_chunk_size = 16u << 20;    // peer's Set Chunk Size above this → error
  size_t max_chunk_streams = 64;          // distinct csids with state
};

// What the session tells its owner; called synchronously from inside feed().
class RtmpSessionEvents {
 public:
  virtual ~RtmpSessionEvents() = default;
  // connect: app ("live") and tcUrl ("rtmp://127.0.0.1:1935/live").
  virtual void on_connect(std::string_view app, std::string_view tc_url) { (void)app, (void)tc_url; }
  // publish(name): the owner checks the key and calls accept_publish or refuse_publish (may be
  // later, after an asynchronous lookup; the session keeps reading meanwhile).
  virtual void on_publish(std::string_view app, std::string_view stream_name) = 0;
  // play(name): the owner answers with accept_play / refuse_play.
  virtual void on_play(std::string_view app, std::string_view stream_name) = 0;
  // A media message of an accepted publish.
  virtual void on_media(MediaPacket&& packet) = 0;
  // The publisher said it is done (FCUnpublish / deleteStream / closeStream). A closed socket
  // without them is the owner's to notice.
  virtual void on_unpublish() = 0;
};

class RtmpServerSession {
 public:
  RtmpServerSession(RtmpSessionOptions options, RtmpSessionEvents& events);
  ~RtmpServerSession();
  RtmpServerSession(const RtmpServerSession&) = delete;
  RtmpServerSession& operator=(const RtmpServerSession&) = delete;

  // Consumes received bytes (any split). Appends to `out` what must be sent. An error means the
  // peer broke the protocol: write `out` (it may hold an error status), then close.
  Status feed(std::string_view bytes, std::string& out);

  // onStatus NetStream.Publish.Start (level status) on the publish stream.
  void accept_publish(std::string& out);
  // onStatus level "error" with code (e.g. "NetStream.Publish.BadName") and description; the
  // owner closes the connection after writing it.
  void refuse_publish(std::string_view code, std::string_view description, std::string& out);
  // User Control StreamBegin(1), onStatus NetStream.Play.Reset + NetStream.Play.Start,
  // |RtmpSampleAccess; afterwards the owner sends media with append_rtmp_media().
  void accept_play(std::string& out);
  void refuse_play(std::string_view code, std::string_view description, std::string& out);
  // The stream being played ended: User Control StreamEOF + onStatus NetStream.Play.UnpublishNotify.
  void end_play(std::string& out);

  bool handshake_done() const;
  bool publishing() const;  // accepted and not unpublished
  bool playing() const;
  uint32_t stream_id() const;  // the message stream id of the publish/play stream (1)
  uint64_t bytes_received() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One media packet as RTMP chunks for players: message stream `stream_id`, chunk size
// `chunk_size` (what the session announced), csid 4 audio / 6 video / 5 data, a fmt-0 header
// carrying the low 32 bits of dts_ms (extended timestamp field when ≥ 0xFFFFFF, repeated on the
// fmt-3 continuation chunks as Adobe does). The bytes are the same for every player, so the
// server builds them once per packet.
void append_rtmp_media(std::string& out, const MediaPacket& packet, uint32_t chunk_size, uint32_t stream_id = 1);

// Client side (tests, the benchmark's load generator, pulling from an RTMP origin): the same
// machinery driving connect → createStream → play (or publish).
class RtmpClientEvents {
 public:
  virtual ~RtmpClientEvents() = default;
  // onStatus received: level ("status"/"error") and code ("NetStream.Play.Start").
  virtual void on_status(std::string_view level, std::string_view code, std::string_view description) = 0;
  virtual void on_media(MediaPacket&& packet) = 0;
};

struct RtmpClientOptions {
  std::string app = "live";
  std::string tc_url;       // "rtmp://127.0.0.1:1935/live"
  std::string stream_name;  // key (publish) or name (play)
  bool publish = false;     // false: play
  RtmpSessionOptions session;
};

class RtmpClientSession {
 public:
  RtmpClientSession(RtmpClientOptions options, RtmpClientEvents& events);
  ~RtmpClientSession();
  RtmpClientSession(const RtmpClientSession&) = delete;
  RtmpClientSession& operator=(const RtmpClientSession&) = delete;
  // C0+C1 (simple handshake), to send first.
  void start(std::string& out);
  Status feed(std::string_view bytes, std::string& out);
  // After on_status("status", "NetStream.Publish.Start"): media to send.
  void send_media(const MediaPacket& packet, std::string& out);
  // Ends the publish (FCUnpublish + deleteStream) or the play (deleteStream); the owner then
  // closes the connection.
  void stop(std::string& out);
  bool ready() const;  // play or publish started

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace chiron::media
