// The data plane: one RESP/inline command → ns::execute → reply, held until durable when the
// command changed stored state.

#include <chrono>

#include "common/strings.h"
#include "nameserver/name_server_impl.h"

namespace chiron::nameserver {
namespace {

constexpr uint64_t kAdminSession = 1;  // LineConnectionInfo::user_flags bit: AUTH succeeded

// Set by on_change() (which runs synchronously inside execute(), on this thread) to the
// store sequence number of the last durable change the current command made: the command's
// reply must wait until that sequence number is committed.
thread_local uint64_t t_journal_seq = 0;

}  // namespace

void note_journal_seq(uint64_t seq) { t_journal_seq = seq; }

uint64_t take_journal_seq() {
  const uint64_t seq = t_journal_seq;
  t_journal_seq = 0;
  return seq;
}

std::string encode_resp(const ns::Reply& r) {
  switch (r.kind) {
    case ns::Reply::Kind::kSimple: return net::resp_simple(r.text);
    case ns::Reply::Kind::kError: return net::resp_error(r.text, r.error_code);
    case ns::Reply::Kind::kInteger: return net::resp_integer(r.integer);
    case ns::Reply::Kind::kBulk: return net::resp_bulk(r.text);
    case ns::Reply::Kind::kArray: return net::resp_bulk_array(r.items);
  }
  return net::resp_error("internal: unknown reply kind");
}

// REQ, the hot path: no Reply object, no verb dispatch; the picked id is encoded straight
// into the reply bytes (same bytes as execute() + encode_resp()).
std::string NameServer::Impl::fast_req(const net::LineConnectionInfo& conn, const net::RespCommand& cmd,
                                       std::chrono::steady_clock::time_point t0) {
  const std::string_view service = cmd.args[1];
  const std::string_view key = cmd.args.size() == 3 ? std::string_view(cmd.args[2]) : std::string_view();
  thread_local std::string id;
  id.clear();
  Status st = registry.pick_into(service, key, &id);
  std::string bytes;
  if (st.ok()) {
    bytes.reserve(id.size() + 16);
    bytes += '$';
    bytes += std::to_string(id.size());
    bytes += "\r\n";
    bytes += id;
    bytes += "\r\n";
  } else {
    bytes = encode_resp(ns::req_failure(service, st));
  }
  const auto us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
  req_latency.record(us);
  if (request_log && request_log->sample()) {
    request_log->write(RequestLogEntry{.remote = conn.remote_address,
                                       .cmd = "REQ",
                                       .service = service,
                                       .arg = key,
                                       .result = st.ok() ? std::string_view(id) : std::string_view(st.message()),
                                       .us = us});
  }
  return bytes;
}

std::string NameServer::Impl::handle_command(const net::LineConnectionInfo& conn, net::RespCommand& cmd) {
  commands.fetch_add(1, std::memory_order_relaxed);
  const auto t0 = std::chrono::steady_clock::now();
  if ((cmd.args.size() == 2 || cmd.args.size() == 3) && iequals(cmd.args[0], "REQ")) return fast_req(conn, cmd, t0);
  ns::Session session{.admin = (conn.user_flags & kAdminSession) != 0};
  t_journal_seq = 0;
  ns::Reply r = ns::execute(registry, cmd.args, session, security);
  const uint64_t seq = t_journal_seq;
  t_journal_seq = 0;
  conn.user_flags = session.admin ? (conn.user_flags | kAdminSession) : (conn.user_flags & ~kAdminSession);

  const bool is_req = iequals(cmd.args[0], "REQ");
  const auto us = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count());
  if (is_req) req_latency.record(us);
  if (r.is_error() && r.error_code != std::string_view("ERR")) auth_failures.fetch_add(1, std::memory_order_relaxed);
  const bool log_it = request_log && !iequals(cmd.args[0], "HB") && !iequals(cmd.args[0], "PING") &&
                      !iequals(cmd.args[0], "COMMAND") && (!is_req || request_log->sample());
  if (log_it) {
    RequestLogEntry e;
    e.remote = conn.remote_address;
    e.cmd = cmd.args[0];
    e.service = cmd.args.size() > 1 ? std::string_view(cmd.args[1]) : std::string_view();
    // Never log AUTH's token or a registration token.
    e.arg = cmd.args.size() > 2 && !iequals(cmd.args[0], "AUTH") ? std::string_view(cmd.args[2]) : std::string_view();
    if (iequals(cmd.args[0], "AUTH")) e.service = {};
    e.result = r.is_error() ? std::string_view(r.text) : r.kind == ns::Reply::Kind::kInteger ? "" : std::string_view(r.text);
    e.us = us;
    request_log->write(e);
  }

  std::string bytes = encode_resp(r);
  if (seq == 0 || !store) return bytes;
  // The reply waits until the change is durable: an acknowledged write survives kill -9.
  store->when_durable(seq, [this, reply = conn.defer(), bytes = std::move(bytes), t0](Status st) mutable {
    write_latency.record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count()));
    if (!st.ok()) return reply(net::resp_error("not persisted: " + st.message() + " (the change may be lost on restart)"));
    reply(std::move(bytes));
  });
  return {};
}

}  // namespace chiron::nameserver
