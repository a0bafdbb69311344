#include "kernel/kernel_alloc.h"

#include <cstdint>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CHIRON_KERNEL_POOL 0
#else
#define CHIRON_KERNEL_POOL 1
#endif

namespace chiron::kernel::internal {

#if CHIRON_KERNEL_POOL
namespace {

constexpr std::size_t kGranule = 16;
constexpr std::size_t kMaxPooled = 512;
constexpr std::size_t kClasses = kMaxPooled / kGranule;
constexpr uint32_t kBatch = 64;

struct FreeNode {
  FreeNode* next;
};

struct Batch {
  FreeNode* head;
  uint32_t count;
};

// Leaked on purpose: threads may free kernels while the process exits.
struct GlobalPool {
  std::mutex mu;
  std::vector<Batch> batches[kClasses];  // Guarded by mu
};

GlobalPool& global() {
  static GlobalPool* pool = new GlobalPool;
  return *pool;
}

struct ThreadCache {
  FreeNode* head[kClasses] = {};
  uint32_t count[kClasses] = {};

  ~ThreadCache() {
    for (std::size_t c = 0; c < kClasses; ++c) {
      while (count[c] > 0) spill(c, count[c] < kBatch ? count[c] : kBatch);
    }
  }

  // Moves n nodes of class c to the global pool as one batch.
  void spill(std::size_t c, uint32_t n) {
    FreeNode* first = head[c];
    FreeNode* last = first;
    for (uint32_t i = 1; i < n; ++i) last = last->next;
    head[c] = last->next;
    last->next = nullptr;
    count[c] -= n;
    std::lock_guard<std::mutex> lock(global().mu);
    global().batches[c].push_back(Batch{first, n});
  }

  void refill(std::size_t c) {
    {
      std::lock_guard<std::mutex> lock(global().mu);
      auto& batches = global().batches[c];
      if (!batches.empty()) {
        head[c] = batches.back().head;  // no walk: every node is a likely cache miss
        count[c] = batches.back().count;
        batches.pop_back();
        return;
      }
    }
    const std::size_t size = (c + 1) * kGranule;
    char* slab = static_cast<char*>(::operator new(size * kBatch));
    for (uint32_t i = 0; i < kBatch; ++i) {
      auto* node = reinterpret_cast<FreeNode*>(slab + i * size);
      node->next = head[c];
      head[c] = node;
    }
    count[c] = kBatch;
  }
};

thread_local ThreadCache t_cache;

}  // namespace

void* kernel_alloc(std::size_t size) {
  if (size == 0 || size > kMaxPooled) return ::operator new(size);
  const std::size_t c = (size - 1) / kGranule;
  ThreadCache& tc = t_cache;
  if (tc.head[c] == nullptr) tc.refill(c);
  FreeNode* n = tc.head[c];
  tc.head[c] = n->next;
  --tc.count[c];
  return n;
}

void kernel_free(void* p, std::size_t size) noexcept {
  if (p == nullptr) return;
  if (size == 0 || size > kMaxPooled) {
    ::operator delete(p);
    return;
  }
  const std::size_t c = (size - 1) / kGranule;
  ThreadCache& tc = t_cache;
  auto* n = static_cast<FreeNode*>(p);
  n->next = tc.head[c];
  tc.head[c] = n;
  if (++tc.count[c] >= 2 * kBatch) tc.spill(c, kBatch);
}

#else

void* kernel_alloc(std::size_t size) { return ::operator new(size); }
void kernel_free(void* p, std::size_t /*size*/) noexcept { ::operator delete(p); }

#endif

}  // namespace chiron::kernel::internal
