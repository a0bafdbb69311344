#include "push/syncer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "push/sha256.h"

namespace chiron::push {
namespace {

int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t ns_of(const struct timespec& ts) { return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec; }

}  // namespace

Syncer::Syncer(SyncOptions options, SharedIgnore& ignore, Progress& progress, TransportFactory make_transport)
    : options_(std::move(options)), ignore_(ignore), progress_(progress), make_transport_(std::move(make_transport)) {
  if (options_.jobs < 1) options_.jobs = 1;
  clients_.resize(static_cast<size_t>(options_.jobs));
}

Syncer::~Syncer() = default;

FilesClient& Syncer::client(size_t worker) {
  auto& c = clients_[worker];
  if (!c) {
    ClientHooks hooks;
    hooks.stop = &stop_;
    hooks.sleep = [this](int64_t ms) { return sleep_ms(ms); };
    hooks.on_retry = [this](int64_t delay, const std::string& why) { progress_.retrying(delay, why); };
    hooks.on_recovered = [this] { progress_.recovered(); };
    c = std::make_unique<FilesClient>(make_transport_(), options_.channel, options_.retry, std::move(hooks));
  }
  return *c;
}

bool Syncer::sleep_ms(int64_t ms) {
  std::unique_lock lock(qmu_);
  qcv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stop_.load(); });
  return !stop_.load();
}

void Syncer::request_stop() {
  {
    std::lock_guard lock(qmu_);
    stop_ = true;
  }
  qcv_.notify_all();
}

void Syncer::on_event(FsEvent event) {
  {
    std::lock_guard lock(qmu_);
    queue_.push_back(std::move(event));
  }
  qcv_.notify_all();
}

std::string Syncer::fatal() const {
  std::lock_guard lock(mu_);
  return fatal_;
}

void Syncer::report(const std::string& path, const std::string& what, const ApiReply& reply) {
  if (reply.status == 401 || reply.status == 403) {
    {
      std::lock_guard lock(mu_);
      if (fatal_.empty()) {
        fatal_ = "the server refused the push token for channel " + options_.channel + " (" + reply.describe() +
                 "); check --token and --channel";
      }
    }
    request_stop();
    return;
  }
  errors_++;
  progress_.error(path, what + ": " + reply.describe());
}

std::map<std::string, FileState> Syncer::remote_model() const {
  std::lock_guard lock(mu_);
  return remote_;
}

void Syncer::parallel(size_t n, const std::function<void(FilesClient&, size_t)>& fn) {
  const size_t workers = std::min<size_t>(clients_.size(), n);
  if (workers == 0) return;
  // Clients are created here, on this thread, so workers never touch clients_.
  for (size_t w = 0; w < workers; ++w) client(w);
  std::atomic<size_t> next{0};
  auto work = [&](size_t w) {
    for (size_t i; !stop_ && (i = next.fetch_add(1)) < n;) fn(*clients_[w], i);
  };
  std::vector<std::thread> threads;
  for (size_t w = 1; w < workers; ++w) threads.emplace_back(work, w);
  work(0);
  for (auto& t : threads) t.join();
}

std::vector<std::string> Syncer::walk() {
  std::vector<std::string> files;
  std::vector<std::string> stack{""};
  while (!stack.empty() && !stop_) {
    const std::string rel = std::move(stack.back());
    stack.pop_back();
    const std::string dir_abs = rel.empty() ? options_.root : options_.root + "/" + rel;
    ignore_.load_dir(options_.root, rel);
    DIR* d = ::opendir(dir_abs.c_str());
    if (!d) continue;
    while (dirent* e = ::readdir(d)) {
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string child = rel.empty() ? std::string(name) : rel + "/" + std::string(name);
      struct stat st {};
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (!ignore_.ignored(child, true)) stack.push_back(child);
      } else if (S_ISREG(st.st_mode) && !ignore_.ignored(child, false)) {
        files.push_back(child);
      }
    }
    ::closedir(d);
  }
  return files;
}

