#pragma once
// The empty-kernel microbenchmark shared by kernel_spawn_bench, ar_bench and overhead_table:
// one principal spawns N kernels that only commit and collects them — the runtime's cost per
// kernel with no user work (the baseline of the Table 1 overhead estimate).

#include <cstdint>
#include <memory>

#include "kernel/kernel.h"

namespace chiron::bench {

class Empty : public kernel::Kernel {
 public:
  void act() override { commit(); }
};

class SpawnAll : public kernel::Kernel {
 public:
  explicit SpawnAll(int64_t n) : n_(n) {}
  void act() override {
    for (int64_t i = 0; i < n_; ++i) upstream(std::make_unique<Empty>());
  }
  void react(std::unique_ptr<kernel::Kernel>) override {
    if (++got_ == n_) commit();
  }

 private:
  int64_t n_;
  int64_t got_ = 0;
};

}  // namespace chiron::bench
