#include "nameserver/request_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <thread>

#include "common/log.h"
#include "common/strings.h"

namespace chiron::nameserver {
namespace {

constexpr size_t kFlushBytes = 64 << 10;
constexpr size_t kMaxBuffer = 8 << 20;

}  // namespace

Result<std::unique_ptr<RequestLog>> RequestLog::open(const std::filesystem::path& file, kernel::Runtime& runtime,
                                                     double sample_rate) {
  if (!(sample_rate >= 0.0 && sample_rate <= 1.0))
    return Status::invalid_argument("request log sample rate must be within 0..1");
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::from_errno("open request log " + file.string(), errno);
  return std::unique_ptr<RequestLog>(new RequestLog(fd, runtime, sample_rate));
}

RequestLog::RequestLog(int fd, kernel::Runtime& runtime, double sample_rate)
    : fd_(fd),
      runtime_(runtime),
      sample_every_(sample_rate <= 0.0 ? 0 : static_cast<uint64_t>(std::llround(1.0 / sample_rate))) {}

RequestLog::~RequestLog() {
  // A flush may be running on the disk pipeline; wait for it, then write the rest here.
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (!flush_pending_) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  write_out();
  ::close(fd_);
}

bool RequestLog::sample() {
  if (sample_every_ == 0) return false;
  return req_seen_.fetch_add(1, std::memory_order_relaxed) % sample_every_ == 0;
}

void RequestLog::write(const RequestLogEntry& e) {
  std::string line;
  line.reserve(160);
  line += "{\"ts\":\"";
  log::append_timestamp(line);
  line += "\",\"remote\":" + json_quote(e.remote) + ",\"cmd\":" + json_quote(e.cmd) +
          ",\"service\":" + json_quote(e.service) + ",\"arg\":" + json_quote(e.arg) +
          ",\"result\":" + json_quote(e.result) + ",\"us\":" + std::to_string(e.us) + "}\n";
  bool flush_now = false;
  {
    std::lock_guard lock(mu_);
    if (buffer_.size() + line.size() > kMaxBuffer) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    buffer_ += line;
    flush_now = buffer_.size() >= kFlushBytes;
  }
  if (flush_now) flush_async();
}

void RequestLog::flush_async() {
  {
    std::lock_guard lock(mu_);
    if (flush_pending_ || buffer_.empty()) return;
    flush_pending_ = true;
  }
  const bool posted = runtime_.post(kernel::Device::kDisk, [this] {
    write_out();
    std::lock_guard lock(mu_);
    flush_pending_ = false;
  });
  if (!posted) {
    std::lock_guard lock(mu_);
    flush_pending_ = false;  // stopping: the destructor writes the rest
  }
}

void RequestLog::write_out() {
  std::string out;
  {
    std::lock_guard lock(mu_);
    out.swap(buffer_);
  }
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::write(fd_, out.data() + done, out.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      log::warn("ns", "request log write failed", {{"error", std::string(std::strerror(errno))}});
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    done += static_cast<size_t>(n);
  }
  written_.fetch_add(out.size(), std::memory_order_relaxed);
}

}  // namespace chiron::nameserver
