#pragma once
// Task: one queue entry, a tagged pointer (8 bytes) so rings never allocate.
// Internal to the kernel module. Value type.

#include <cstdint>
#include <functional>

namespace chiron::kernel {
class Kernel;
}  // namespace chiron::kernel

namespace chiron::kernel::internal {

// A plain function handed to Runtime::post(); owned by the task that carries it.
struct PostedCall {
  std::function<void()> fn;
};

class Task {
 public:
  enum class Op : uintptr_t { kAct = 0, kDrain = 1, kCall = 2 };

  Task() = default;
  static Task act(Kernel* k) { return Task(reinterpret_cast<uintptr_t>(k), Op::kAct); }
  static Task drain(Kernel* k) { return Task(reinterpret_cast<uintptr_t>(k), Op::kDrain); }
  static Task call(PostedCall* c) { return Task(reinterpret_cast<uintptr_t>(c), Op::kCall); }

  Op op() const { return static_cast<Op>(word_ & kTagMask); }
  Kernel* kernel() const { return reinterpret_cast<Kernel*>(word_ & ~kTagMask); }
  PostedCall* posted() const { return reinterpret_cast<PostedCall*>(word_ & ~kTagMask); }
  bool empty() const { return word_ == 0; }

 private:
  static constexpr uintptr_t kTagMask = 3;
  Task(uintptr_t p, Op op) : word_(p | static_cast<uintptr_t>(op)) {}
  uintptr_t word_ = 0;
};

}  // namespace chiron::kernel::internal
