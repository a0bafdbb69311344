#include "kernel/trace_buffer.h"

#include <sys/mman.h>


namespace chiron::kernel::internal {

const char* trace_kind_name(TraceKind kind) {
  switch (kind) {
    case TraceKind::kQueued: return "queued";
    case TraceKind::kActBegin: return "act_begin";
    case TraceKind::kActEnd: return "act_end";
    case TraceKind::kReact: return "react";
    case TraceKind::kCommitted: return "committed";
    case TraceKind::kFailed: return "failed";
    case TraceKind::kActEndCommitted: return "act_end";
    case TraceKind::kActEndFailed: return "act_end";
  }
  return "unknown";
}

TraceBuffer::TraceBuffer(std::string lane)
    : lane_(std::move(lane)), chunks_(std::make_unique<std::atomic<TraceEntry*>[]>(kMaxChunks)) {
  for (size_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

TraceBuffer::~TraceBuffer() {
  for (size_t i = 0; i < kMaxChunks; ++i) {
    if (TraceEntry* chunk = chunks_[i].load(std::memory_order_relaxed)) munmap(chunk, kChunkBytes);
  }
}

bool TraceBuffer::grow(size_t c) {
  if (c >= kMaxChunks) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (chunks_[c].load(std::memory_order_relaxed) == nullptr) {
    // MAP_POPULATE faults the whole chunk in one call (much cheaper than 512 page faults
    // on the hot path). No MADV_HUGEPAGE: with defrag=madvise it stalls in compaction.
    void* mem = mmap(nullptr, kChunkBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (mem == MAP_FAILED) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    chunks_[c].store(static_cast<TraceEntry*>(mem), std::memory_order_release);
  }
  return true;
}

}  // namespace chiron::kernel::internal
