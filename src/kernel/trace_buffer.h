#pragma once
// TraceBuffer: an append-only log of kernel events for ONE thread (single writer, any
// number of concurrent readers of the published prefix). Chunked, so appends never move
// entries and never lock. Internal to the kernel module.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <typeinfo>

#include "common/status.h"
#include "kernel/device.h"

namespace chiron::kernel::internal {

// kActEndCommitted/kActEndFailed: act returned and the kernel was delivered at once (the
// common case); one entry, written out as two lines (act_end, then committed/failed).
enum class TraceKind : uint8_t {
  kQueued, kActBegin, kActEnd, kReact, kCommitted, kFailed, kActEndCommitted, kActEndFailed
};
const char* trace_kind_name(TraceKind kind);

// 32 bytes, so a 2 MiB chunk holds 64 Ki events.
struct TraceEntry {
  static constexpr unsigned kIdBits = 48;
  int64_t ts;       // raw: TSC ticks or Clock µs since the log started (see TraceLog)
  uint64_t packed;  // kernel id (48 bits) | kind (4) | device (4) | status code (8)
  const std::type_info* type;
  uint64_t child;   // react: the returned subordinate; 0 otherwise

  static uint64_t pack(uint64_t kernel, TraceKind kind, Device device, StatusCode code) {
    return (kernel & ((uint64_t{1} << kIdBits) - 1)) | uint64_t{static_cast<uint8_t>(kind)} << 48 |
           uint64_t{static_cast<uint8_t>(device)} << 52 | uint64_t{static_cast<uint8_t>(code)} << 56;
  }
  uint64_t kernel() const { return packed & ((uint64_t{1} << kIdBits) - 1); }
  TraceKind kind() const { return static_cast<TraceKind>((packed >> 48) & 0xf); }
  Device device() const { return static_cast<Device>((packed >> 52) & 0xf); }
  StatusCode code() const { return static_cast<StatusCode>(packed >> 56); }
};
static_assert(sizeof(TraceEntry) == 32);

class TraceBuffer {
 public:
  // 2 MiB chunks mapped with MAP_POPULATE: no page faults on the hot path (they were the
  // largest part of the cost of tracing).
  static constexpr size_t kChunkBytes = size_t{2} << 20;
  static constexpr size_t kChunkEntries = kChunkBytes / sizeof(TraceEntry);
  static constexpr size_t kMaxChunks = 256;  // 16 Mi events (512 MiB) per thread

  explicit TraceBuffer(std::string lane);
  ~TraceBuffer();
  TraceBuffer(const TraceBuffer&) = delete;
  TraceBuffer& operator=(const TraceBuffer&) = delete;

  // Writer only. Drops (and counts) the event when the buffer is full.
  void append(const TraceEntry& e) {
    const size_t n = size_.load(std::memory_order_relaxed);
    const size_t c = n / kChunkEntries;
    if (n % kChunkEntries == 0) [[unlikely]] {
      if (!grow(c)) return;
    }
    chunks_[c].load(std::memory_order_relaxed)[n % kChunkEntries] = e;
    size_.store(n + 1, std::memory_order_release);
  }

  size_t size() const { return size_.load(std::memory_order_acquire); }
  const TraceEntry& at(size_t i) const {
    return chunks_[i / kChunkEntries].load(std::memory_order_acquire)[i % kChunkEntries];
  }
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  const std::string& lane() const { return lane_; }

 private:
  // Allocates chunk c; false (event dropped) when the buffer is full.
  bool grow(size_t c);

  const std::string lane_;
  std::unique_ptr<std::atomic<TraceEntry*>[]> chunks_;
  std::atomic<size_t> size_{0};
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace chiron::kernel::internal
