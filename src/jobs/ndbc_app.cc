// ndbc-spectra: see ndbc_app.h (kernel tree) and ndbc.h (format, units, integration).
#include "jobs/ndbc_app.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <system_error>

#include "cluster/cluster.h"
#include "common/strings.h"
#include "jobs/jobs.h"
#include "jobs/ndbc.h"
#include "kernel/kernel.h"

namespace chiron::jobs::ndbc {

namespace {

constexpr uint32_t kMaxGroups = 1 << 20;
constexpr int kMaxDirections = 3600;
constexpr size_t kMaxStation = 16;
constexpr size_t kMaxPath = 4096;
constexpr size_t kMaxError = 1024;

bool valid_station(std::string_view s) {
  return !s.empty() && s.size() <= kMaxStation &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'); });
}

void write_result(cluster::ByteWriter& out, const GroupResult& g) {
  out.str(g.station);
  out.u32(static_cast<uint32_t>(g.year));
  out.u64(g.spectra);
  out.u64(g.dropped_missing_variable);
  out.u64(g.dropped_band_mismatch);
  out.u64(g.dropped_duplicate);
  out.u64(g.missing_bands);
  out.f64(g.sum_m0);
  out.f64(g.sum_hm0);
  out.f64(g.sum_m_cos);
  out.f64(g.sum_m_sin);
}

// `filled`: the result must name a station-year (a group not yet run sends an empty one).
Status read_result(cluster::ByteReader& in, GroupResult& g, bool filled = true) {
  g.station = in.str();
  g.year = static_cast<int>(in.u32());
  g.spectra = in.u64();
  g.dropped_missing_variable = in.u64();
  g.dropped_band_mismatch = in.u64();
  g.dropped_duplicate = in.u64();
  g.missing_bands = in.u64();
  g.sum_m0 = in.f64();
  g.sum_hm0 = in.f64();
  g.sum_m_cos = in.f64();
  g.sum_m_sin = in.f64();
  if (in.ok() && filled && (!valid_station(g.station) || g.year < 0 || g.year > 9999)) {
    return Status::invalid_argument("bad ndbc group result");
  }
  return in.status(false);
}

// Reads, gunzips and parses one file on the disk pipeline.
class FileRead final : public kernel::Kernel {
 public:
  FileRead(std::filesystem::path path, Variable v) : Kernel(kernel::Device::kDisk), path_(std::move(path)), variable_(v) {}
  void act() override {
    auto f = read_spectral_file(path_);
    if (!f.ok()) return commit(f.status());
    file_ = std::move(*f);
    commit();
  }
  Variable variable() const { return variable_; }
  SpectralFile& file() { return file_; }

 private:
  std::filesystem::path path_;
  Variable variable_;
  SpectralFile file_;
};

// One (station, year): five files in, the group's sums out.
class Group final : public cluster::RemoteKernel {
 public:
  Group() = default;
  Group(std::string dir, std::string station, int year, int directions, uint32_t index)
      : dir_(std::move(dir)), station_(std::move(station)), year_(year), directions_(directions), index_(index) {}
  std::string_view wire_type() const override { return "ndbc.group"; }
  void write(cluster::ByteWriter& out) const override {
    out.str(dir_);
    out.str(station_);
    out.u32(static_cast<uint32_t>(year_));
    out.u32(static_cast<uint32_t>(directions_));
    out.u32(index_);
    out.boolean(done_);
    write_result(out, result_);
    out.str(error_);
  }
  Status read(cluster::ByteReader& in) override {
    dir_ = in.str();
    station_ = in.str();
    year_ = static_cast<int>(in.u32());
    directions_ = static_cast<int>(in.u32());
    index_ = in.u32();
    done_ = in.boolean();
    Status st = read_result(in, result_, done_);
    if (!st.ok()) return st;
    error_ = in.str();
    if (in.ok() && (dir_.empty() || dir_.size() > kMaxPath || !valid_station(station_) || year_ < 0 || year_ > 9999 ||
                    directions_ < 4 || directions_ > kMaxDirections || index_ >= kMaxGroups || error_.size() > kMaxError)) {
      return Status::invalid_argument("ndbc group state out of range");
    }
    return in.status(false);
  }

  void act() override {
    returned_ = 0;
    failed_ = false;
    done_ = false;
    error_.clear();
    for (int v = 0; v < kVariables; ++v) {
      auto var = static_cast<Variable>(v);
      upstream(std::make_unique<FileRead>(std::filesystem::path(dir_) / file_name(station_, var, year_), var));
    }
  }
  void react(std::unique_ptr<kernel::Kernel> child) override {
    auto* f = dynamic_cast<FileRead*>(child.get());
    if (f == nullptr) {
      failed_ = true;
      error_ = "unexpected child";
      if (++returned_ < kVariables) return;
      return commit(Status::internal("ndbc.group: unexpected child"));
    }
    if (!f->result().ok() && !failed_) {
      failed_ = true;
      error_ = f->result().message().substr(0, kMaxError);
    }
    if (!failed_) files_[static_cast<int>(f->variable())] = std::move(f->file());
    if (++returned_ < kVariables) return;
    if (!failed_) {
      Directions dirs(directions_);
      result_ = process_group(station_, year_, files_, dirs, [](const void* k) { return static_cast<const Group*>(k)->cancelled(); },
                              this);
      if (cancelled()) {
        files_ = {};
        return commit(Status::cancelled("job cancelled"));
      }
    }
    result_.station = station_;
    result_.year = year_;
    files_ = {};
    done_ = true;
    commit();
  }

