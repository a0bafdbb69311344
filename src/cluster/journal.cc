// Journal (journal.h): an append-only, checksummed, fsync'd log of job records, replayed
// on open and compacted by rewriting the live state.
//
// DESIGN. Record = u32 length | u32 crc32c(body) | body, body = u8 kind | u64 job | fields:
//   start      (1): str app | u32 n | n × str arg | i64 submitted_unix_ms | str type | str body
//   checkpoint (2): u64 seq (1, 2, … per job) | str type | str body
//   end        (3): u32 exit_code (two's complement) | str summary | i64 ended_unix_ms
// A record is made durable by one write(2) then fdatasync() before the call returns; the
// in-memory state changes only after that. A crash mid-append leaves a prefix of the last
// record (or, on some file systems, zeros): replay sees a header or body running past the end
// of the file, a CRC mismatch on the very last record, or a zero-filled tail, and truncates
// it. Anything else that fails to check — a CRC mismatch with records after it, a body that
// does not decode, a record that contradicts the state (checkpoint of an unknown job,
// duplicate start, …) — is corruption: the file is kept as jobs.log.corrupt-<unix ms> (a
// hard link, so a crash never leaves no log) and a compacted log of what was read replaces it.
// Compaction writes jobs.log.tmp (unfinished jobs: start + last checkpoint; the last
// `keep_finished` finished ones in the order they ended: start + last checkpoint + end, so
// replaying it gives back exactly the state jobs() shows), fdatasyncs it, renames it over
// jobs.log and fsyncs the directory. After a failed fdatasync the journal refuses further
// appends (the page cache can no longer be trusted; reopen to recover). A LOCK file held with
// flock() keeps a second process (or a second open in this one) out.
// The CRC is wire.h's crc32c() (Castagnoli, as in the frames).
#include "cluster/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <mutex>

#include "cluster/wire.h"
#include "common/log.h"

namespace chiron::cluster {

namespace {

constexpr uint8_t kStart = 1;
constexpr uint8_t kCheckpoint = 2;
constexpr uint8_t kEnd = 3;
constexpr size_t kHeaderBytes = 8;
constexpr size_t kMaxRecordBytes = size_t{256} << 20;
constexpr const char* kLogName = "jobs.log";
constexpr const char* kTmpName = "jobs.log.tmp";

void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

void frame_record(std::string& out, std::string_view body) {
  put_u32(out, static_cast<uint32_t>(body.size()));
  put_u32(out, crc32c(body));
  out.append(body);
}

std::string start_body(const JournalJob& j, const KernelBlob& start_main) {
  ByteWriter w;
  w.u8(kStart);
  w.u64(j.job);
  w.str(j.app);
  w.u32(static_cast<uint32_t>(j.args.size()));
  for (const std::string& a : j.args) w.str(a);
  w.i64(j.submitted_unix_ms);
  w.str(start_main.type);
  w.str(start_main.body);
  return w.take();
}

std::string checkpoint_body(uint64_t job, uint64_t seq, const KernelBlob& main) {
  ByteWriter w;
  w.u8(kCheckpoint);
  w.u64(job);
  w.u64(seq);
  w.str(main.type);
  w.str(main.body);
  return w.take();
}

std::string end_body(uint64_t job, int32_t exit_code, std::string_view summary, int64_t ended_unix_ms) {
  ByteWriter w;
  w.u8(kEnd);
  w.u64(job);
  w.u32(static_cast<uint32_t>(exit_code));
  w.str(summary);
  w.i64(ended_unix_ms);
  return w.take();
}

// The state the records describe.
struct State {
  struct Entry {
    JournalJob job;
    KernelBlob start_main;
    uint64_t end_seq = 0;  // order of ending, for keep_finished
  };
  std::map<uint64_t, Entry> jobs;
  uint64_t ends = 0;

