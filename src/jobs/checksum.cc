// checksum: the cluster's test job. Deterministic CPU work whose result does not depend on
// where (or how often) each piece ran, so a run with a node killed mid-job must print the
// same checksum as a failure-free run.
//
//   main ──(carries its parent)──▶ stage s ──▶ part 0 … part N−1   (for s in 0 … stages−1)
//
// Each part mixes `work` rounds of splitmix64 from (seed, stage, index); a stage folds its
// parts in index order; main folds the stages and checkpoints after each one, so a job
// resumed from the journal after a full restart continues at the next stage.
#include <cinttypes>
#include <cstdio>
#include <fstream>

#include "cluster/cluster.h"
#include "common/strings.h"
#include "jobs/jobs.h"

namespace chiron::jobs {

namespace {

constexpr uint32_t kMaxParts = 1 << 20;
constexpr uint32_t kMaxStages = 1 << 12;

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

class Part final : public cluster::RemoteKernel {
 public:
  Part() = default;
  Part(uint64_t seed, uint32_t stage, uint32_t index, uint64_t work) : seed_(seed), stage_(stage), index_(index), work_(work) {}
  std::string_view wire_type() const override { return "checksum.part"; }
  void write(cluster::ByteWriter& out) const override {
    out.u64(seed_);
    out.u32(stage_);
    out.u32(index_);
    out.u64(work_);
    out.u64(value_);
    out.u64(where_);
  }
  Status read(cluster::ByteReader& in) override {
    seed_ = in.u64();
    stage_ = in.u32();
    index_ = in.u32();
    work_ = in.u64();
    value_ = in.u64();
    where_ = in.u64();
    return in.status(false);
  }
  void act() override {
    uint64_t x = mix(seed_ ^ mix((uint64_t{stage_} << 32) | index_));
    for (uint64_t i = 0; i < work_; ++i) {
      x = mix(x + i);
      if ((i & 0xfffff) == 0xfffff && cancelled()) return commit(Status::cancelled("job cancelled"));
    }
    value_ = x;
    where_ = node_position();
    commit();
  }
  uint32_t index() const { return index_; }
  uint64_t value() const { return value_; }
  uint64_t where() const { return where_; }

 private:
  uint64_t seed_ = 0;
  uint32_t stage_ = 0;
  uint32_t index_ = 0;
  uint64_t work_ = 0;
  uint64_t value_ = 0;  // result
  uint64_t where_ = 0;  // node position that computed it (0 = no node)
};

class Stage final : public cluster::RemoteKernel {
 public:
  Stage() = default;
  Stage(uint64_t seed, uint32_t stage, uint32_t parts, uint64_t work) : seed_(seed), stage_(stage), parts_(parts), work_(work) {}
  std::string_view wire_type() const override { return "checksum.stage"; }
  void write(cluster::ByteWriter& out) const override {
    out.u64(seed_);
    out.u32(stage_);
    out.u32(parts_);
    out.u64(work_);
    out.u64(folded_);
    out.u32(returned_);
    out.u32(remote_parts_);
  }
  Status read(cluster::ByteReader& in) override {
    seed_ = in.u64();
    stage_ = in.u32();
    parts_ = in.u32();
    work_ = in.u64();
    folded_ = in.u64();
    returned_ = in.u32();
    remote_parts_ = in.u32();
    if (in.ok() && (parts_ == 0 || parts_ > kMaxParts)) return Status::invalid_argument("parts out of range");
    return in.status(false);
  }
  void act() override {
    values_.assign(parts_, 0);
    seen_.assign(parts_, false);
    returned_ = 0;
    remote_parts_ = 0;
    for (uint32_t i = 0; i < parts_; ++i) cluster::upstream(*this, std::make_unique<Part>(seed_, stage_, i, work_));
  }
  void react(std::unique_ptr<kernel::Kernel> child) override {
    auto* part = dynamic_cast<Part*>(child.get());
    if (part == nullptr) return fail_once(Status::internal("checksum.stage: unexpected child"));
    if (!part->result().ok()) return fail_once(part->result());
    // A part's state comes back from wherever it ran: trust nothing in it.
    if (part->index() >= parts_ || seen_[part->index()]) {
      return fail_once(Status::internal("checksum.stage: part index out of range or returned twice"));
    }
    seen_[part->index()] = true;
    values_[part->index()] = part->value();
    if (part->where() != node_position()) ++remote_parts_;
    if (++returned_ == parts_) {
      uint64_t h = mix(seed_ + stage_);
      for (uint64_t v : values_) h = mix(h ^ v);
      folded_ = h;
      commit();
    }
  }
  uint32_t stage() const { return stage_; }
  uint64_t folded() const { return folded_; }
  uint32_t remote_parts() const { return remote_parts_; }

