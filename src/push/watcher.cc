#include "push/watcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/log.h"

namespace chiron::push {
namespace {

constexpr uint32_t kMask = IN_CREATE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE |
                           IN_DELETE_SELF | IN_ATTRIB | IN_ONLYDIR | IN_DONT_FOLLOW;

std::string join(const std::string& dir, std::string_view name) {
  return dir.empty() ? std::string(name) : dir + "/" + std::string(name);
}

bool under(const std::string& path, const std::string& dir) {
  return path == dir || (path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/');
}

}  // namespace

Watcher::Watcher(std::string root, SharedIgnore& ignore, Sink sink)
    : root_(std::move(root)), ignore_(ignore), sink_(std::move(sink)) {}

Watcher::~Watcher() {
  if (fd_ >= 0) ::close(fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status Watcher::start() {
  fd_ = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd_ < 0) return Status::from_errno("inotify_init1", errno);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) return Status::from_errno("eventfd", errno);
  watch_tree("", false);
  if (path_wd_.empty()) return Status::io_error("cannot watch " + root_);
  return Status();
}

void Watcher::stop() {
  stop_ = true;
  const uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
}

void Watcher::inject_overflow() {
  overflow_ = true;
  const uint64_t one = 1;
  if (wake_fd_ >= 0) (void)!::write(wake_fd_, &one, sizeof one);
}

size_t Watcher::watch_count() const {
  std::lock_guard lock(mu_);
  return wd_path_.size();
}

void Watcher::run() {
  alignas(struct inotify_event) char buf[64 * 1024];
  while (!stop_) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
    // With a move half pending, wait only briefly for its other half.
    const int timeout = pending_moves_.empty() ? -1 : 20;
    const int n = ::poll(fds, 2, timeout);
    if (n < 0 && errno != EINTR) {
      log::error("push", "poll failed", {{"error", std::strerror(errno)}});
      return;
    }
    if (fds[1].revents & POLLIN) {
      uint64_t v;
      (void)!::read(wake_fd_, &v, sizeof v);
    }
    if (stop_) break;
    if (overflow_.exchange(false)) {
      pending_moves_.clear();
      rescan();
    }
    if (n == 0) {
      flush_pending_moves();
      continue;
    }
    if (fds[0].revents & POLLIN) {
      for (;;) {
        const ssize_t len = ::read(fd_, buf, sizeof buf);
        if (len <= 0) break;
        if (!drop_events_) handle_batch(buf, static_cast<size_t>(len));
      }
    }
  }
}

void Watcher::handle_batch(const char* buf, size_t len) {
  for (size_t off = 0; off + sizeof(inotify_event) <= len;) {
    const auto* ev = reinterpret_cast<const inotify_event*>(buf + off);
    std::string name = ev->len ? std::string(ev->name, ::strnlen(ev->name, ev->len)) : std::string();
    handle_event(ev->wd, ev->mask, ev->cookie, name);
    off += sizeof(inotify_event) + ev->len;
  }
}

void Watcher::handle_event(int wd, uint32_t mask, uint32_t cookie, const std::string& name) {
  if (mask & IN_Q_OVERFLOW) {
    log::warn("push", "inotify queue overflowed; rescanning");
    pending_moves_.clear();
    rescan();
    return;
  }
  std::string dir;
  {
    std::lock_guard lock(mu_);
    auto it = wd_path_.find(wd);
    if (it == wd_path_.end()) return;
    dir = it->second;
    if (mask & IN_IGNORED) {
      path_wd_.erase(it->second);
      wd_path_.erase(it);
      return;
    }
  }
  if (mask & IN_DELETE_SELF) return;  // the parent's IN_DELETE / IN_MOVED_FROM says where it was
  if (name.empty()) return;
  const std::string path = join(dir, name);
  const bool is_dir = mask & IN_ISDIR;

  if (mask & IN_MOVED_TO) {
    auto pending = pending_moves_.find(cookie);
    if (pending != pending_moves_.end()) {
      PendingMove from = std::move(pending->second);
      pending_moves_.erase(pending);
      if (from.is_dir) {
        rename_tree(from.path, path);
        sink_({FsEvent::kRemovedDir, from.path, {}});
        if (ignore_.ignored(path, true)) {
          forget_tree(path);
        } else {
          watch_tree(path, true);  // rewatch (same wds, new paths) and rescan the subtree
        }
      } else if (IgnoreTree::is_rule_file(name) || IgnoreTree::is_rule_file(from.path.substr(from.path.rfind('/') + 1))) {
        ignore_.load_dir(root_, dir);
        rescan();
      } else {
        sink_({FsEvent::kMoved, from.path, path});
      }
      return;
    }
  }
  if (mask & IN_MOVED_FROM) {
    pending_moves_[cookie] = {path, is_dir};
    return;
  }
  if (is_dir) {
    if (mask & (IN_CREATE | IN_MOVED_TO)) {
      if (!ignore_.ignored(path, true)) watch_tree(path, true);
    } else if (mask & IN_DELETE) {
      forget_tree(path);
      sink_({FsEvent::kRemovedDir, path, {}});
    }
    return;
  }
  if (IgnoreTree::is_rule_file(name)) {
    if (mask & (IN_CLOSE_WRITE | IN_DELETE | IN_MOVED_TO | IN_CREATE | IN_MODIFY)) {
      ignore_.load_dir(root_, dir);
      rescan();
    }
    return;
  }
  if (ignore_.ignored(path, false)) return;
  sink_({FsEvent::kChanged, path, {}});
}

void Watcher::flush_pending_moves() {
  // Halves with no partner: moved out of the tree (or the partner was lost) → gone.
  for (auto& [cookie, from] : pending_moves_) {
    if (from.is_dir) {
      forget_tree(from.path);
      sink_({FsEvent::kRemovedDir, from.path, {}});
    } else {
      const std::string name = from.path.substr(from.path.rfind('/') + 1);
      if (IgnoreTree::is_rule_file(name)) {
        const size_t slash = from.path.rfind('/');
        ignore_.load_dir(root_, slash == std::string::npos ? std::string() : from.path.substr(0, slash));
        rescan();
      } else {
        sink_({FsEvent::kChanged, from.path, {}});
      }
    }
  }
  pending_moves_.clear();
}

void Watcher::watch_tree(const std::string& top, bool report) {
  std::vector<std::string> stack{top};
  while (!stack.empty()) {
    const std::string rel = std::move(stack.back());
    stack.pop_back();
    const std::string dir_abs = abs(rel);
    // Watch first, then list: whatever appears after this line produces an event.
    const int wd = ::inotify_add_watch(fd_, dir_abs.c_str(), kMask);
    if (wd < 0) {
      if (errno == ENOSPC) {
        log::error("push", "inotify watch limit reached (raise fs.inotify.max_user_watches)", {{"dir", dir_abs}});
      } else if (errno != ENOENT && errno != ENOTDIR) {
        log::warn("push", "cannot watch directory", {{"dir", dir_abs}, {"error", std::strerror(errno)}});
      }
      continue;
    }
    {
      std::lock_guard lock(mu_);
      if (auto old = wd_path_.find(wd); old != wd_path_.end() && old->second != rel) path_wd_.erase(old->second);
      wd_path_[wd] = rel;
      path_wd_[rel] = wd;
    }
    ignore_.load_dir(root_, rel);
    DIR* d = ::opendir(dir_abs.c_str());
    if (!d) continue;
    while (dirent* e = ::readdir(d)) {
      const std::string_view name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string child = join(rel, name);
      struct stat st {};
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (!ignore_.ignored(child, true)) stack.push_back(child);
      } else if (S_ISREG(st.st_mode) && report && !IgnoreTree::is_rule_file(name) && !ignore_.ignored(child, false)) {
        sink_({FsEvent::kChanged, child, {}});
      }
    }
    ::closedir(d);
  }
}

