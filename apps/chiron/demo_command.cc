// chiron demo overlap: the middleware paper's central claim on one machine.
//
// A job generates N blocks of an autoregressive wave series (cpu pipeline) and
// writes each block to a file with fdatasync (disk pipeline). It runs twice in
// one invocation:
//   phased     every block is generated before the first write starts (what a
//              "compute, then output" program such as the paper's OpenMP baseline does)
//   pipelined  each block is written as soon as it is generated, so the disk
//              pipeline works while the cpu pipeline computes
// and prints both wall times and their ratio. With --trace the kernel events of
// both runs are written as JSON lines; `chiron trace` draws them.

#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <cstdio>
#include <random>
#include <vector>

#include "chiron/commands.h"
#include "common/common.h"
#include "kernel/kernel.h"

namespace chiron::app {
namespace {

struct DemoArgs {
  unsigned blocks = 48;
  unsigned block_kib = 512;
  unsigned passes = 24;  // AR filter passes per block: the compute cost
  std::string out;  // empty: a temporary file, removed afterwards
  std::string trace;
};

// cpu: fills one block with an AR(2) series driven by Gaussian noise, filtered `passes` times.
class GenerateBlock final : public kernel::Kernel {
 public:
  GenerateBlock(unsigned index, size_t floats, unsigned passes)
      : Kernel(kernel::Device::kCpu), index_(index), passes_(passes), data_(floats) {}
  void act() override {
    std::mt19937_64 rng(0x5eed + index_);  // per-block seed: output does not depend on scheduling
    std::normal_distribution<float> noise(0.0f, 1.0f);
    for (auto& x : data_) x = noise(rng);
    constexpr float a1 = 0.6f, a2 = -0.3f;
    for (unsigned p = 0; p < passes_; ++p)
      for (size_t i = 2; i < data_.size(); ++i) data_[i] += a1 * data_[i - 1] + a2 * data_[i - 2] * 0.5f;
    for (auto& x : data_) x = std::tanh(x);
    commit();
  }
  unsigned index() const { return index_; }
  std::vector<float> take() { return std::move(data_); }

 private:
  unsigned index_, passes_;
  std::vector<float> data_;
};

// disk: writes one block at its offset and makes it durable.
class WriteBlock final : public kernel::Kernel {
 public:
  WriteBlock(int fd, off_t offset, std::vector<float> data)
      : Kernel(kernel::Device::kDisk), fd_(fd), offset_(offset), data_(std::move(data)) {}
  void act() override {
    const char* p = reinterpret_cast<const char*>(data_.data());
    size_t left = data_.size() * sizeof(float);
    off_t at = offset_;
    while (left > 0) {
      ssize_t n = ::pwrite(fd_, p, left, at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return commit(Status::from_errno("pwrite", errno));
      p += n;
      at += n;
      left -= static_cast<size_t>(n);
    }
    if (::fdatasync(fd_) != 0) return commit(Status::from_errno("fdatasync", errno));
    commit();
  }

 private:
  int fd_;
  off_t offset_;
  std::vector<float> data_;
};

class OverlapJob final : public kernel::Kernel {
 public:
  OverlapJob(const DemoArgs& args, int fd, bool pipelined) : args_(args), fd_(fd), pipelined_(pipelined) {}
  void act() override {
    const size_t floats = size_t{args_.block_kib} * 1024 / sizeof(float);
    for (unsigned i = 0; i < args_.blocks; ++i) upstream(std::make_unique<GenerateBlock>(i, floats, args_.passes));
  }
  void react(std::unique_ptr<Kernel> child) override {
    if (!child->result().ok() && first_error_.ok()) first_error_ = child->result();
    if (auto* gen = dynamic_cast<GenerateBlock*>(child.get())) {
      const off_t offset = static_cast<off_t>(gen->index()) * args_.block_kib * 1024;
      auto write = std::make_unique<WriteBlock>(fd_, offset, gen->take());
      if (pipelined_) {
        upstream(std::move(write));
      } else {
        held_.push_back(std::move(write));
        if (held_.size() == args_.blocks)
          for (auto& w : held_) upstream(std::move(w));
      }
      return;
    }
    if (++written_ == args_.blocks) commit(first_error_.ok() ? 0 : 1);
  }
  const Status& error() const { return first_error_; }