  // Applies one record body; an error means the body is corrupt or contradicts the state.
  Status apply(std::string_view body) {
    ByteReader r(body, kMaxRecordBytes);
    const uint8_t kind = r.u8();
    const uint64_t id = r.u64();
    switch (kind) {
      case kStart: {
        Entry e;
        e.job.job = id;
        e.job.app = r.str();
        uint32_t n = r.u32();
        // Each argument takes at least 4 bytes: a count beyond that is corrupt, not a reason
        // to reserve gigabytes.
        if (n > r.remaining() / 4) return Status::invalid_argument("start: " + std::to_string(n) + " arguments");
        for (uint32_t i = 0; i < n && r.ok(); ++i) e.job.args.push_back(r.str());
        e.job.submitted_unix_ms = r.i64();
        e.start_main.type = r.str();
        e.start_main.body = r.str();
        CHIRON_RETURN_IF_ERROR(r.status().context("start"));
        if (jobs.count(id) != 0) return Status::invalid_argument("start of job " + std::to_string(id) + " again");
        e.job.main = e.start_main;
        jobs.emplace(id, std::move(e));
        return {};
      }
      case kCheckpoint: {
        const uint64_t seq = r.u64();
        KernelBlob main;
        main.type = r.str();
        main.body = r.str();
        CHIRON_RETURN_IF_ERROR(r.status().context("checkpoint"));
        auto it = jobs.find(id);
        if (it == jobs.end()) return Status::invalid_argument("checkpoint of unknown job " + std::to_string(id));
        JournalJob& j = it->second.job;
        if (j.exit_code) return Status::invalid_argument("checkpoint of ended job " + std::to_string(id));
        if (seq <= j.checkpoints) return Status::invalid_argument("checkpoint " + std::to_string(seq) + " out of order");
        j.checkpoints = seq;
        j.main = std::move(main);
        return {};
      }
      case kEnd: {
        const auto code = static_cast<int32_t>(r.u32());
        std::string summary = r.str();
        const int64_t ended = r.i64();
        CHIRON_RETURN_IF_ERROR(r.status().context("end"));
        auto it = jobs.find(id);
        if (it == jobs.end()) return Status::invalid_argument("end of unknown job " + std::to_string(id));
        JournalJob& j = it->second.job;
        if (j.exit_code) return Status::invalid_argument("end of ended job " + std::to_string(id));
        j.exit_code = code;
        j.summary = std::move(summary);
        j.ended_unix_ms = ended;
        it->second.end_seq = ++ends;
        return {};
      }
      default:
        return Status::invalid_argument("unknown record kind " + std::to_string(kind));
    }
  }

