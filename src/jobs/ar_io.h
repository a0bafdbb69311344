#pragma once
// ar_io: the disk side of the AR generator (internal to jobs; see ar.h). Plain kernels on
// Device::kDisk, always local to the generator that owns the file descriptor:
//   ArWrite   pwrite()s one finished part's trimmed region at its offsets in the output
//   ArSync    fsync()s the output after the last write
//   ArDigest  sha256 of the finished output (main's summary)
// Each kernel is confined to its act() on a disk thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "jobs/ar.h"
#include "kernel/kernel.h"

namespace chiron::jobs::ar {

// Where a part sits: its box in the padded domain and the output geometry.
struct PartGeometry {
  uint64_t t0 = 0, x0 = 0, y0 = 0;
  Dims box;
  Dims size;
  Dims padding;
};

class ArWrite final : public kernel::Kernel {
 public:
  // `values` is the part's box, t-major; shared with the generator, which keeps it for the
  // halos of later parts until the last one was cut (whichever lets go last frees it).
  ArWrite(int fd, std::shared_ptr<const std::vector<float>> values, PartGeometry g)
      : Kernel(kernel::Device::kDisk), fd_(fd), values_(std::move(values)), g_(g) {}
  void act() override;
  uint64_t bytes() const { return bytes_; }

 private:
  int fd_;
  std::shared_ptr<const std::vector<float>> values_;
  PartGeometry g_;
  uint64_t bytes_ = 0;
};

class ArSync final : public kernel::Kernel {
 public:
  explicit ArSync(int fd) : Kernel(kernel::Device::kDisk), fd_(fd) {}
  void act() override;

 private:
  int fd_;
};

class ArDigest final : public kernel::Kernel {
 public:
  explicit ArDigest(std::string path) : Kernel(kernel::Device::kDisk), path_(std::move(path)) {}
  void act() override;
  const std::string& hex() const { return hex_; }
  uint64_t size() const { return size_; }

 private:
  std::string path_;
  std::string hex_;
  uint64_t size_ = 0;
};

// Writes all of `data` at `offset` (short writes and EINTR retried).
Status pwrite_all(int fd, const char* data, size_t len, uint64_t offset);

}  // namespace chiron::jobs::ar
