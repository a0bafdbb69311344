#include "store/put_flow.h"

#include <optional>
#include <string>
#include <utility>

#include "common/check.h"
#include "common/log.h"
#include "common/sha256.h"
#include "common/strings.h"
#include "flux/runtime.h"
#include "service/http.h"
#include "store/files_common.h"

namespace chiron::store {

namespace {

// The graph refused a message: a full mailbox (kResourceExhausted) asks the client to come back;
// anything else means the runtime is stopping.
net::Response refused_response(StatusCode code) {
  if (code == StatusCode::kResourceExhausted) {
    net::Response r = net::Response::error(503, "overloaded", "the file store is busy; try again");
    r.headers.set("Retry-After", "1");
    return r;
  }
  return net::Response::error(503, "unavailable", "server is shutting down");
}

using flux::Emitter;
using flux::FluxionSpec;
using flux::Stream;
using flux::StreamType;
using kernel::Device;

// The request record travelling the graph (moved from stage to stage, never copied).
struct PutMsg {
  net::Request req;
  net::Responder res;
  std::string path;
  std::optional<Scope> scope;
  BlobInfo blob;
  bool known_blob = false;  // ?from_sha256: the channel must already reference the blob
  SaveResult saved;
  bool committed = false;  // saved holds the outcome (a new version, or unchanged): answer it
  std::optional<net::Response> answer;  // set: the request is finished with this response
};

using Out = Emitter<PutMsg>;

Stream post(std::string dest, std::vector<std::string> vars) { return {StreamType::kPost, {std::move(dest)}, std::move(vars)}; }

net::Response answer_of(PutMsg& m) {
  if (m.answer) return std::move(*m.answer);
  return service::json_response(m.saved.unchanged ? 200 : 201, save_json(m.saved));
}

// Hands the finished request to files_reply. files_reply is only the courier: if its mailbox
// is full the answer goes out from here, so a committed save is never answered 503.
Status finish(PutMsg& m, Out& out) {
  Status st = out.emit("files_reply", std::move(m));
  if (st.code() != StatusCode::kResourceExhausted) return st;
  m.res.send(answer_of(m));
  return Status();
}

// Ends the request early with an error: the answer travels to files_reply.
Status refuse(PutMsg& m, Out& out, const Status& st) {
  m.answer = service::error_response(st);
  return finish(m, out);
}

}  // namespace

struct PutFlow::Impl {
  Impl(kernel::Runtime& runtime, PutFlowDeps d, flux::Registry* registry)
      : deps(d), graph("files_put", runtime, {.queue_capacity = 256, .registry = registry}) {}

  PutFlowDeps deps;
  flux::Graph<PutMsg> graph;

