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

enum class TraceKind : uint8_t { kQueued, kActBegin, kActEnd, kReact, kCommitted, kFailed };
const char* trace_kind_name(TraceKind kind);

struct TraceEntry {
  int64_t ts_us;
  uint64_t kernel;
  uint64_t child;  // react: the returned subordinate; 0 otherwise
  const std::type_info* type;
  TraceKind kind;
  Device device;
  StatusCode code;
};

class TraceBuffer {
 public:
  static constexpr size_t kChunkEntries = 8192;
  static constexpr size_t kMaxChunks = 2048;  // 16 Mi events per thread

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