std::optional<FileState> Syncer::local_state(const std::string& path) {
  const std::string abs = options_.root + "/" + path;
  struct stat st {};
  if (::lstat(abs.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  if (ignore_.ignored(path, false)) return std::nullopt;
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(path);
    if (it != cache_.end() && it->second.size == static_cast<uint64_t>(st.st_size) &&
        it->second.mtime_ns == ns_of(st.st_mtim) && it->second.ctime_ns == ns_of(st.st_ctim) &&
        it->second.ino == st.st_ino) {
      return FileState{it->second.size, it->second.sha256};
    }
  }
  auto d = digest_file(abs, 0);
  if (!d.ok()) {
    // Gone (or replaced by a non-file) while we looked: absent. Still there but unreadable
    // (permissions, EMFILE, EIO): an error for this file, and the server's copy stays — an
    // unreadable file must never plan a delete.
    struct stat again {};
    if (::lstat(abs.c_str(), &again) != 0 || !S_ISREG(again.st_mode)) return std::nullopt;
    errors_++;
    progress_.error(path, d.status().message());
    std::lock_guard lock(mu_);
    if (auto it = remote_.find(path); it != remote_.end()) return it->second;
    return std::nullopt;
  }
  std::lock_guard lock(mu_);
  cache_[path] = {d->size, ns_of(st.st_mtim), ns_of(st.st_ctim), st.st_ino, d->sha256};
  return FileState{d->size, d->sha256};
}

void Syncer::sync_one(FilesClient& c, const std::string& path, const std::optional<FileState>& planned_local) {
  std::optional<FileState> local = planned_local;
  for (int attempt = 0; attempt < 3 && !stop_; ++attempt) {
    if (attempt > 0 || !local) local = local_state(path);
    std::optional<FileState> remote;
    Action a;
    {
      std::lock_guard lock(mu_);
      if (auto it = remote_.find(path); it != remote_.end()) remote = it->second;
      a = plan_file(path, local, remote, blobs_, options_.max_put_bytes);
    }
    progress_.set_current(path);
    const std::string abs = options_.root + "/" + path;
    auto record = [&](const FileState& s) {
      std::lock_guard lock(mu_);
      remote_[path] = s;
      blobs_.insert(s.sha256);
    };
    switch (a.kind) {
      case ActionKind::kNone:
        progress_.skipped();
        return;
      case ActionKind::kDelete: {
        auto r = c.remove(path);
        if (!r.ok()) {
          if (!stop_) progress_.error(path, r.status().message());
          if (!stop_) errors_++;
          return;
        }
        if (r->ok() || r->status == 404) {
          std::lock_guard lock(mu_);
          remote_.erase(path);
        } else {
          report(path, "delete", *r);
          return;
        }
        progress_.deleted(path);
        return;
      }
      case ActionKind::kCopy: {
        auto r = c.put_from(path, a.sha256);
        if (r.ok() && r->ok()) {
          record({a.size, a.sha256});
          progress_.uploaded(path, a.size, true);
          return;
        }
        if (!r.ok()) {
          if (!stop_) {
            errors_++;
            progress_.error(path, r.status().message());
          }
          return;
        }
        if (r->status != 404) {
          report(path, "copy", *r);
          return;
        }
        // blob_unknown: the server does not have it after all (history pruned, other channel).
        {
          std::lock_guard lock(mu_);
          blobs_.erase(a.sha256);
        }
        --attempt;  // not a change underneath: plan again with a body upload
        continue;
      }
      case ActionKind::kPut: {
        auto d = digest_file(abs, options_.max_put_bytes);
        if (!d.ok()) continue;  // vanished or grew: look again
        if (d->content.size() != d->size) continue;  // too big now: plan again (resumable)
        if (remote && remote->sha256 == d->sha256) {
          progress_.skipped();
          return;
        }
        auto r = c.put(path, d->content, d->sha256);
        if (!r.ok()) {
          if (!stop_) {
            errors_++;
            progress_.error(path, r.status().message());
          }
          return;
        }
        if (!r->ok()) {
          report(path, "upload", *r);
          return;
        }
        record({d->size, d->sha256});
        progress_.uploaded(path, d->size, false);
        return;
      }
      case ActionKind::kUpload: {
        auto r = c.upload(path, abs, a.size, a.sha256, nullptr);
        if (!r.ok()) {
          if (!stop_) {
            errors_++;
            progress_.error(path, r.status().message());
          }
          return;
        }
        if (r->status == 422 || (r->status == 400 && r->code == "checksum_mismatch")) continue;  // changed while uploading
        if (!r->ok()) {
          report(path, "upload", *r);
          return;
        }
        record({a.size, a.sha256});
        progress_.uploaded(path, a.size, false);
        return;
      }
    }
  }
  if (!stop_) {
    errors_++;
    progress_.error(path, "kept changing while being uploaded; will sync on its next change");
  }
}

void Syncer::sync_paths(const std::vector<std::string>& paths) {
  if (paths.empty()) return;
  progress_.set_state(SyncState::kSyncing);
  progress_.set_pending(paths.size());
  parallel(paths.size(), [&](FilesClient& c, size_t i) { sync_one(c, paths[i], std::nullopt); });
}

Status Syncer::reconcile() {
  progress_.set_state(SyncState::kScanning);
  auto listed = client(0).list();
  if (!listed.ok()) return std::move(listed).status().context("reconcile");
  std::map<std::string, FileState> remote;
  for (auto& f : *listed) remote[f.path] = f.state;
  {
    std::lock_guard lock(mu_);
    remote_ = remote;
    for (const auto& [p, s] : remote_) blobs_.insert(s.sha256);
  }
  const std::vector<std::string> files = walk();
  // Hash in parallel (the workers' clients stay idle here).
  std::vector<std::optional<FileState>> states(files.size());
  parallel(files.size(), [&](FilesClient&, size_t i) { states[i] = local_state(files[i]); });
  if (stop_) return Status::cancelled("stopping");
  std::map<std::string, FileState> local;
  for (size_t i = 0; i < files.size(); ++i) {
    if (states[i]) local[files[i]] = *states[i];
  }
  std::vector<Action> actions;
  {
    std::lock_guard lock(mu_);
    actions = plan_reconcile(local, remote, blobs_, options_.max_put_bytes);
  }
  size_t deletes = 0;
  for (const auto& a : actions) deletes += a.kind == ActionKind::kDelete;
  progress_.note("scan local=" + std::to_string(local.size()) + " remote=" + std::to_string(remote.size()) +
                 " upload=" + std::to_string(actions.size() - deletes) + " delete=" + std::to_string(deletes));
  progress_.set_state(SyncState::kSyncing);
  progress_.set_pending(actions.size());
  parallel(actions.size(), [&](FilesClient& c, size_t i) {
    const Action& a = actions[i];
    std::optional<FileState> l;
    if (a.kind != ActionKind::kDelete) l = FileState{a.size, a.sha256};
    sync_one(c, a.path, l);
  });
  if (stop_) return Status::cancelled("stopping");
  progress_.set_state(SyncState::kSynced);
  return Status();
}

void Syncer::run_watch() {
  Debouncer debouncer(options_.debounce_ms, options_.debounce_max_ms);
  while (!stop_) {
    bool rescan = false;
    std::deque<FsEvent> events;
    {
      std::unique_lock lock(qmu_);
      const int64_t due = debouncer.next_due_ms();
      auto ready = [&] { return stop_.load() || !queue_.empty(); };
      if (due == INT64_MAX) {
        qcv_.wait(lock, ready);
      } else {
        const int64_t wait = due - steady_ms();
        if (wait > 0) qcv_.wait_for(lock, std::chrono::milliseconds(wait), ready);
      }
      events.swap(queue_);
    }
    if (stop_) break;
    const int64_t now = steady_ms();
    for (auto& ev : events) {
      switch (ev.kind) {
        case FsEvent::kChanged:
          debouncer.touch(ev.path, now);
          break;
        case FsEvent::kMoved:
          debouncer.touch(ev.path, now);
          debouncer.touch(ev.to, now);
          break;
        case FsEvent::kRemovedDir: {
          std::lock_guard lock(mu_);
          const std::string prefix = ev.path + "/";
          for (auto it = remote_.lower_bound(prefix); it != remote_.end() && it->first.starts_with(prefix); ++it) {
            debouncer.touch(it->first, now);
          }
          break;
        }
        case FsEvent::kRescan:
          rescan = true;
          break;
      }
    }
    if (rescan) {
      (void)debouncer.take_all();  // the reconcile covers every path
      if (auto st = reconcile(); !st.ok() && !stop_) {
        progress_.error("(rescan)", st.message());
        errors_++;
      }
      continue;
    }
    auto due = debouncer.take_due(steady_ms());
    if (!due.empty()) {
      sync_paths(due);
      if (!stop_ && debouncer.pending() == 0) progress_.set_state(SyncState::kSynced);
    }
  }
}

}  // namespace chiron::push
