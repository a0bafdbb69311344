#include "push/push.h"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "push/progress.h"
#include "push/syncer.h"
#include "push/transport.h"
#include "push/watcher.h"

namespace chiron::push {
namespace {

class PushClientImpl final : public PushClient {
 public:
  PushClientImpl(PushOptions options, ServerUrl server, std::string root)
      : options_(std::move(options)),
        server_(std::move(server)),
        root_(std::move(root)),
        progress_(options_.quiet ? Progress::Mode::kQuiet
                  : (options_.progress == 1 || (options_.progress < 0 && ::isatty(STDOUT_FILENO)))
                      ? Progress::Mode::kTty
                      : Progress::Mode::kLines) {
    SyncOptions so;
    so.root = root_;
    so.channel = options_.channel;
    so.jobs = options_.jobs;
    so.debounce_ms = options_.debounce_ms;
    so.debounce_max_ms = options_.debounce_max_ms;
    so.retry.max_ms = options_.retry_max_ms;
    so.retry.max_attempts = options_.max_attempts;
    syncer_ = std::make_unique<Syncer>(so, ignore_, progress_, [this] {
      HttpOptions ho;
      ho.server = server_;
      ho.token = options_.token;
      ho.ca_file = options_.ca_file;
      ho.request_timeout_ms = options_.timeout_ms;
      ho.stop = &syncer_->stop_flag();
      return make_http_transport(ho);
    });
  }

  int run() override {
    const auto t0 = std::chrono::steady_clock::now();
    auto elapsed = [&] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    };
    std::unique_ptr<Watcher> watcher;
    std::thread watch_thread;
    if (!options_.once) {
      // Watch before the first walk: a change during the reconcile is then seen by one or both.
      watcher = std::make_unique<Watcher>(root_, ignore_, [this](FsEvent e) { syncer_->on_event(std::move(e)); });
      if (auto st = watcher->start(); !st.ok()) {
        std::fprintf(stderr, "chiron push: %s\n", st.to_string().c_str());
        return 1;
      }
      watch_thread = std::thread([&] { watcher->run(); });
      progress_.note("watching " + root_ + " dirs=" + std::to_string(watcher->watch_count()));
    }
    auto finish = [&](int code) {
      if (watcher) {
        watcher->stop();
        watch_thread.join();
      }
      progress_.finish();
      return code;
    };
    auto fail_fatal = [&] {
      progress_.finish();
      std::fprintf(stderr, "chiron push: %s\n", syncer_->fatal().c_str());
      return finish(1);
    };
    Status st = syncer_->reconcile();
    if (!syncer_->fatal().empty()) return fail_fatal();
    if (!st.ok()) {
      if (syncer_->stopping()) return finish(0);
      progress_.finish();
      std::fprintf(stderr, "chiron push: %s\n", st.message().c_str());
      return finish(1);
    }
    progress_.summary(elapsed());
    if (options_.once) return finish(syncer_->errors() == 0 ? 0 : 1);
    syncer_->run_watch();
    if (!syncer_->fatal().empty()) return fail_fatal();
    progress_.set_state(SyncState::kStopping);
    return finish(0);
  }

  void stop() override { syncer_->request_stop(); }
  void tick() override { progress_.tick(); }

 private:
  PushOptions options_;
  ServerUrl server_;
  std::string root_;
  SharedIgnore ignore_;
  Progress progress_;
  std::unique_ptr<Syncer> syncer_;
};

// The token's channel (GET /api/v1/push/channel). A server that is not up yet is retried for
// up to a minute (the learner may start the client first); a refused token fails at once.
Result<std::string> resolve_channel(const ServerUrl& server, const PushOptions& options) {
  HttpOptions ho;
  ho.server = server;
  ho.token = options.token;
  ho.ca_file = options.ca_file;
  ho.request_timeout_ms = options.timeout_ms;
  auto transport = make_http_transport(ho);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  int64_t wait_ms = 200;
  for (;;) {
    auto res = transport->send({"GET", "/api/v1/push/channel", {}, {}});
    if (res.ok() && res->status == 200) {
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(res->body, ec);
      const boost::json::value* name = nullptr;
      if (!ec && v.is_object())
        if (auto* c = v.as_object().if_contains("channel"); c && c->is_object()) name = c->as_object().if_contains("name");
      if (!name || !name->is_string() || name->as_string().empty())
        return Status::internal("the server's answer to GET /api/v1/push/channel has no channel name");
      return std::string(name->as_string());
    }
    if (res.ok() && (res->status == 401 || res->status == 403))
      return Status::unauthenticated("the server refused the push token (copy it again from /settings)");
    if (res.ok() && res->status == 404)
      return Status::failed_precondition("this server has no GET /api/v1/push/channel: pass --channel NAME");
    if (std::chrono::steady_clock::now() > deadline)
      return Status::unavailable("cannot reach " + options.server + ": " +
                                 (res.ok() ? "HTTP " + std::to_string(res->status) : res.status().message()));
    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms));
    wait_ms = std::min<int64_t>(wait_ms * 2, 5000);
  }
}

}  // namespace

Result<std::unique_ptr<PushClient>> PushClient::create(PushOptions options) {
  CHIRON_ASSIGN_OR_RETURN(ServerUrl server, parse_server_url(options.server));
  if (options.token.empty()) return Status::invalid_argument("--token is required (the channel's push token)");
  char real[PATH_MAX];
  if (!::realpath(options.dir.c_str(), real)) return Status::from_errno("project directory " + options.dir, errno);
  struct stat st {};
  if (::stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) return Status::invalid_argument(options.dir + " is not a directory");
  if (options.jobs < 1 || options.jobs > 64) return Status::invalid_argument("--jobs must be 1..64");
  if (options.debounce_ms < 0 || options.debounce_ms > 60'000) return Status::invalid_argument("--debounce-ms must be 0..60000");
  if (options.debounce_max_ms < options.debounce_ms) options.debounce_max_ms = options.debounce_ms;
  if (options.channel.empty()) {
    CHIRON_ASSIGN_OR_RETURN(options.channel, resolve_channel(server, options));
  }
  return std::unique_ptr<PushClient>(new PushClientImpl(std::move(options), std::move(server), real));
}

}  // namespace chiron::push
