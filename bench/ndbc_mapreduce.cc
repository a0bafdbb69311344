// The Hadoop-style MapReduce baseline for the NDBC spectra (see ndbc_mapreduce.h).
#include "ndbc_mapreduce.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <thread>

namespace chiron::bench {

namespace fs = std::filesystem;
namespace ndbc = jobs::ndbc;

namespace {

constexpr size_t kStationBytes = 16;
constexpr size_t kKeyBytes = kStationBytes + 2 + 8;
using Key = std::array<char, kKeyBytes>;

uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

void put_be(char* p, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xff);
}
uint64_t get_be(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

struct Segment {
  uint64_t offset = 0;
  uint64_t length = 0;
};
// A sorted, partitioned run of records on disk (a spill or a map output).
struct Run {
  fs::path path;
  std::vector<Segment> index;  // per partition
};

struct File {
  FILE* f = nullptr;
  explicit File(const fs::path& p, const char* mode) : f(std::fopen(p.c_str(), mode)) {
    if (f != nullptr) std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  }
  ~File() {
    if (f != nullptr) std::fclose(f);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;
};

// Streams the records of one segment: key + value.
class SegmentReader {
 public:
  SegmentReader(const fs::path& path, Segment seg) : file_(path, "rb"), left_(seg.length) {
    if (file_.f == nullptr || std::fseek(file_.f, static_cast<long>(seg.offset), SEEK_SET) != 0) left_ = 0;
  }
  bool next() {
    if (left_ < kKeyBytes + 4) return false;
    char len[4];
    if (std::fread(key_.data(), 1, kKeyBytes, file_.f) != kKeyBytes || std::fread(len, 1, 4, file_.f) != 4) return false;
    uint32_t n = 0;
    std::memcpy(&n, len, 4);
    value_.resize(n);
    if (n > 0 && std::fread(value_.data(), 1, n, file_.f) != n) return false;
    left_ -= kKeyBytes + 4 + n;
    return true;
  }
  const Key& key() const { return key_; }
  const std::string& value() const { return value_; }

 private:
  File file_;
  uint64_t left_;
  Key key_{};
  std::string value_;
};

void write_record(FILE* out, const char* key, std::string_view value) {
  uint32_t n = static_cast<uint32_t>(value.size());
  std::fwrite(key, 1, kKeyBytes, out);
  std::fwrite(&n, 1, 4, out);
  std::fwrite(value.data(), 1, value.size(), out);
}

// k-way merge of the same partition of several runs; calls emit(key, value) in key order.
template <class Emit>
void merge_partition(const std::vector<Run>& runs, size_t partition, Emit&& emit) {
  std::vector<std::unique_ptr<SegmentReader>> readers;
  for (const Run& r : runs) {
    if (r.index[partition].length == 0) continue;
    auto rd = std::make_unique<SegmentReader>(r.path, r.index[partition]);
    if (rd->next()) readers.push_back(std::move(rd));
  }
  auto later = [&](size_t a, size_t b) {
    int c = std::memcmp(readers[a]->key().data(), readers[b]->key().data(), kKeyBytes);
    return c != 0 ? c > 0 : a > b;
  };
  std::priority_queue<size_t, std::vector<size_t>, decltype(later)> heap(later);
  for (size_t i = 0; i < readers.size(); ++i) heap.push(i);
  while (!heap.empty()) {
    size_t i = heap.top();
    heap.pop();
    emit(readers[i]->key(), readers[i]->value());
    if (readers[i]->next()) heap.push(i);
  }
}

// Merges runs into one run (all partitions).
Run merge_runs(const std::vector<Run>& runs, size_t partitions, const fs::path& out_path, uint64_t& bytes) {
  Run out{out_path, std::vector<Segment>(partitions)};
  File f(out_path, "wb");
  uint64_t pos = 0;
  for (size_t p = 0; p < partitions; ++p) {
    out.index[p].offset = pos;
    merge_partition(runs, p, [&](const Key& k, const std::string& v) {
      write_record(f.f, k.data(), v);
      pos += kKeyBytes + 4 + v.size();
    });
    out.index[p].length = pos - out.index[p].offset;
  }
  bytes += pos;
  for (const Run& r : runs) fs::remove(r.path);
  return out;
}

struct Input {
  fs::path path;
  std::string station;
  int year;
  ndbc::Variable variable;
};

struct Shared {
  const MapReduceOptions* opt;
  fs::path tmp;
  size_t partitions;
  std::atomic<uint64_t> spills{0}, spilled_records{0}, spilled_bytes{0};
};

size_t partition_of(const Key& k, size_t partitions) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < kStationBytes + 2; ++i) h = (h ^ static_cast<unsigned char>(k[i])) * 0x100000001b3ULL;
  return mix(h) % partitions;
}

// One map task: parse a file, collect records into the sort buffer, spill, merge the spills.
Result<Run> map_task(const Input& in, size_t task, Shared& sh) {
  auto file = ndbc::read_spectral_file(in.path);
  if (!file.ok()) return file.status();
  struct Meta {
    uint32_t partition;
    uint32_t length;  // of the whole record
    uint64_t offset;
  };
  std::string kvbuf;
  std::vector<Meta> meta;
  std::vector<Run> spills;
  const size_t threshold = static_cast<size_t>(static_cast<double>(sh.opt->sort_buffer_bytes) * sh.opt->spill_percent);
  auto spill = [&]() {
    if (meta.empty()) return;
    std::sort(meta.begin(), meta.end(), [&](const Meta& a, const Meta& b) {
      if (a.partition != b.partition) return a.partition < b.partition;
      return std::memcmp(kvbuf.data() + a.offset, kvbuf.data() + b.offset, kKeyBytes) < 0;
    });
    Run run{sh.tmp / ("map" + std::to_string(task) + "_spill" + std::to_string(spills.size()) + ".out"),
            std::vector<Segment>(sh.partitions)};
    File f(run.path, "wb");
    uint64_t pos = 0;
    size_t m = 0;
    for (size_t p = 0; p < sh.partitions; ++p) {
      run.index[p].offset = pos;
      for (; m < meta.size() && meta[m].partition == p; ++m) {
        std::fwrite(kvbuf.data() + meta[m].offset, 1, meta[m].length, f.f);
        pos += meta[m].length;
      }
      run.index[p].length = pos - run.index[p].offset;
    }
    sh.spills += 1;
    sh.spilled_records += meta.size();
    sh.spilled_bytes += pos;
    spills.push_back(std::move(run));
    kvbuf.clear();
    meta.clear();
  };
  Key key{};
  std::memcpy(key.data(), in.station.data(), std::min(in.station.size(), kStationBytes));
  put_be(key.data() + kStationBytes, static_cast<uint64_t>(in.year), 2);
  const uint32_t nf = static_cast<uint32_t>(file->freqs.size());
  for (size_t r = 0; r < file->rows(); ++r) {
    put_be(key.data() + kStationBytes + 2, file->times[r], 8);
    auto row = file->row(r);
    const uint32_t n = static_cast<uint32_t>(row.size());
    const bool density = in.variable == ndbc::Variable::kDensity;
    const uint32_t vlen = 1 + 4 + 8 * n + (density ? 4 + 8 * nf : 0);
    Meta m{static_cast<uint32_t>(partition_of(key, sh.partitions)), static_cast<uint32_t>(kKeyBytes + 4 + vlen), kvbuf.size()};
    kvbuf.append(key.data(), kKeyBytes);
    kvbuf.append(reinterpret_cast<const char*>(&vlen), 4);
    kvbuf.push_back(static_cast<char>(in.variable));
    kvbuf.append(reinterpret_cast<const char*>(&n), 4);
    kvbuf.append(reinterpret_cast<const char*>(row.data()), 8 * n);
    if (density) {
      kvbuf.append(reinterpret_cast<const char*>(&nf), 4);
      kvbuf.append(reinterpret_cast<const char*>(file->freqs.data()), 8 * nf);
    }
    meta.push_back(m);
    if (kvbuf.size() + meta.size() * sizeof(Meta) >= threshold) spill();
  }
  spill();
  if (spills.empty()) {  // an empty file still has an (empty) map output
    Run run{sh.tmp / ("map" + std::to_string(task) + ".out"), std::vector<Segment>(sh.partitions)};
    File f(run.path, "wb");
    return run;
  }
  // Merge the spills io.sort.factor at a time until one sorted output remains.
  uint64_t bytes = 0;
  size_t pass = 0;
  while (spills.size() > 1) {
    size_t k = std::min<size_t>(std::max(2u, sh.opt->merge_factor), spills.size());
    std::vector<Run> batch(std::make_move_iterator(spills.begin()), std::make_move_iterator(spills.begin() + k));
    spills.erase(spills.begin(), spills.begin() + k);
    fs::path out = sh.tmp / ("map" + std::to_string(task) + "_merge" + std::to_string(pass++) + ".out");
    spills.push_back(merge_runs(batch, sh.partitions, out, bytes));
  }
  sh.spilled_bytes += bytes;
  return std::move(spills.front());
}

// One reduce task: merge partition p of every map output and reduce each key.
std::vector<ndbc::GroupResult> reduce_task(const std::vector<Run>& outputs, size_t p, int directions, uint64_t& calls) {
  std::vector<ndbc::GroupResult> groups;
  const ndbc::Directions dirs(directions);
  std::vector<double> last_freqs, widths;
  Key current{};
  bool have = false;
  std::vector<std::string> values;
  std::array<std::vector<double>, ndbc::kVariables> rows;
  std::vector<double> freqs;
  Key group_key{};
  auto reduce = [&]() {
    ++calls;
    if (groups.empty() || std::memcmp(group_key.data(), current.data(), kStationBytes + 2) != 0) {
      std::memcpy(group_key.data(), current.data(), kStationBytes + 2);
      ndbc::GroupResult g;
      g.station.assign(current.data(), strnlen(current.data(), kStationBytes));
      g.year = static_cast<int>(get_be(current.data() + kStationBytes, 2));
      groups.push_back(std::move(g));
    }
    ndbc::GroupResult& g = groups.back();
    std::array<int, ndbc::kVariables> count{};
    uint32_t bands = 0;
    for (const std::string& v : values) {
      int var = static_cast<unsigned char>(v[0]);
      if (var >= ndbc::kVariables) continue;
      if (count[var]++ > 0) continue;
      uint32_t n = 0;
      std::memcpy(&n, v.data() + 1, 4);
      rows[var].resize(n);
      std::memcpy(rows[var].data(), v.data() + 5, 8 * size_t{n});
      if (var == 0) {
        uint32_t nf = 0;
        std::memcpy(&nf, v.data() + 5 + 8 * size_t{n}, 4);
        freqs.resize(nf);
        std::memcpy(freqs.data(), v.data() + 9 + 8 * size_t{n}, 8 * size_t{nf});
        bands = nf;
      }
    }
    bool duplicate = false;
    int present = 0;
    for (int c : count) {
      duplicate |= c > 1;
      present += c > 0;
    }
    if (duplicate) return void(++g.dropped_duplicate);
    if (present < ndbc::kVariables) return void(++g.dropped_missing_variable);
    for (const auto& r : rows) {
      if (r.size() != bands) return void(++g.dropped_band_mismatch);
    }
    if (freqs != last_freqs) {
      last_freqs = freqs;
      widths = ndbc::band_widths(freqs);
    }
    g.add(ndbc::integrate_spectrum({rows[0], rows[1], rows[2], rows[3], rows[4]}, widths, dirs));
  };
  merge_partition(outputs, p, [&](const Key& k, const std::string& v) {
    if (have && k != current) {
      reduce();
      values.clear();
    }
    current = k;
    have = true;
    values.push_back(v);
  });
  if (have) reduce();
  return groups;
}

// Runs fn(i) for i in [0, n) on `slots` threads; returns the first error.
template <class Fn>
Status run_pool(size_t n, unsigned slots, Fn&& fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first;
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < std::max(1u, slots); ++t) {
    threads.emplace_back([&] {
      for (size_t i; (i = next.fetch_add(1)) < n;) {
        Status st = fn(i);
        if (!st.ok()) {
          std::lock_guard lock(mu);
          if (first.ok()) first = st;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  return first;
}

}  // namespace

Result<MapReduceResult> run_mapreduce(const fs::path& input_dir, const MapReduceOptions& opt) {
  using Clock = std::chrono::steady_clock;
  // The InputFormat: the files of the complete (station, year) groups, as ours takes them.
  std::map<std::pair<std::string, int>, std::vector<Input>> groups;
  std::error_code ec;
  for (fs::directory_iterator it(input_dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto k = ndbc::parse_file_name(it->path().filename().string());
    if (k) groups[{k->station, k->year}].push_back(Input{it->path(), k->station, k->year, k->variable});
  }
  if (ec) return Status::io_error("cannot list " + input_dir.string() + ": " + ec.message());
  std::vector<Input> inputs;
  for (auto& [key, files] : groups) {
    if (files.size() != ndbc::kVariables) continue;
    for (auto& f : files) inputs.push_back(std::move(f));
  }
  static std::atomic<int> counter{0};
  Shared sh;
  sh.opt = &opt;
  sh.partitions = std::max(1u, opt.reduce_tasks);
  sh.tmp = (opt.tmp_dir.empty() ? fs::temp_directory_path() : opt.tmp_dir) /
           ("ndbc-mr-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  fs::create_directories(sh.tmp, ec);
  if (ec) return Status::io_error("cannot create " + sh.tmp.string() + ": " + ec.message());

  MapReduceResult res;
  res.map_tasks = inputs.size();
  auto t0 = Clock::now();
  std::vector<Run> outputs(inputs.size());
  Status st = run_pool(inputs.size(), opt.map_slots, [&](size_t i) -> Status {
    auto run = map_task(inputs[i], i, sh);
    if (!run.ok()) return run.status();
    outputs[i] = std::move(*run);
    return {};
  });
  auto t1 = Clock::now();
  std::vector<std::vector<ndbc::GroupResult>> parts(sh.partitions);
  std::vector<uint64_t> calls(sh.partitions, 0);
  if (st.ok()) {
    st = run_pool(sh.partitions, opt.reduce_tasks, [&](size_t p) -> Status {
      parts[p] = reduce_task(outputs, p, opt.directions, calls[p]);
      return {};
    });
  }
  auto t2 = Clock::now();
  fs::remove_all(sh.tmp, ec);
  if (!st.ok()) return st;
  for (size_t p = 0; p < sh.partitions; ++p) {
    res.reduce_calls += calls[p];
    for (auto& g : parts[p]) {
      res.spectra += g.spectra;
      res.groups.push_back(std::move(g));
    }
  }
  res.checksum = ndbc::checksum(res.groups);
  res.spills = sh.spills;
  res.spilled_records = sh.spilled_records;
  res.spilled_bytes = sh.spilled_bytes;
  res.map_seconds = std::chrono::duration<double>(t1 - t0).count();
  res.reduce_seconds = std::chrono::duration<double>(t2 - t1).count();
  return res;
}

}  // namespace chiron::bench