  uint32_t index() const { return index_; }
  bool done() const { return done_; }
  const GroupResult& group_result() const { return result_; }
  const std::string& error() const { return error_; }

 private:
  std::string dir_;
  std::string station_;
  int year_ = 0;
  int directions_ = kDefaultDirections;
  uint32_t index_ = 0;
  bool done_ = false;
  GroupResult result_;
  std::string error_;  // read/parse error of one of the files ("" = none)
  // act/react state, not sent
  int returned_ = 0;
  bool failed_ = false;
  std::array<SpectralFile, kVariables> files_;
};

class Main final : public cluster::RemoteKernel {
 public:
  Main() : RemoteKernel(kernel::Device::kDisk) {}
  std::string_view wire_type() const override { return "ndbc.main"; }
  void write(cluster::ByteWriter& out) const override {
    out.str(input_);
    out.str(out_file_);
    out.u32(static_cast<uint32_t>(directions_));
    out.u32(static_cast<uint32_t>(done_.size()));
    for (const auto& [key, d] : done_) {
      write_result(out, d.result);
      out.str(d.error);
    }
  }
  Status read(cluster::ByteReader& in) override {
    input_ = in.str();
    out_file_ = in.str();
    directions_ = static_cast<int>(in.u32());
    uint32_t n = in.u32();
    if (in.ok() && (input_.empty() || input_.size() > kMaxPath || out_file_.size() > kMaxPath || directions_ < 4 ||
                    directions_ > kMaxDirections || n > kMaxGroups)) {
      return Status::invalid_argument("ndbc job state out of range");
    }
    done_.clear();
    for (uint32_t i = 0; i < n && in.ok(); ++i) {
      Done d;
      Status st = read_result(in, d.result);
      if (!st.ok()) return st;
      d.error = in.str();
      if (d.error.size() > kMaxError) return Status::invalid_argument("ndbc job state out of range");
      done_[{d.result.station, d.result.year}] = std::move(d);
    }
    return in.status(false);
  }

  static Result<std::unique_ptr<cluster::RemoteKernel>> make(const cluster::JobSpec& spec) {
    auto m = std::make_unique<Main>();
    const auto& a = spec.args;
    for (size_t i = 0; i < a.size(); ++i) {
      if (i + 1 >= a.size()) return Status::invalid_argument(a[i] + " needs a value");
      const std::string& opt = a[i];
      const std::string& val = a[++i];
      if (opt == "--input") {
        std::error_code ec;
        auto abs = std::filesystem::absolute(val, ec);
        if (ec) return Status::invalid_argument("--input: " + ec.message());
        m->input_ = abs.string();
      } else if (opt == "--out") {
        std::error_code ec;
        auto abs = std::filesystem::absolute(val, ec);
        if (ec) return Status::invalid_argument("--out: " + ec.message());
        m->out_file_ = abs.string();
      } else if (opt == "--directions") {
        auto v = parse_u64(val);
        if (!v.ok() || *v < 4 || *v > kMaxDirections) {
          return Status::invalid_argument("--directions must be 4.." + std::to_string(kMaxDirections));
        }
        m->directions_ = static_cast<int>(*v);
      } else {
        return Status::invalid_argument("unknown option " + opt);
      }
    }
    if (m->input_.empty()) return Status::invalid_argument("--input DIR is required");
    if (m->input_.size() > kMaxPath || m->out_file_.size() > kMaxPath) return Status::invalid_argument("path too long");
    return std::unique_ptr<cluster::RemoteKernel>(std::move(m));
  }

  void act() override {
    // Group the directory's files by (station, year); keep groups with all five variables.
    std::map<std::pair<std::string, int>, unsigned> masks;
    std::error_code ec;
    std::filesystem::directory_iterator it(input_, ec);
    if (ec) return commit(Status::io_error("cannot list " + input_ + ": " + ec.message()));
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      if (ec) return commit(Status::io_error("cannot list " + input_ + ": " + ec.message()));
      auto key = parse_file_name(it->path().filename().string());
      if (!key) continue;
      masks[{key->station, key->year}] |= 1u << static_cast<int>(key->variable);
      if (masks.size() > kMaxGroups) return commit(Status::resource_exhausted("more than " + std::to_string(kMaxGroups) + " groups"));
    }
    incomplete_ = 0;
    total_ = 0;
    outstanding_ = 0;
    std::vector<std::pair<std::string, int>> todo;
    for (const auto& [key, mask] : masks) {
      if (mask != (1u << kVariables) - 1) {
        ++incomplete_;
        continue;
      }
      ++total_;
      if (!done_.contains(key)) todo.push_back(key);
    }
    report_progress(done_.size(), total_);
    if (todo.empty()) return finish();
    outstanding_ = static_cast<uint32_t>(todo.size());
    uint32_t index = 0;
    for (auto& [station, year] : todo) {
      cluster::upstream(*this, std::make_unique<Group>(input_, station, year, directions_, index++));
    }
  }