  Status build();
  Status authorize(PutMsg& m, Out& out);
  Status hash(PutMsg& m, Out& out);
  Status blob(PutMsg& m, Out& out);
  Status commit(PutMsg& m, Out& out);
};

Status PutFlow::Impl::authorize(PutMsg& m, Out& out) {
  auto scope = store::authorize(deps.access, m.req, m.req.param("name"), true);
  if (!scope.ok()) return refuse(m, out, scope.status());
  if (Status st = path_error(m.path); !st.ok()) return refuse(m, out, st);
  m.scope = std::move(*scope);
  auto from = m.req.query_param("from_sha256");
  if (!from) return out.emit("files_hash", std::move(m));
  std::string sha = to_lower(*from);
  if (!is_sha256_hex(sha)) return refuse(m, out, Status::invalid_argument("from_sha256 must be 64 hex digits"));
  if (!m.req.body.empty()) return refuse(m, out, Status::invalid_argument("a PUT with from_sha256 has an empty body"));
  auto size = deps.blobs.size(sha);
  if (!size.ok()) {
    return refuse(m, out, service::api_status(StatusCode::kNotFound, "blob_unknown", "this channel has no blob " + sha));
  }
  m.blob = BlobInfo{std::move(sha), *size};
  m.known_blob = true;
  return out.emit("files_commit", std::move(m));
}

Status PutFlow::Impl::hash(PutMsg& m, Out& out) {
  if (m.req.body.size() > deps.max_put_bytes) {
    return refuse(m, out, service::api_status(StatusCode::kResourceExhausted, "too_large",
                                              "a PUT body is at most " + megabytes(deps.max_put_bytes) +
                                                  "; larger files go through POST .../uploads"));
  }
  std::string actual = sha256_hex(m.req.body);  // once: checked here, then the blob's address
  if (auto want = m.req.headers.get("X-Chiron-Sha256"); want && to_lower(*want) != actual) {
    return refuse(m, out, service::api_status(StatusCode::kInvalidArgument, "checksum_mismatch",
                                              "body hashes to " + actual + ", X-Chiron-Sha256 says " + std::string(*want)));
  }
  m.blob = BlobInfo{std::move(actual), m.req.body.size()};
  return out.emit("files_blob", std::move(m));
}

Status PutFlow::Impl::blob(PutMsg& m, Out& out) {
  auto staged = deps.files.stage(m.scope->writer(), m.path, m.req.body, m.blob.sha256);
  if (!staged.ok()) return refuse(m, out, staged.status());
  if (staged->unchanged) {
    m.saved = std::move(*staged->unchanged);
    m.committed = true;
    return finish(m, out);
  }
  m.blob = std::move(staged->blob);
  m.req.body.clear();
  m.req.body.shrink_to_fit();  // durable now: the content need not ride further
  return out.emit("files_commit", std::move(m));
}

Status PutFlow::Impl::commit(PutMsg& m, Out& out) {
  auto saved = deps.files.save_blob(m.scope->writer(), m.path, m.blob, m.known_blob);
  if (!saved.ok()) return refuse(m, out, saved.status());
  m.saved = std::move(*saved);
  m.committed = true;
  if (m.saved.unchanged) return finish(m, out);
  return out.emit("files_notify", std::move(m));
}

Status PutFlow::Impl::build() {
  auto& g = graph;
  CHIRON_RETURN_IF_ERROR(g.add(
      {.id = "files_receive",
       .device = Device::kNet,
       .streams = {{StreamType::kStart, {"files_authorize"}, {"req", "res"}}},
       .body = "router.put('/api/v1/channels/:name/files/*path', >> files_authorize)"},
      [](PutMsg& m, Out& out) {
        m.path = std::string(m.req.param("path"));
        return out.emit("files_authorize", std::move(m));
      }));
  CHIRON_RETURN_IF_ERROR(g.add({.id = "files_authorize",
                                .device = Device::kDisk,
                                .streams = {post("files_hash", {"req", "res", "scope", "path"}),
                                            post("files_commit", {"res", "scope", "path", "blob"}),
                                            post("files_reply", {"res", "answer"})},
                                .body = "scope = authorize(req, name, write)  // 401, 403, 404\n"
                                        "validate_path(path)                  // invalid_path\n"
                                        "if from_sha256: blob = known blob -> files_commit\n"
                                        "else -> files_hash"},
                               [this](PutMsg& m, Out& out) { return authorize(m, out); }));
  CHIRON_RETURN_IF_ERROR(g.add({.id = "files_hash",
                                .device = Device::kCpu,
                                .streams = {post("files_blob", {"req", "res", "scope", "path", "blob"}),
                                            post("files_reply", {"res", "answer"})},
                                .body = "body <= max_put_bytes                 // too_large\n"
                                        "blob = sha256(req.body)\n"
                                        "blob == X-Chiron-Sha256              // checksum_mismatch"},
                               [this](PutMsg& m, Out& out) { return hash(m, out); }));
  CHIRON_RETURN_IF_ERROR(g.add({.id = "files_blob",
                                .device = Device::kDisk,
                                .streams = {post("files_commit", {"res", "scope", "path", "blob"}),
                                            post("files_reply", {"res", "saved", "answer"})},
                                .body = "latest version == blob ? unchanged -> files_reply\n"
                                        "quota precheck                       // quota_exceeded\n"
                                        "blobs.put(req.body) + fsync          // content-addressed"},
                               [this](PutMsg& m, Out& out) { return blob(m, out); }));
  CHIRON_RETURN_IF_ERROR(g.add({.id = "files_commit",
                                .device = Device::kDisk,
                                .tags = {"files_versions"},
                                .streams = {post("files_notify", {"res", "scope", "saved"}),
                                            post("files_reply", {"res", "saved", "answer"})},
                                .body = "tx: version = latest + 1, quota, files limit\n"
                                        "saved = commit(scope, path, blob)"},
                               [this](PutMsg& m, Out& out) { return commit(m, out); }));
  CHIRON_RETURN_IF_ERROR(g.add({.id = "files_notify",
                                .device = Device::kNet,
                                .tags = {"files_versions"},
                                .streams = {post("files_reply", {"res", "saved"})},
                                .body = "hub.publish(channel, {type: 'file', ...saved})  // commit order",
                                // Never full: it shares files_commit's FIFO strand, so at most
                                // files_commit's capacity + 1 notifications wait at once.
                                .queue_capacity = 1024},
                               [this](PutMsg& m, Out& out) {
                                 deps.hub.publish(m.scope->channel.id, file_event(m.saved));
                                 return finish(m, out);
                               }));
  CHIRON_RETURN_IF_ERROR(g.add({.id = "files_reply",
                                .device = Device::kNet,
                                .body = "res.send(answer || json(saved.unchanged ? 200 : 201, saved))"},
                               [](PutMsg& m, Out&) {
                                 m.res.send(answer_of(m));
                                 return Status();
                               }));
  // Failures (an exception, the runtime stopping, a full mailbox downstream) still answer.
  g.on_error([](const flux::FluxionError& err, PutMsg& m) {
    if (!m.res) return;
    if (m.committed || m.answer) {
      // The outcome is decided — the version is committed (or the request refused): that is the
      // answer, whatever failed after (the strand's hop to files_notify when the runtime stops,
      // files_reply unreachable). The live `file` event of a commit whose files_notify never ran
      // is lost: the version is in the history, viewers see it on their next listing.
      if (m.committed && err.status.code() != StatusCode::kUnavailable) {
        log::warn("files", "PUT committed, then failed; answered from the commit",
                  {{"fluxion", std::string(err.fluxion)}, {"path", m.saved.path}, {"version", m.saved.version},
                   {"error", err.status.to_string()}});
      }
      m.res.send(answer_of(m));
    } else if (err.status.code() == StatusCode::kResourceExhausted || err.status.code() == StatusCode::kUnavailable) {
      m.res.send(refused_response(err.status.code()));
    } else {
      // An exception's what() may hold SQL or file paths: logged, never sent.
      log::error("files", "PUT failed", {{"fluxion", std::string(err.fluxion)}, {"error", err.status.to_string()}});
      m.res.send(net::Response::error(500, "internal", "internal error"));
    }
  });
  return g.start();
}

PutFlow::PutFlow(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PutFlow::~PutFlow() = default;

Result<std::unique_ptr<PutFlow>> PutFlow::start(kernel::Runtime& runtime, PutFlowDeps deps, flux::Registry* registry) {
  auto impl = std::make_unique<Impl>(runtime, deps, registry);
  CHIRON_RETURN_IF_ERROR(impl->build().context("files PUT graph"));
  return std::unique_ptr<PutFlow>(new PutFlow(std::move(impl)));
}

void PutFlow::handle(net::Request request, net::Responder responder) {
  PutMsg m;
  m.req = std::move(request);
  m.res = std::move(responder);
  Status st = impl_->graph.inject("files_receive", std::move(m));
  if (st.ok()) return;
  m.res.send(refused_response(st.code()));
}

}  // namespace chiron::store
