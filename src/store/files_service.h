#pragma once
// FilesService: the live code storage of docs/platform-api.md ("Files", "Comments") — content-
// addressed blobs on disk, versions/comments/uploads metadata in the platform Db, the HTTP
// routes, and live `file` / `comment` events.
//
// CONTRACT (owned by the store module; the platform wires it in src/platform/platform.cc).
// Internals (blob_store.h, file_store.h, paths.h, uploads, comments) are the module's own.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>

#include <boost/json/object.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "net/router.h"
#include "service/access.h"
#include "service/db.h"
#include "service/live.h"

namespace chiron::kernel {
class Runtime;
}  // namespace chiron::kernel
namespace chiron::flux {
class Registry;
}  // namespace chiron::flux

namespace chiron::store {

struct FilesOptions {
  std::filesystem::path data_dir;            // blobs under data_dir/blobs, uploads under data_dir/uploads
  uint64_t quota_bytes = 100ull << 20;       // per user (--quota-mb)
  uint64_t max_file_bytes = 256ull << 20;    // per file (--max-file-mb)
  uint64_t max_files = 10'000;               // live files per channel
  uint64_t max_put_bytes = 4ull << 20;       // single-request PUT; bigger goes through uploads
  uint64_t chunk_size = 4ull << 20;          // resumable upload chunk
  const Clock* clock = &Clock::system();     // borrowed; timestamps and upload expiry
  // Borrowed, outlives the service: the PUT path's fluxion graph (put_flow.h) registers here
  // (GET /api/v1/graph). Null: the graph runs unregistered.
  flux::Registry* graphs = nullptr;
};

// What a session did to the code; the review module shows it on past sessions.
struct SessionActivity {
  int64_t files_touched = 0;  // distinct paths with a version created during the session
  int64_t comments = 0;
};
// Reads it inside the caller's transaction (the review module calls it through a std::function
// the platform hands over, so neither module links the other).
Result<SessionActivity> session_activity(service::Tx& tx, int64_t session_id);

class FilesService {
 public:
  // Migrates the store's tables and prepares data_dir (blobs/, uploads/, tmp/).
  static Result<std::unique_ptr<FilesService>> open(service::Db& db, service::Access& access,
                                                    service::LiveHub& hub, FilesOptions options);
  virtual ~FilesService() = default;
  // Adds the routes of docs/platform-api.md "Files" and "Comments"; blocking work runs on
  // runtime's disk pipeline; PUT .../files/*path is the fluxion graph of put_flow.h. Once.
  virtual void register_routes(net::Router& router, kernel::Runtime& runtime) = 0;
  // Called after a comment is committed (the platform posts it into the channel's chat room).
  virtual void on_comment(std::function<void(const service::ChannelRef&, const boost::json::object& comment)> fn) = 0;
};

}  // namespace chiron::store
