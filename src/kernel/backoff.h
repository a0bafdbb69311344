#pragma once
// Backoff: spin (pause), then yield, then sleep with growing intervals (capped at 1 ms).
// For slow paths only: waiting for queue space or for quiescence. Not thread-safe
// (one per waiting loop).

#include <chrono>
#include <thread>

namespace chiron::kernel::internal {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class Backoff {
 public:
  void pause() {
    if (step_ < 16) {
      for (int i = 0; i < (1 << (step_ / 2)); ++i) cpu_relax();
    } else if (step_ < 24) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(sleep_);
      if (sleep_ < std::chrono::microseconds(1000)) sleep_ *= 2;
    }
    ++step_;
  }

 private:
  int step_ = 0;
  std::chrono::microseconds sleep_{20};
};

}  // namespace chiron::kernel::internal
