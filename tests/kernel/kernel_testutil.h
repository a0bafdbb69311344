#pragma once
// Helpers shared by the kernel tests: small runtimes and a way to get the finished root
// back (to inspect its fields) without sleeping.

#include <future>
#include <memory>

#include "kernel/kernel.h"

namespace chiron::kernel::testing {

inline RuntimeOptions small_options() {
  RuntimeOptions o;
  o.cpu_threads = 2;
  o.disk_threads = 2;
  o.net_threads = 1;
  return o;
}

// Submits root and blocks until its job ends; returns the finished root.
template <class K>
std::unique_ptr<K> run_and_collect(Runtime& rt, std::unique_ptr<K> root) {
  std::promise<std::unique_ptr<Kernel>> done;
  auto future = done.get_future();
  rt.submit(std::move(root), [&done](std::unique_ptr<Kernel> k) { done.set_value(std::move(k)); });
  return std::unique_ptr<K>(static_cast<K*>(future.get().release()));
}

// A subordinate that commits at once.
class Leaf : public Kernel {
 public:
  using Kernel::Kernel;
  void act() override { commit(); }
};

}  // namespace chiron::kernel::testing