  void react(std::unique_ptr<kernel::Kernel> child) override {
    auto* g = dynamic_cast<Group*>(child.get());
    if (failed_) return;
    if (g == nullptr) {
      failed_ = true;
      return commit(Status::internal("ndbc.main: unexpected child"));
    }
    if (!g->result().ok()) {
      failed_ = true;
      return commit(g->result());
    }
    Done d{g->group_result(), g->error()};
    done_[{d.result.station, d.result.year}] = std::move(d);
    report_progress(done_.size(), total_);
    if (--outstanding_ == 0) return finish();
    // Journal now and then so a restarted job skips finished groups (fsync: not per group).
    if (done_.size() % std::max<uint32_t>(1, total_ / 8) == 0) checkpoint();
  }

  const JobOutcome& outcome() const { return outcome_; }

 private:
  struct Done {
    GroupResult result;
    std::string error;
  };

  void finish() {
    std::vector<GroupResult> groups;
    uint64_t spectra = 0, dropped = 0, missing = 0, errors = 0;
    for (const auto& [key, d] : done_) {
      if (!d.error.empty()) {
        ++errors;
        continue;
      }
      groups.push_back(d.result);
      spectra += d.result.spectra;
      dropped += d.result.dropped_missing_variable + d.result.dropped_band_mismatch + d.result.dropped_duplicate;
      missing += d.result.missing_bands;
    }
    uint64_t sum = checksum(groups);
    char line[256];
    std::snprintf(line, sizeof line,
                  "spectra=%" PRIu64 " groups=%zu checksum=%016" PRIx64 " dropped=%" PRIu64 " missing_bands=%" PRIu64
                  " errors=%" PRIu64 " incomplete=%u",
                  spectra, groups.size(), sum, dropped, missing, errors, incomplete_);
    outcome_ = JobOutcome{0, line, spectra, groups.size(), sum};
    set_summary(line);
    if (!out_file_.empty()) {
      std::ofstream out(out_file_, std::ios::trunc);
      out << "# ndbc-spectra " << line << "\n";
      out << "# station,year,spectra,dropped_missing_variable,dropped_band_mismatch,dropped_duplicate,missing_bands,"
             "sum_m0,sum_hm0,sum_m_cos,sum_m_sin\n";
      for (const GroupResult& g : groups) out << format_group(g) << "\n";
      for (const auto& [key, d] : done_) {
        if (!d.error.empty()) out << "# error " << key.first << "," << key.second << ": " << d.error << "\n";
      }
      out.flush();
      if (!out) return commit(Status::io_error("cannot write " + out_file_));
    }
    commit();
  }

  std::string input_;
  std::string out_file_;
  int directions_ = kDefaultDirections;
  std::map<std::pair<std::string, int>, Done> done_;
  // act/react state
  uint32_t total_ = 0;
  uint32_t outstanding_ = 0;
  uint32_t incomplete_ = 0;
  bool failed_ = false;
  JobOutcome outcome_;
};

}  // namespace

Result<JobOutcome> run_local(kernel::Runtime& runtime, const std::vector<std::string>& args) {
  cluster::JobSpec spec;
  spec.args = args;
  auto main = Main::make(spec);
  if (!main.ok()) return main.status();
  std::promise<JobOutcome> done;
  auto fut = done.get_future();
  runtime.submit(std::move(*main), [&done](std::unique_ptr<kernel::Kernel> root) {
    auto* m = static_cast<Main*>(root.get());
    JobOutcome o = m->outcome();
    o.exit_code = root->result().ok() ? 0 : 1;
    if (!root->result().ok()) o.summary = root->result().to_string();
    done.set_value(std::move(o));
  });
  JobOutcome o = fut.get();
  if (o.exit_code != 0) return Status::aborted(o.summary);
  return o;
}

}  // namespace chiron::jobs::ndbc

namespace chiron::jobs {

void register_ndbc_spectra() {
  cluster::register_kernel_type<ndbc::Group>("ndbc.group");
  cluster::register_kernel_type<ndbc::Main>("ndbc.main");
  cluster::register_app(cluster::App{
      "ndbc-spectra", "ndbc-spectra --input DIR [--out FILE] [--directions N]",
      "NDBC directional wave spectra from yearly spectral files (one kernel per station and year)", &ndbc::Main::make});
}

}  // namespace chiron::jobs
