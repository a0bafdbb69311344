#pragma once
// The name server's data-plane verbs (the elastic-name-server paper's REG/REM/REQ/ALG/HB plus
// STATE, LIST, PING), as a pure executor: argv in, a neutral Reply out. The front end
// (`chiron ns`) encodes the Reply as RESP2 with net's resp_* helpers; keeping ns free of
// chiron_net lets the same executor serve other transports and be tested without sockets.
//
//   REG service ip:port [weight]          +OK         weight 1..10000, default 1; re-REG updates it
//   REM service ip:port                   :1 / :0     removed / was not registered
//   HB service ip:port [load=N] [weight=NN%] [drain]
//                                         +OK         all-or-nothing; drain is sticky until STATE ready
//   REQ service [key]                     $ip:port    key feeds chash/maglev
//   ALG service name                      +OK         names in balancer.h (rr, swrr, edf, ...)
//   STATE service ip:port ready|drain|maint   +OK
//   LIST service                          *n of "ip:port weight=W state=S health=H picks=N"
//   PING [msg]                            +PONG / $msg
//   COMMAND [DOCS ...]                    *0          redis-cli asks on connect
// Verbs are case-insensitive. Errors follow Redis wording ("wrong number of arguments for
// 'reg' command", "unknown command 'X'"). New services use the "rr" algorithm (the paper's
// default); ALG switches it. Malformed input yields an error Reply and never changes state.
//
// Thread-safe (the Registry is).

#include <cstdint>
#include <string>
#include <vector>

#include "ns/registry.h"

namespace chiron::ns {

// A reply in protocol-neutral form: RESP maps each kind 1:1 (+ - : $ *of-bulks).
struct Reply {
  enum class Kind : uint8_t { kSimple, kError, kInteger, kBulk, kArray };
  Kind kind = Kind::kSimple;
  std::string text;                // simple, error (without the "ERR " prefix), bulk
  int64_t integer = 0;             // integer
  std::vector<std::string> items;  // array of bulk strings

  static Reply simple(std::string s) { return {Kind::kSimple, std::move(s), 0, {}}; }
  static Reply error(std::string s) { return {Kind::kError, std::move(s), 0, {}}; }
  static Reply number(int64_t n) { return {Kind::kInteger, {}, n, {}}; }
  static Reply bulk(std::string s) { return {Kind::kBulk, std::move(s), 0, {}}; }
  static Reply array(std::vector<std::string> v) { return {Kind::kArray, {}, 0, std::move(v)}; }
  bool is_error() const { return kind == Kind::kError; }
};

// Runs one command. args[0] is the verb; an empty args is an error reply.
Reply execute(Registry& registry, const std::vector<std::string>& args);

}  // namespace chiron::ns
