#pragma once
// Recorder: writes a live stream to an FLV file while it lasts (a channel's "Record sessions"
// setting), for playback after the session. It subscribes to the Stream like a viewer — so it
// starts at the cached keyframe and shares the packets' FLV tags — and hands the bytes to its own
// writer thread, so net threads never wait for the disk. The file is <dir>/<channel>/
// <start>-<n>.flv; it is fsync'd and reported through on_done when the stream ends. A disk that
// falls behind by more than max_backlog_bytes loses frames up to the next keyframe (logged).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "common/result.h"
#include "media/stream.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace chiron::media {

struct RecordingInfo {
  std::filesystem::path path;
  uint64_t bytes = 0;
  int64_t duration_ms = 0;  // last minus first media timestamp
  Status status;            // an I/O error that cut the recording short
};

struct RecorderOptions {
  std::filesystem::path dir;
  size_t max_backlog_bytes = 64u << 20;
};

// A recording in progress: lets the server wait for it at shutdown.
class RecordingHandle {
 public:
  virtual ~RecordingHandle() = default;
  // Waits until the file is closed and on_done has returned; false on timeout.
  virtual bool wait_for(std::chrono::milliseconds timeout) = 0;
  virtual bool done() = 0;
};

// Starts recording `stream` (subscribing on ctx's thread). on_done runs on the writer thread
// after the file is closed.
Result<std::shared_ptr<RecordingHandle>> start_recording(boost::asio::io_context& ctx, const std::shared_ptr<Stream>& stream,
                                                         RecorderOptions options, std::function<void(RecordingInfo)> on_done);

}  // namespace chiron::media
