#pragma once
// What both ends of an RTMP connection share once the handshake is done (RTMP 1.0 §5.4, §7.1):
// the chunk reader, the outgoing chunk size, protocol control messages (Set Chunk Size, Abort,
// Acknowledgement, Window Ack Size, Set Peer Bandwidth, User Control pings) and AMF0 command
// encoding. RtmpServerSession and RtmpClientSession each own one. Internal to the media
// module. Not thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "media/amf0.h"
#include "media/rtmp_chunk.h"
#include "media/rtmp_session.h"

namespace chiron::media::rtmp {

// An AMF0 command message (§7.1.1): name, transaction id, then the command object and any
// arguments.
struct Command {
  std::string name;
  double transaction = 0;
  std::vector<Amf0Value> args;
  // args[i] or null.
  const Amf0Value& arg(size_t i) const;
};
// Parses a command (type 20) or an AMF3 command (type 17, whose leading 0 byte switches to AMF0).
Status parse_command(std::string_view payload, bool amf3, Command& out);

class Connection {
 public:
  explicit Connection(const RtmpSessionOptions& options);
  // Handles protocol control messages (types 1-6); anything else is left to the caller
  // (returns false in `handled`).
  Status on_control(const Message& m, std::string& out, bool& handled);
  // Counts bytes received; sends an Acknowledgement when half the peer's window is reached.
  void count_received(size_t n, std::string& out);
  // Announces and switches to a new outgoing chunk size.
  void set_out_chunk_size(uint32_t size, std::string& out);
  // Appends a command: name, transaction, args (AMF0) on csid as message type 20.
  void send_command(std::string& out, uint32_t csid, uint32_t stream_id, std::string_view name, double transaction,
                    const std::vector<Amf0Value>& args) const;
  // onStatus(0, null, {level, code, description}) on the stream's data csid.
  void send_status(std::string& out, uint32_t stream_id, std::string_view level, std::string_view code,
                   std::string_view description) const;

  ChunkReader& reader() { return reader_; }
  uint32_t out_chunk_size() const { return out_chunk_size_; }
  uint64_t bytes_received() const { return bytes_received_; }
  uint32_t peer_window() const { return peer_window_; }

 private:
  const RtmpSessionOptions& options_;
  ChunkReader reader_;
  uint32_t out_chunk_size_ = kDefaultChunkSize;
  uint64_t bytes_received_ = 0;
  uint64_t last_ack_ = 0;
  uint32_t peer_window_ = 0;  // 0: the peer never asked for acknowledgements
};

// Strips an "@setDataFrame" prefix from a data message: returns the "onMetaData" body, or empty
// if the message is not metadata (other data messages are dropped).
std::string_view metadata_body(std::string_view payload);

// An audio, video or data message (AMF0, or AMF3 with its leading 0) as a MediaPacket —
// classified, metadata stripped of "@setDataFrame" — or nullopt for other messages and for data
// that is not metadata. Moves the payload instead of copying when it can.
std::optional<MediaPacket> media_packet(Message&& m);

}  // namespace chiron::media::rtmp
