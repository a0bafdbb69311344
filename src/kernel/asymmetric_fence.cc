#include "kernel/asymmetric_fence.h"

#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef CHIRON_KERNEL_TSAN
namespace chiron::kernel::internal {
namespace {

bool register_membarrier() {
  long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);
  if (cmds < 0 || (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  return syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

}  // namespace

extern const bool g_asymmetric_fences = register_membarrier();

void heavy_fence() {
  if (!g_asymmetric_fences || syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }
}

}  // namespace chiron::kernel::internal
#endif  // CHIRON_KERNEL_TSAN
