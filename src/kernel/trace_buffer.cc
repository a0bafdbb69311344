#include "kernel/trace_buffer.h"

namespace chiron::kernel::internal {

const char* trace_kind_name(TraceKind kind) {
  switch (kind) {
    case TraceKind::kQueued: return "queued";
    case TraceKind::kActBegin: return "act_begin";
    case TraceKind::kActEnd: return "act_end";
    case TraceKind::kReact: return "react";
    case TraceKind::kCommitted: return "committed";
    case TraceKind::kFailed: return "failed";
  }
  return "unknown";
}

TraceBuffer::TraceBuffer(std::string lane)
    : lane_(std::move(lane)), chunks_(std::make_unique<std::atomic<TraceEntry*>[]>(kMaxChunks)) {
  for (size_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

TraceBuffer::~TraceBuffer() {
  for (size_t i = 0; i < kMaxChunks; ++i) delete[] chunks_[i].load(std::memory_order_relaxed);
}

bool TraceBuffer::grow(size_t c) {
  if (c >= kMaxChunks) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (chunks_[c].load(std::memory_order_relaxed) == nullptr)
    chunks_[c].store(new TraceEntry[kChunkEntries], std::memory_order_release);
  return true;
}

}  // namespace chiron::kernel::internal
