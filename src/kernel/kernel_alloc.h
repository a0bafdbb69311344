#pragma once
// Thread-caching allocator behind Kernel::operator new/delete. Kernels are small, short-
// lived and often freed on another thread than the one that made them (a principal's
// react frees what its act allocated), which is glibc malloc's slow path. Objects up to
// 512 bytes come from per-thread free lists in 16-byte size classes, refilled from and
// spilled to a global list of 64-object batches; slabs are kept for reuse, never returned.
// Under ASan/TSan it forwards to ::operator new so the sanitizers see every object.
// Thread-safe.

#include <cstddef>

namespace chiron::kernel::internal {

void* kernel_alloc(std::size_t size);
void kernel_free(void* p, std::size_t size) noexcept;

}  // namespace chiron::kernel::internal
