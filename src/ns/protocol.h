#pragma once
// The name server's data-plane verbs (the elastic-name-server paper's REG/REM/REQ/ALG/HB plus
// STATE, LIST, PING), as a pure executor: argv in, a neutral Reply out. The front end
// (`chiron ns`) encodes the Reply as RESP2 with net's resp_* helpers; keeping ns free of
// chiron_net lets the same executor serve other transports and be tested without sockets.
//
//   REG service ip:port [weight] [token]  +OK         weight 1..10000, default 1; re-REG updates it
//   REM service ip:port [token]           :1 / :0     removed / was not registered      (admin or token)
//   HB service ip:port [load=N] [weight=NN%] [drain] [token]
//                                         +OK         renews the lease; all-or-nothing; drain is
//                                                     sticky until STATE ready
//   REQ service [key]                     $ip:port    key feeds chash/maglev
//   ALG service name                      +OK         names in balancer.h (rr, swrr, edf, ...)  (admin)
//   STATE service ip:port ready|drain|maint   +OK                                          (admin)
//   LIST service                          *n of "ip:port weight=W state=S health=H picks=N"
//   AUTH token                            +OK         admin token for the rest of the connection
//   PING [msg]                            +PONG / $msg
//   COMMAND [DOCS ...]                    *0          redis-cli asks on connect
// Verbs are case-insensitive. Errors follow Redis wording ("wrong number of arguments for
// 'reg' command", "unknown command 'X'"). New services use the "rr" algorithm (the paper's
// default); ALG switches it. Malformed input yields an error Reply and never changes state.
//
// Auth (auth.h): `token` is a signed registration token "<ts>.<nonce>.<mac>" (it is told from
// a weight or heartbeat field by its dots). When the service has a secret, REG and HB need a
// valid token for their verb; REM needs one or an admin session. ALG and STATE need an admin
// session when Security::admin_token is set (AUTH on the connection); without an admin
// token they are open, as on a fresh development install (the front end refuses to listen
// on a non-loopback address without one).
//
// Thread-safe (the Registry and Verifier are); a Session belongs to one connection.

#include <cstdint>
#include <string>
#include <vector>

#include "ns/auth.h"
#include "ns/registry.h"

namespace chiron::ns {

// A reply in protocol-neutral form: RESP maps each kind 1:1 (+ - : $ *of-bulks).
struct Reply {
  enum class Kind : uint8_t { kSimple, kError, kInteger, kBulk, kArray };
  Kind kind = Kind::kSimple;
  std::string text;                // simple, error (without the "ERR " prefix), bulk
  int64_t integer = 0;             // integer
  std::vector<std::string> items;  // array of bulk strings
  const char* error_code = "ERR";  // RESP error prefix: ERR, NOAUTH, WRONGPASS

  static Reply simple(std::string s) { return {Kind::kSimple, std::move(s), 0, {}}; }
  static Reply error(std::string s) { return {Kind::kError, std::move(s), 0, {}}; }
  static Reply number(int64_t n) { return {Kind::kInteger, {}, n, {}}; }
  static Reply bulk(std::string s) { return {Kind::kBulk, std::move(s), 0, {}}; }
  static Reply array(std::vector<std::string> v) { return {Kind::kArray, {}, 0, std::move(v)}; }
  bool is_error() const { return kind == Kind::kError; }
};

// Per-connection state.
struct Session {
  bool admin = false;  // AUTH succeeded
};

// Process-wide auth settings. The verifier is required when any service has a secret.
struct Security {
  std::string admin_token;       // "" = admin verbs open
  Verifier* verifier = nullptr;  // borrowed
};

// Runs one command. args[0] is the verb; an empty args is an error reply.
Reply execute(Registry& registry, const std::vector<std::string>& args, Session& session, const Security& security);
// "ip:port" as a server id: a host and a non-zero port, kept as the client wrote it. Shared by
// the verbs and the admin API.
Status validate_server_id(std::string_view id);

// The error reply of a REQ whose pick failed with st (for front ends with a fast REQ path
// that call Registry::pick_into themselves).
Reply req_failure(std::string_view service, const Status& st);

// No auth configured, throwaway session: for tests and tools.
Reply execute(Registry& registry, const std::vector<std::string>& args);


}  // namespace chiron::ns
