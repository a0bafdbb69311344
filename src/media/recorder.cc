#include "media/recorder.h"

#include <fcntl.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "common/clock.h"
#include "common/log.h"

namespace chiron::media {

namespace {

class Recorder final : public Viewer, public RecordingHandle, public std::enable_shared_from_this<Recorder> {
 public:
  Recorder(RecorderOptions options, std::shared_ptr<Stream> stream, std::function<void(RecordingInfo)> on_done)
      : options_(std::move(options)), stream_(std::move(stream)), on_done_(std::move(on_done)) {}

  ~Recorder() override {
    if (writer_.joinable()) writer_.join();
  }

  void start() {
    writer_ = std::thread([self = shared_from_this()] { self->write_loop(); });
  }

  // Net thread (the stream's group on ctx).
  void deliver(const PacketPtr& packet) override {
    const MediaPacket& p = packet->packet();
    const bool essential = p.script() || p.sequence_header;
    std::lock_guard lock(mu_);
    if (done_) return;
    if (skipping_ && !essential) {
      if (!(p.video() ? p.keyframe : !stream_->has_video())) return;
      skipping_ = false;
    }
    if (!essential && backlog_ > options_.max_backlog_bytes) {
      if (!skipping_) log::warn("recorder", "the disk falls behind; frames dropped until the next keyframe", {{"path", path_.string()}});
      skipping_ = true;
      return;
    }
    if (!p.script()) {
      if (first_dts_ < 0) first_dts_ = p.dts_ms;
      last_dts_ = p.dts_ms;
    }
    const auto& tag = packet->flv_tag();
    backlog_ += tag->size();
    queue_.push_back(tag);
    cv_.notify_one();
  }

  bool counts_as_viewer() const override { return false; }

  bool wait_for(std::chrono::milliseconds timeout) override {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return finished_; });
  }
  bool done() override {
    std::lock_guard lock(mu_);
    return finished_;
  }

  void end_of_stream() override {
    std::lock_guard lock(mu_);
    done_ = true;
    cv_.notify_one();
  }

 private:
  Status write_all(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::write(fd_, bytes.data(), bytes.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Status::from_errno("write " + path_.string(), errno);
      bytes.remove_prefix(static_cast<size_t>(n));
      written_ += static_cast<uint64_t>(n);
    }
    return {};
  }

  // <dir>/<channel>/<UTC start>.flv ("-n" if a file of that second exists). On the writer thread:
  // creating directories and files may block.
  Status open_file() {
    std::error_code ec;
    const std::filesystem::path dir = options_.dir / stream_->grant().channel;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Status::io_error("recordings dir " + dir.string() + ": " + ec.message());
    std::string stamp;  // "2026-11-22T06:40:59.930Z" → "20261122T064059Z"
    for (char c : format_utc_ms(Clock::system().unix_ms()).substr(0, 19))
      if (c != '-' && c != ':') stamp += c;
    stamp += 'Z';
    for (int n = 0; n < 100 && fd_ < 0; ++n) {
      path_ = dir / (stamp + (n ? "-" + std::to_string(n) : "") + ".flv");
      fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
      if (fd_ < 0 && errno != EEXIST) return Status::from_errno("create " + path_.string(), errno);
    }
    if (fd_ < 0) return Status::io_error("no free recording name in " + dir.string());
    return {};
  }

  void write_loop() {
    Status st = open_file();
    if (!st.ok()) {
      log::error("recorder", "cannot record", {{"channel", stream_->grant().channel}, {"error", st.to_string()}});
      {
        std::lock_guard lock(mu_);
        done_ = true;  // deliveries are dropped from now on
        queue_.clear();
        finished_ = true;
      }
      cv_.notify_all();
      writer_.detach();
      return;
    }
    {
      std::string header;
      append_flv_header(header, stream_->has_audio() || !stream_->has_video(), stream_->has_video() || !stream_->has_audio());
      st = write_all(header);
    }
    for (;;) {
      std::shared_ptr<const std::string> next;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return done_ || !queue_.empty(); });
        if (queue_.empty()) break;  // done and drained
        next = std::move(queue_.front());
        queue_.pop_front();
        backlog_ -= next->size();
      }
      if (st.ok()) st = write_all(*next);
    }
    if (st.ok() && ::fsync(fd_) != 0) st = Status::from_errno("fsync " + path_.string(), errno);
    ::close(fd_);
    RecordingInfo info;
    info.path = path_;
    info.bytes = written_;
    {
      std::lock_guard lock(mu_);
      info.duration_ms = first_dts_ >= 0 ? last_dts_ - first_dts_ : 0;
    }
    info.status = st;
    if (!st.ok()) log::error("recorder", "recording cut short", {{"path", path_.string()}, {"error", st.to_string()}});
    if (on_done_) on_done_(std::move(info));
    {
      std::lock_guard lock(mu_);
      finished_ = true;
    }
    cv_.notify_all();
    // The writer thread owns the last reference when the stream is gone: detach so the
    // destructor (on this thread) does not join itself.
    writer_.detach();
  }

  std::filesystem::path path_;  // writer thread (set by open_file)
  int fd_ = -1;                 // writer thread
  const RecorderOptions options_;
  std::shared_ptr<Stream> stream_;
  std::function<void(RecordingInfo)> on_done_;
  std::thread writer_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<const std::string>> queue_;  // guarded by mu_
  size_t backlog_ = 0;                                     // guarded by mu_
  bool done_ = false;                                      // guarded by mu_
  bool skipping_ = false;                                  // guarded by mu_
  bool finished_ = false;                                  // guarded by mu_: file closed, on_done returned
  int64_t first_dts_ = -1;                                 // guarded by mu_
  int64_t last_dts_ = -1;                                  // guarded by mu_
  uint64_t written_ = 0;                                   // writer thread only
};

}  // namespace

Result<std::shared_ptr<RecordingHandle>> start_recording(boost::asio::io_context& ctx, const std::shared_ptr<Stream>& stream,
                                                         RecorderOptions options, std::function<void(RecordingInfo)> on_done) {
  if (options.dir.empty()) return Status::invalid_argument("no recordings directory");
  auto recorder = std::make_shared<Recorder>(std::move(options), stream, std::move(on_done));
  recorder->start();
  boost::asio::post(ctx, [recorder, stream, &ctx] {
    if (!stream->subscribe(ctx, recorder)) recorder->end_of_stream();
  });
  return std::shared_ptr<RecordingHandle>(recorder);
}

}  // namespace chiron::media