 private:
  void fail_once(const Status& st) {
    if (!failed_) {
      failed_ = true;
      commit(st);
    }
  }
  uint64_t seed_ = 0;
  uint32_t stage_ = 0;
  uint32_t parts_ = 0;
  uint64_t work_ = 0;
  uint64_t folded_ = 0;  // result
  uint32_t returned_ = 0;
  uint32_t remote_parts_ = 0;
  bool failed_ = false;
  std::vector<uint64_t> values_;
  std::vector<bool> seen_;
};

class Main final : public cluster::RemoteKernel {
 public:
  Main() = default;
  std::string_view wire_type() const override { return "checksum.main"; }
  void write(cluster::ByteWriter& out) const override {
    out.u64(seed_);
    out.u32(stages_);
    out.u32(parts_);
    out.u64(work_);
    out.str(out_file_);
    out.u32(done_);
    out.u64(folded_);
    out.u64(remote_parts_);
  }
  Status read(cluster::ByteReader& in) override {
    seed_ = in.u64();
    stages_ = in.u32();
    parts_ = in.u32();
    work_ = in.u64();
    out_file_ = in.str();
    done_ = in.u32();
    folded_ = in.u64();
    remote_parts_ = in.u64();
    if (in.ok() && (stages_ == 0 || stages_ > kMaxStages || done_ > stages_ || parts_ == 0 || parts_ > kMaxParts)) {
      return Status::invalid_argument("checksum job state out of range");
    }
    return in.status(false);
  }

  static Result<std::unique_ptr<cluster::RemoteKernel>> make(const cluster::JobSpec& spec) {
    auto m = std::make_unique<Main>();
    const auto& a = spec.args;
    for (size_t i = 0; i < a.size(); ++i) {
      auto value = [&]() -> Result<uint64_t> {
        if (i + 1 >= a.size()) return Status::invalid_argument(a[i] + " needs a value");
        auto v = parse_u64(a[++i]);
        if (!v.ok()) return Status::invalid_argument(a[i - 1] + ": " + v.status().message());
        return *v;
      };
      if (a[i] == "--out") {
        if (i + 1 >= a.size()) return Status::invalid_argument("--out needs a file");
        m->out_file_ = a[++i];
        continue;
      }
      auto v = value();
      if (!v.ok()) return v.status();
      if (a[i - 1] == "--seed") {
        m->seed_ = *v;
      } else if (a[i - 1] == "--stages") {
        m->stages_ = static_cast<uint32_t>(std::min<uint64_t>(*v, kMaxStages + 1));
      } else if (a[i - 1] == "--parts") {
        m->parts_ = static_cast<uint32_t>(std::min<uint64_t>(*v, kMaxParts + 1));
      } else if (a[i - 1] == "--work") {
        m->work_ = *v;
      } else {
        return Status::invalid_argument("unknown option " + a[i - 1]);
      }
    }
    if (m->stages_ == 0 || m->stages_ > kMaxStages) return Status::invalid_argument("--stages must be 1.." + std::to_string(kMaxStages));
    if (m->parts_ == 0 || m->parts_ > kMaxParts) return Status::invalid_argument("--parts must be 1.." + std::to_string(kMaxParts));
    m->folded_ = mix(m->seed_);
    return std::unique_ptr<cluster::RemoteKernel>(std::move(m));
  }

  void act() override { next(); }
  void react(std::unique_ptr<kernel::Kernel> child) override {
    auto* stage = dynamic_cast<Stage*>(child.get());
    if (stage == nullptr) return commit(Status::internal("checksum.main: unexpected child"));
    if (!stage->result().ok()) return commit(stage->result());
    if (stage->stage() != done_) return commit(Status::internal("checksum.main: a stage returned out of order"));
    folded_ = mix(folded_ ^ stage->folded());
    remote_parts_ += stage->remote_parts();
    ++done_;
    report_progress(done_, stages_);
    checkpoint();
    next();
  }

 private:
  void next() {
    if (done_ < stages_) {
      auto stage = std::make_unique<Stage>(seed_, done_, parts_, work_);
      stage->set_carries_parent(true);
      cluster::upstream(*this, std::move(stage));
      return;
    }
    char line[128];
    std::snprintf(line, sizeof line, "checksum=%016" PRIx64 " stages=%u parts=%u remote_parts=%" PRIu64, folded_, stages_,
                  parts_, remote_parts_);
    set_summary(line);
    if (!out_file_.empty()) {
      std::ofstream out(out_file_, std::ios::trunc);
      out << line << "\n";
      if (!out) return commit(Status::io_error("cannot write " + out_file_));
    }
    commit();
  }

  uint64_t seed_ = 1;
  uint32_t stages_ = 1;
  uint32_t parts_ = 8;
  uint64_t work_ = 1'000'000;
  std::string out_file_;
  uint32_t done_ = 0;
  uint64_t folded_ = 0;
  uint64_t remote_parts_ = 0;
};

}  // namespace

void register_checksum() {
  cluster::register_kernel_type<Part>("checksum.part");
  cluster::register_kernel_type<Stage>("checksum.stage");
  cluster::register_kernel_type<Main>("checksum.main");
  cluster::register_app(cluster::App{
      "checksum", "checksum [--stages S] [--parts N] [--work ROUNDS] [--seed N] [--out FILE]",
      "deterministic CPU work with a checksum that must not depend on where the parts ran", &Main::make});
}

}  // namespace chiron::jobs