 private:
  const DemoArgs& args_;
  int fd_;
  bool pipelined_;
  unsigned written_ = 0;
  std::vector<std::unique_ptr<Kernel>> held_;
  Status first_error_;
};

double run_once(kernel::Runtime& rt, const DemoArgs& args, bool pipelined, int* exit_code) {
  int fd = ::open(args.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::fprintf(stderr, "chiron demo: open %s: %s\n", args.out.c_str(), std::strerror(errno));
    *exit_code = 1;
    return 0;
  }
  auto t0 = std::chrono::steady_clock::now();
  *exit_code = rt.run(std::make_unique<OverlapJob>(args, fd, pipelined));
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ::close(fd);
  return ms;
}

int demo_overlap(DemoArgs args) {
  const bool temporary = args.out.empty();
  if (temporary) args.out = (std::filesystem::temp_directory_path() / ("chiron-demo-" + random_hex(6) + ".bin")).string();
  if (args.blocks == 0 || args.block_kib == 0) {
    std::fprintf(stderr, "chiron demo: --blocks and --block-kib must be positive\n");
    return 2;
  }
  kernel::RuntimeOptions opts;
  opts.trace = !args.trace.empty();
  kernel::Runtime rt(opts);
  if (Status st = rt.start(); !st.ok()) {
    std::fprintf(stderr, "chiron demo: %s\n", st.to_string().c_str());
    return 1;
  }
  std::printf("%u blocks x %u KiB, %u filter passes; cpu threads %u, disk threads %u\n", args.blocks,
              args.block_kib, args.passes, rt.threads(kernel::Device::kCpu), rt.threads(kernel::Device::kDisk));
  int rc = 0;
  double phased = run_once(rt, args, false, &rc);
  if (rc == 0) {
    double pipelined = run_once(rt, args, true, &rc);
    if (rc == 0) {
      std::printf("phased    (generate all, then write): %8.1f ms\n", phased);
      std::printf("pipelined (write as generated)      : %8.1f ms\n", pipelined);
      std::printf("speed-up from overlapping compute and I/O: %.2fx\n", phased / pipelined);
    }
  }
  rt.stop();
  if (temporary) std::filesystem::remove(args.out);
  if (rc != 0) std::fprintf(stderr, "chiron demo: job failed (exit %d)\n", rc);
  if (!args.trace.empty()) {
    if (Status st = rt.write_trace(args.trace); !st.ok()) {
      std::fprintf(stderr, "chiron demo: %s\n", st.to_string().c_str());
      return 1;
    }
    std::printf("trace: %s (draw it with: chiron trace %s -o plot.svg)\n", args.trace.c_str(), args.trace.c_str());
  }
  return rc;
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  auto* demo = app.add_subcommand("demo", "Small jobs that show what the runtime does");
  demo->require_subcommand(1);
  auto* overlap = demo->add_subcommand("overlap", "Generate blocks on the cpu pipeline while the disk pipeline writes them");
  overlap->add_option("--blocks", args->blocks, "Number of blocks")->capture_default_str();
  overlap->add_option("--block-kib", args->block_kib, "Block size in KiB")->capture_default_str();
  overlap->add_option("--passes", args->passes, "AR filter passes per block (compute cost)")->capture_default_str();
  overlap->add_option("--out", args->out, "File to write (default: a temporary file, removed afterwards)");
  overlap->add_option("--trace", args->trace, "Write the kernel event log (JSON lines) here");
  overlap->callback([args] { set_exit_code(demo_overlap(*args)); });
}

}  // namespace chiron::app
