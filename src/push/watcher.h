#pragma once
// Watcher: recursive inotify(7) watch of a project tree, reporting what may have changed.
//
// DESIGN
// - Every directory that is not ignored gets a watch (IN_CREATE, IN_MODIFY, IN_CLOSE_WRITE,
//   IN_MOVED_FROM/TO, IN_DELETE, IN_DELETE_SELF, IN_ATTRIB; IN_ONLYDIR|IN_DONT_FOLLOW). A new
//   directory is watched first and scanned right after, so a file created in it before the watch
//   existed (`mkdir -p a/b/c && echo x > a/b/c/f`: the race the paper's script lost, §8.2) is
//   reported by the scan, and one created after by its event (duplicates are harmless: the engine
//   syncs what is on disk when it gets to the path).
// - IN_Q_OVERFLOW (events were lost, §8.2's other assumption): every directory is re-watched and
//   a kRescan is reported (the engine reconciles the whole tree).
// - Moves are paired by cookie within a read batch (plus a short wait for the second half); a
//   moved directory keeps its watches (inotify follows the inode), its paths are renamed and its
//   subtree rescanned; a move out of the tree is a delete, a move into it a create.
// - Symbolic links are never followed: not to directories (IN_DONT_FOLLOW, lstat on walks), not
//   to files (the engine syncs regular files only); a link's target outside the project is never
//   read, and a link loop cannot hang a walk.
// - Ignored directories are not watched; a change to a .gitignore/.chironignore reloads its rules
//   and triggers a rescan.
// Threading: run() blocks in the caller's thread (the watcher thread) until stop(); events go to
// the sink from that thread. stop() and inject_overflow() are thread-safe.

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "common/result.h"
#include "push/ignore.h"

namespace chiron::push {

// The ignore rules shared by the watcher and the engine (reloaded by the watcher thread).
struct SharedIgnore {
  mutable std::shared_mutex mu;
  IgnoreTree tree;  // Guarded by mu
  bool ignored(std::string_view path, bool is_dir) const {
    std::shared_lock lock(mu);
    return tree.ignored(path, is_dir);
  }
  void load_dir(const std::string& root, const std::string& dir) {
    std::unique_lock lock(mu);
    tree.load_dir(root, dir);
  }
};

struct FsEvent {
  enum Kind { kChanged, kRemovedDir, kMoved, kRescan } kind;
  std::string path;  // relative to the root
  std::string to;    // kMoved: the new path
};

class Watcher {
 public:
  using Sink = std::function<void(FsEvent)>;
  // root: absolute path of the project directory.
  Watcher(std::string root, SharedIgnore& ignore, Sink sink);
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Creates the inotify instance and watches the whole tree (no events for existing files).
  Status start();
  // Reads and handles events until stop().
  void run();
  void stop();
  // Test hook: behave as if the kernel had reported IN_Q_OVERFLOW.
  void inject_overflow();
  // Test hook: while set, events read from the kernel are thrown away (simulates lost events).
  void set_drop_events(bool drop) { drop_events_ = drop; }

  size_t watch_count() const;

 private:
  void handle_batch(const char* buf, size_t len);
  void handle_event(int wd, uint32_t mask, uint32_t cookie, const std::string& name);
  // Watches `rel` and every directory under it; reports files found when `report` is set.
  void watch_tree(const std::string& rel, bool report);
  void forget_tree(const std::string& rel);
  void rename_tree(const std::string& from, const std::string& to);
  void flush_pending_moves();
  void rescan();
  std::string abs(const std::string& rel) const { return rel.empty() ? root_ : root_ + "/" + rel; }

  std::string root_;
  SharedIgnore& ignore_;
  Sink sink_;
  int fd_ = -1;
  int wake_fd_ = -1;  // eventfd: stop() and inject_overflow() wake run()
  std::atomic<bool> stop_{false};
  std::atomic<bool> overflow_{false};
  std::atomic<bool> drop_events_{false};
  mutable std::mutex mu_;  // guards the maps for watch_count() from other threads
  std::unordered_map<int, std::string> wd_path_;  // Guarded by mu_
  std::map<std::string, int> path_wd_;            // Guarded by mu_
  struct PendingMove {
    std::string path;
    bool is_dir;
  };
  std::map<uint32_t, PendingMove> pending_moves_;  // cookie → IN_MOVED_FROM half
};

}  // namespace chiron::push
