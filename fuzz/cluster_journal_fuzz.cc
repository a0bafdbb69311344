// libFuzzer target for the job journal's replay (journal.h): the input is written as a
// journal file and opened. Open must never crash; what it kept must come back unchanged when
// the journal is opened again (repairs are final), and it must keep working: an appended job
// and a compaction survive another reopen.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "cluster/journal.h"
#include "common/log.h"

namespace {

namespace fs = std::filesystem;
using chiron::cluster::Journal;
using chiron::cluster::JournalJob;
using chiron::cluster::JournalOptions;

bool same(const std::vector<JournalJob>& a, const std::vector<JournalJob>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const JournalJob& x = a[i];
    const JournalJob& y = b[i];
    if (x.job != y.job || x.app != y.app || x.args != y.args || x.submitted_unix_ms != y.submitted_unix_ms ||
        x.main.type != y.main.type || x.main.body != y.main.body || x.checkpoints != y.checkpoints ||
        x.exit_code != y.exit_code || x.summary != y.summary || x.ended_unix_ms != y.ended_unix_ms) {
      return false;
    }
  }
  return true;
}

// One directory for the whole run (in memory where possible: unlink is slow on disk),
// removed at exit. The journal's repair warnings are silenced: most inputs are damaged.
fs::path g_dir;

void remove_work_dir() {
  std::error_code ec;
  fs::remove_all(g_dir, ec);
}

const fs::path& work_dir() {
  if (g_dir.empty()) {
    chiron::log::set_level(chiron::log::Level::kOff);
    fs::path base = ::access("/dev/shm", W_OK) == 0 ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string tmpl = (base / "chiron-journal-fuzz-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) __builtin_trap();
    g_dir = tmpl;
    std::atexit(remove_work_dir);
  }
  return g_dir;
}

std::unique_ptr<Journal> open_or_trap(const fs::path& dir, const JournalOptions& o) {
  auto j = Journal::open(dir, o);
  if (!j.ok()) __builtin_trap();
  return std::move(j).value();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path& dir = work_dir();
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) fs::remove(e.path(), ec);
  {
    std::ofstream out(dir / "jobs.log", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  // A small keep_finished so that the repair's compaction drops jobs too.
  const JournalOptions o{.compact_bytes = 1 << 20, .keep_finished = 3, .fsync = false};
  std::vector<JournalJob> first;
  {
    auto j = open_or_trap(dir, o);
    first = j->jobs();
    if (j->file_bytes() > size && j->recovery_note().empty()) __builtin_trap();
  }
  std::vector<JournalJob> expected;
  {
    auto j = open_or_trap(dir, o);
    if (!j->recovery_note().empty() || !same(j->jobs(), first)) __builtin_trap();
    std::set<uint64_t> taken;
    for (const JournalJob& job : first) taken.insert(job.job);
    uint64_t id = 1;
    while (taken.count(id) != 0) ++id;
    JournalJob extra;
    extra.job = id;
    extra.app = "fuzz";
    extra.main = {"fuzz.main", "state"};
    if (!j->start(extra).ok()) __builtin_trap();
    if (!j->checkpoint(id, {"fuzz.main", "later"}).ok()) __builtin_trap();
    if (!j->compact().ok()) __builtin_trap();
    expected = j->jobs();
  }
  auto j = open_or_trap(dir, o);
  if (!j->recovery_note().empty() || !same(j->jobs(), expected)) __builtin_trap();
  return 0;
}