void Watcher::forget_tree(const std::string& rel) {
  std::lock_guard lock(mu_);
  // "a-b" sorts between "a" and "a/x": skip siblings sharing the prefix.
  for (auto it = path_wd_.lower_bound(rel); it != path_wd_.end() && it->first.starts_with(rel);) {
    if (!under(it->first, rel)) {
      ++it;
      continue;
    }
    ::inotify_rm_watch(fd_, it->second);
    wd_path_.erase(it->second);
    it = path_wd_.erase(it);
  }
}

void Watcher::rename_tree(const std::string& from, const std::string& to) {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::string, int>> moved;
  for (auto it = path_wd_.lower_bound(from); it != path_wd_.end() && it->first.starts_with(from);) {
    if (!under(it->first, from)) {
      ++it;
      continue;
    }
    moved.emplace_back(to + it->first.substr(from.size()), it->second);
    it = path_wd_.erase(it);
  }
  for (auto& [path, wd] : moved) {
    wd_path_[wd] = path;
    path_wd_[path] = wd;
  }
}

void Watcher::rescan() {
  // Re-watch everything (inotify_add_watch on a watched directory returns its wd) and let the
  // engine reconcile the whole tree; stale watches of vanished directories go with IN_IGNORED.
  watch_tree("", false);
  sink_({FsEvent::kRescan, {}, {}});
}

}  // namespace chiron::push
