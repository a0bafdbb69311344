#pragma once
// PutFlow: PUT /api/v1/channels/:name/files/*path (docs/platform-api.md "Files") as a fluxion
// graph on the kernel runtime (flux/runtime.h). Same answers, byte for byte, as the former
// single disk handler; the work is split where its state dependencies are:
//
//   flx files_receive                      net, stateless: the route; runs inline on the
//   >> files_authorize [req, res]          connection's net thread
//   flx files_authorize                    disk, stateless: session/token and channel lookups
//   -> files_hash [req, res, scope, path]  (database reads), path rules, ?from_sha256
//   -> files_commit [res, scope, path, blob]
//   -> files_reply [res, answer]
//   flx files_hash                         cpu, stateless: size limit, SHA-256, X-Chiron-Sha256
//   -> files_blob [req, res, scope, path, blob]
//   -> files_reply [res, answer]
//   flx files_blob                         disk, stateless: unchanged check, quota pre-check,
//   -> files_commit [res, scope, path, blob] the durable content-addressed blob (fsync) —
//   -> files_reply [res, saved, answer]     idempotent, so replicated over the disk threads
//   flx files_commit & files_versions      disk: the version transaction
//   -> files_notify [res, scope, saved]
//   -> files_reply [res, saved, answer]
//   flx files_notify & files_versions      net: the live `file` event
//   -> files_reply [res, saved]
//   flx files_reply                        net, stateless: the HTTP answer
//   -> null
//
// Why the tag: files_commit and files_notify share `files_versions`, one strand. PUT commits
// are serialised (SQLite has one writer anyway; on one strand they stop contending for its
// lock), and the live `file` events of PUTs leave in the order the PUTs committed — viewers
// never see a PUT's version 4 announced before a PUT's version 3, which two disk threads racing
// to publish could do. The guarantee covers PUTs only: DELETE and the commit that completes a
// chunked upload (POST .../uploads, PUT /api/v1/uploads/:id) are plain disk handlers in
// files_service.cc that commit and publish on their own thread, outside the strand, so their
// event may overtake (or be overtaken by) the event of a PUT committed just before (or after)
// them, on the same path too. Every event carries its `version`; a client keeps the highest.
// Everything else is stateless (its state is in the database or the content-addressed blob
// store) and is replicated. Refusals go straight to files_reply.
//
// Shutdown: once a save is committed its answer is the normal 201/200 + JSON, even when the
// kernel runtime stops before files_notify or files_reply can run (the error handler answers
// from the commit); the live event of such a save is then lost (logged nowhere, visible in
// the history). Other failures: 503 overloaded / unavailable, or 500 "internal error" with the
// cause logged, never sent.
//
// Thread-safe after start(); handle() is the route. Owned by FilesService; destroy it (it
// waits for the PUTs in flight) before the stores it borrows.

#include <cstdint>
#include <memory>

#include "common/result.h"
#include "net/router.h"
#include "service/access.h"
#include "service/live.h"
#include "store/blob_store.h"
#include "store/file_store.h"

namespace chiron::kernel {
class Runtime;
}  // namespace chiron::kernel
namespace chiron::flux {
class Registry;
}  // namespace chiron::flux

namespace chiron::store {

struct PutFlowDeps {
  service::Access& access;
  BlobStore& blobs;
  FileStore& files;
  service::LiveHub& hub;
  uint64_t max_put_bytes = 0;
};

class PutFlow {
 public:
  // Builds and starts the graph; registers it in `registry` when given (ids unique there).
  static Result<std::unique_ptr<PutFlow>> start(kernel::Runtime& runtime, PutFlowDeps deps, flux::Registry* registry);
  ~PutFlow();
  PutFlow(const PutFlow&) = delete;
  PutFlow& operator=(const PutFlow&) = delete;

  // The route handler: hands the request to files_receive; 503 when the graph refuses it.
  void handle(net::Request request, net::Responder responder);

  struct Impl;

 private:
  explicit PutFlow(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace chiron::store
