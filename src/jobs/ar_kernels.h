#pragma once
// ar_kernels: the cluster kernels of the AR generator (internal to jobs; see ar.h).
//
//   ar.main ─▶ ar.coefficients ─▶ ar.variance ─▶ ar.generator ─▶ ar.part × N   (cluster::upstream)
//                                                     └──────▶ ArWrite × N, ArSync (local disk)
//   ar.main ─▶ ArDigest (local disk)
//
// The generator cuts the padded domain into a grid of parts. Part (i,j,k) needs the values
// of its ≤ 7 predecessors (i−{0,1}, j−{0,1}, k−{0,1}): a per-part counter of unfinished
// predecessors is decremented as each part returns, and a part is upstreamed the moment its
// counter reaches zero (no scan). A part carries its halo in (order−1 cells before its box on
// every axis, copied from the predecessors' values) and its values out; the generator
// frees a part's values once its last successor was cut. Every finished part also goes to
// an ArWrite on the disk pipeline at once, so computing and writing overlap.
// Each kernel is confined to its own act()/react() (kernel.h rules).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cluster/cluster.h"
#include "jobs/ar.h"

namespace chiron::jobs::ar {

void write_model(cluster::ByteWriter& out, const Model& m);
Status read_model(cluster::ByteReader& in, Model& m);
void write_config(cluster::ByteWriter& out, const Config& c);
Status read_config(cluster::ByteReader& in, Config& c);

class ArPart final : public cluster::RemoteKernel {
 public:
  ArPart() = default;
  // `ext` is the part's box grown by order−1 cells before each axis, halo filled, box zero.
  ArPart(const Model& m, uint64_t index, uint64_t t0, uint64_t x0, uint64_t y0, Dims box, std::vector<float> ext)
      : model_(m), index_(index), t0_(t0), x0_(x0), y0_(y0), box_(box), ext_(std::move(ext)) {}
  std::string_view wire_type() const override { return "ar.part"; }
  void write(cluster::ByteWriter& out) const override;
  Status read(cluster::ByteReader& in) override;
  void act() override;

  uint64_t index() const { return index_; }
  std::vector<float>& values() { return values_; }
  static Dims ext_dims(Dims box, Dims order) { return {box.t + order.t - 1, box.x + order.x - 1, box.y + order.y - 1}; }

 private:
  Model model_;
  uint64_t index_ = 0;
  uint64_t t0_ = 0, x0_ = 0, y0_ = 0;
  Dims box_;
  std::vector<float> ext_;     // before act
  std::vector<float> values_;  // after act: the box, t-major
  bool done_ = false;
};

class ArGenerator final : public cluster::RemoteKernel {
 public:
  ArGenerator() = default;
  ArGenerator(const Config& c, Model m) : config_(c), model_(std::move(m)) {}
  ~ArGenerator() override;
  std::string_view wire_type() const override { return "ar.generator"; }
  void write(cluster::ByteWriter& out) const override;
  Status read(cluster::ByteReader& in) override;
  void act() override;
  void react(std::unique_ptr<kernel::Kernel> child) override;

  uint64_t parts() const { return parts_total_; }
  uint64_t bytes_written() const { return bytes_written_; }

 private:
  uint64_t part_index(uint32_t i, uint32_t j, uint32_t k) const { return (uint64_t{i} * grid_.x + j) * grid_.y + k; }
  void launch(uint64_t index);
  void on_part(ArPart& part);
  void fail_once(const Status& st);

  Config config_;
  Model model_;
  uint64_t parts_total_ = 0;    // result
  uint64_t bytes_written_ = 0;  // result
  // Run-time state (never on the wire: a re-run starts again from act()).
  Dims grid_;
  std::vector<uint8_t> pending_;    // unfinished predecessors per part
  std::vector<uint8_t> succ_left_;  // successors not yet cut per part
  // Values of finished parts still needed for halos. shared_ptr: an ArWrite on a disk
  // thread may hold the same buffer; whichever lets go last frees it.
  std::vector<std::shared_ptr<const std::vector<float>>> values_;
  uint64_t parts_done_ = 0;
  uint64_t writes_done_ = 0;
  bool failed_ = false;
  int fd_ = -1;
};

}  // namespace chiron::jobs::ar
