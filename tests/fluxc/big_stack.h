#pragma once
// Runs fn on a thread with a large stack. Sanitizer builds inflate every frame (redzones), so the
// deepest trees that parse accepts (kMaxNestingDepth) overflow the default 8 MiB stack under
// ASan — not in the real binary, whose frames are a fraction of that size. Tests that walk such
// trees run here so they check the same depth in every build.

#include <pthread.h>

#include <cstddef>
#include <functional>

namespace chiron::fluxc::test_support {

inline void run_with_big_stack(const std::function<void()>& fn, size_t bytes = size_t{512} << 20) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, bytes);
  pthread_t thread;
  auto body = [](void* p) -> void* {
    (*static_cast<const std::function<void()>*>(p))();
    return nullptr;
  };
  if (pthread_create(&thread, &attr, body, const_cast<std::function<void()>*>(&fn)) == 0) {
    pthread_join(thread, nullptr);
  } else {
    fn();  // no big stack available: run here
  }
  pthread_attr_destroy(&attr);
}

}  // namespace chiron::fluxc::test_support