  // The compacted log (see DESIGN); `dropped` gets the finished jobs it leaves out.
  std::string compact(size_t keep_finished, std::vector<uint64_t>& dropped) const {
    std::string out;
    std::vector<const Entry*> finished;
    for (const auto& [id, e] : jobs) {
      if (e.job.exit_code) {
        finished.push_back(&e);
        continue;
      }
      frame_record(out, start_body(e.job, e.start_main));
      if (e.job.checkpoints > 0) frame_record(out, checkpoint_body(id, e.job.checkpoints, e.job.main));
    }
    std::sort(finished.begin(), finished.end(), [](const Entry* a, const Entry* b) { return a->end_seq < b->end_seq; });
    const size_t drop = finished.size() > keep_finished ? finished.size() - keep_finished : 0;
    for (size_t i = drop; i < finished.size(); ++i) {
      const Entry& e = *finished[i];
      frame_record(out, start_body(e.job, e.start_main));
      if (e.job.checkpoints > 0) frame_record(out, checkpoint_body(e.job.job, e.job.checkpoints, e.job.main));
      frame_record(out, end_body(e.job.job, *e.job.exit_code, e.job.summary, e.job.ended_unix_ms));
    }
    for (size_t i = 0; i < drop; ++i) dropped.push_back(finished[i]->job.job);
    return out;
  }
};

struct Replay {
  enum class Damage { kNone, kTorn, kCorrupt };
  Damage damage = Damage::kNone;
  size_t good_bytes = 0;  // the prefix of whole, valid records
  size_t records = 0;
  std::string what;       // for kCorrupt
};

bool all_zero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

Replay replay(std::string_view file, State& state) {
  Replay r;
  size_t off = 0;
  while (off < file.size()) {
    const std::string_view rest = file.substr(off);
    if (rest.size() < kHeaderBytes || all_zero(rest)) {
      r.damage = Replay::Damage::kTorn;
      break;
    }
    const uint32_t len = get_u32(rest.data());
    const uint32_t crc = get_u32(rest.data() + 4);
    if (len > kMaxRecordBytes) {
      r.damage = Replay::Damage::kCorrupt;
      r.what = "record length " + std::to_string(len) + " over the limit";
      break;
    }
    if (len > rest.size() - kHeaderBytes) {
      r.damage = Replay::Damage::kTorn;
      break;
    }
    const std::string_view body = rest.substr(kHeaderBytes, len);
    const bool last = kHeaderBytes + len == rest.size();
    if (crc32c(body) != crc) {
      if (last) {
        r.damage = Replay::Damage::kTorn;
      } else {
        r.damage = Replay::Damage::kCorrupt;
        r.what = "checksum mismatch";
      }
      break;
    }
    if (Status st = state.apply(body); !st.ok()) {
      r.damage = Replay::Damage::kCorrupt;
      r.what = st.message();
      break;
    }
    off += kHeaderBytes + len;
    r.good_bytes = off;
    ++r.records;
  }
  return r;
}

int64_t now_unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

Status write_all(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno("write " + what, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Result<std::string> read_file(const std::filesystem::path& p) {
  Fd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::string();
    return Status::from_errno("open " + p.string(), errno);
  }
  std::string out;
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::from_errno("read " + p.string(), errno);
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

Status fsync_dir(const std::filesystem::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return Status::from_errno("open " + dir.string(), errno);
  if (::fsync(fd.get()) != 0) return Status::from_errno("fsync " + dir.string(), errno);
  return {};
}

}  // namespace

struct Journal::Impl {
  std::filesystem::path dir;
  std::filesystem::path log_path;
  JournalOptions options;
  Fd lock_fd;
  std::mutex mu;
  Fd fd;                           // Guarded by mu: jobs.log, O_APPEND
  uint64_t size = 0;               // Guarded by mu
  uint64_t size_after_compact = 0;  // Guarded by mu: the auto-compaction baseline
  State state;                     // Guarded by mu
  Status broken;                   // Guarded by mu: set after a failed fdatasync
  std::string note;                // set by open()

  Status sync(int f, const char* what) {
    if (!options.fsync) return {};
    if (::fdatasync(f) != 0) return Status::from_errno(std::string("fdatasync ") + what, errno);
    return {};
  }

  // Writes `bytes` as the whole new log (see DESIGN) and switches to it.
  Status rewrite(const std::string& bytes) {
    const std::filesystem::path tmp = dir / kTmpName;
    Fd f(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600));
    if (f.get() < 0) return Status::from_errno("open " + tmp.string(), errno);
    Status st = write_all(f.get(), bytes, tmp.string());
    if (st.ok()) st = sync(f.get(), kTmpName);
    if (!st.ok()) {
      ::unlink(tmp.c_str());
      return st;
    }
    if (::rename(tmp.c_str(), log_path.c_str()) != 0) {
      st = Status::from_errno("rename " + tmp.string(), errno);
      ::unlink(tmp.c_str());
      return st;
    }
    fd = std::move(f);
    size = bytes.size();
    size_after_compact = size;
    if (options.fsync) CHIRON_RETURN_IF_ERROR(fsync_dir(dir));
    return {};
  }

  // Rewrites the log with the live state and forgets the finished jobs it left out.
  Status compact_locked() {
    CHIRON_RETURN_IF_ERROR(broken);
    std::vector<uint64_t> dropped;
    CHIRON_RETURN_IF_ERROR(rewrite(state.compact(options.keep_finished, dropped)).context("journal compaction"));
    for (uint64_t id : dropped) state.jobs.erase(id);
    return {};
  }

  // Appends one record durably, then applies it.
  Status append(const std::string& body) {
    CHIRON_RETURN_IF_ERROR(broken);
    if (body.size() > kMaxRecordBytes) {
      return Status::invalid_argument("journal record of " + std::to_string(body.size()) + " bytes is over the limit");
    }
    std::string rec;
    rec.reserve(kHeaderBytes + body.size());
    frame_record(rec, body);
    if (Status st = write_all(fd.get(), rec, log_path.string()); !st.ok()) {
      // Cut a partial record off so the next append does not land behind garbage.
      if (::ftruncate(fd.get(), static_cast<off_t>(size)) != 0) broken = st;
      return st;
    }
    size += rec.size();
    if (Status st = sync(fd.get(), kLogName); !st.ok()) {
      broken = Status::failed_precondition("journal unusable after a failed fdatasync, reopen it: " + st.message());
      return st;
    }
    Status applied = state.apply(body);
    CHIRON_CHECK(applied.ok(), applied.to_string());
    if (size > options.compact_bytes && size >= 2 * size_after_compact) {
      if (Status st = compact_locked(); !st.ok()) {
        log::warn("journal", "compaction failed", {{"error", st.to_string()}});
      }
    }
    return {};
  }
};

Journal::Journal(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Journal::~Journal() = default;

Result<std::unique_ptr<Journal>> Journal::open(const std::filesystem::path& dir, JournalOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  impl->log_path = dir / kLogName;
  impl->options = options;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::io_error("create " + dir.string() + ": " + ec.message());

  const std::filesystem::path lock_path = dir / "LOCK";
  impl->lock_fd = Fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (impl->lock_fd.get() < 0) return Status::from_errno("open " + lock_path.string(), errno);
  if (::flock(impl->lock_fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Status::failed_precondition("journal " + dir.string() + " is open elsewhere");
    return Status::from_errno("flock " + lock_path.string(), errno);
  }
  ::unlink((dir / kTmpName).c_str());  // a compaction that did not finish

  Result<std::string> file = read_file(impl->log_path);
  if (!file.ok()) return std::move(file).status();
  const bool existed = std::filesystem::exists(impl->log_path);
  Replay r = replay(*file, impl->state);

  if (r.damage == Replay::Damage::kCorrupt) {
    std::string aside = std::string(kLogName) + ".corrupt-" + std::to_string(now_unix_ms());
    for (int n = 1; ::link(impl->log_path.c_str(), (dir / aside).c_str()) != 0; ++n) {
      if (errno != EEXIST || n > 100) return Status::from_errno("keep " + aside, errno);
      aside = std::string(kLogName) + ".corrupt-" + std::to_string(now_unix_ms()) + "-" + std::to_string(n);
    }
    impl->note = "corrupt record at offset " + std::to_string(r.good_bytes) + " (" + r.what + "): kept the file as " +
                 aside + ", " + std::to_string(r.records) + " records before it kept, " +
                 std::to_string(file->size() - r.good_bytes) + " bytes dropped";
    log::warn("journal", impl->note, {{"dir", dir.string()}});
    CHIRON_RETURN_IF_ERROR(impl->compact_locked().context("journal repair"));
  } else {
    impl->fd = Fd(::open(impl->log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600));
    if (impl->fd.get() < 0) return Status::from_errno("open " + impl->log_path.string(), errno);
    impl->size = r.good_bytes;
    if (r.damage == Replay::Damage::kTorn) {
      impl->note = "truncated " + std::to_string(file->size() - r.good_bytes) + " bytes of a torn record at offset " +
                   std::to_string(r.good_bytes);
      log::warn("journal", impl->note, {{"dir", dir.string()}});
      if (::ftruncate(impl->fd.get(), static_cast<off_t>(r.good_bytes)) != 0) {
        return Status::from_errno("truncate " + impl->log_path.string(), errno);
      }
      CHIRON_RETURN_IF_ERROR(impl->sync(impl->fd.get(), kLogName));
    }
    if (!existed && options.fsync) CHIRON_RETURN_IF_ERROR(fsync_dir(dir));
    // The baseline of the doubling rule is unknown for a file written before: a big one is
    // compacted at the first append.
    impl->size_after_compact = 0;
  }
  return std::unique_ptr<Journal>(new Journal(std::move(impl)));
}

Status Journal::start(const JournalJob& job) {
  std::lock_guard lock(impl_->mu);
  if (impl_->state.jobs.count(job.job) != 0) {
    return Status::already_exists("job " + std::to_string(job.job) + " is in the journal");
  }
  return impl_->append(start_body(job, job.main));
}

Status Journal::checkpoint(uint64_t job, const KernelBlob& main) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->state.jobs.find(job);
  if (it == impl_->state.jobs.end()) return Status::not_found("job " + std::to_string(job) + " is not in the journal");
  if (it->second.job.exit_code) return Status::failed_precondition("job " + std::to_string(job) + " has ended");
  return impl_->append(checkpoint_body(job, it->second.job.checkpoints + 1, main));
}

Status Journal::end(uint64_t job, int32_t exit_code, const std::string& summary, int64_t ended_unix_ms) {
  std::lock_guard lock(impl_->mu);
  auto it = impl_->state.jobs.find(job);
  if (it == impl_->state.jobs.end()) return Status::not_found("job " + std::to_string(job) + " is not in the journal");
  if (it->second.job.exit_code) return Status::failed_precondition("job " + std::to_string(job) + " has ended");
  return impl_->append(end_body(job, exit_code, summary, ended_unix_ms));
}

Status Journal::compact() {
  std::lock_guard lock(impl_->mu);
  return impl_->compact_locked();
}

std::vector<JournalJob> Journal::jobs() const {
  std::lock_guard lock(impl_->mu);
  std::vector<JournalJob> out;
  for (const auto& [id, e] : impl_->state.jobs) {
    if (!e.job.exit_code) out.push_back(e.job);
  }
  for (const auto& [id, e] : impl_->state.jobs) {
    if (e.job.exit_code) out.push_back(e.job);
  }
  return out;
}

std::vector<JournalJob> Journal::unfinished() const {
  std::lock_guard lock(impl_->mu);
  std::vector<JournalJob> out;
  for (const auto& [id, e] : impl_->state.jobs) {
    if (!e.job.exit_code) out.push_back(e.job);
  }
  return out;
}

uint64_t Journal::file_bytes() const {
  std::lock_guard lock(impl_->mu);
  return impl_->size;
}

std::string Journal::recovery_note() const { return impl_->note; }

}  // namespace chiron::cluster
